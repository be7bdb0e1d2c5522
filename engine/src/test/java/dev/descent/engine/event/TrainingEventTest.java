package dev.descent.engine.event;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingEventTest {
    @Test
    void gradientStatsPrintTheirNumbersNotArrayIdentities() {
        TrainingEvent.GradientStats g = new TrainingEvent.GradientStats("j", 7, List.of("fc1", "fc2"),
                new double[] {0.25, 3.5}, new double[] {1e-3, 2e-2}, 3.51);
        assertThat(g.toString())
                .isEqualTo("GradientStats[job=j, step=7, global=3.510, fc1: norm=0.2500 update=0.00100,"
                        + " fc2: norm=3.500 update=0.0200]")
                .doesNotContain("[D@");
    }
}
