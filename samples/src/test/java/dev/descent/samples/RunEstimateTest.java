package dev.descent.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RunEstimateTest {
    private static final long S = 1_000_000_000L;

    @Test
    void shouldAnnounceALongRunOnceAfterTheFirstSeconds() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunEstimate e = new RunEstimate(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        // 0.5 s per step, 4690 steps: about 39 minutes
        for (int step = 1; step <= 20; step++) {
            e.onStep(step, 4690, step * S / 2);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertThat(out).startsWith("estimate: about 39 min 0").contains("for 4690 steps");
        assertThat(out.lines().count()).isEqualTo(1);
    }

    @Test
    void shouldStayQuietOnShortRuns() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        RunEstimate e = new RunEstimate(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        for (int step = 1; step <= 400; step++) {
            e.onStep(step, 469, step * S / 100); // 4.7 s in all
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(RunEstimate.duration(3725)).isEqualTo("1 h 02 min");
    }
}
