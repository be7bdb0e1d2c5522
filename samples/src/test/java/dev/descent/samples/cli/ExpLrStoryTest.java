package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story exp-lr` on a few hundred Fashion-MNIST examples: same losses, exponentially larger weights. */
class ExpLrStoryTest {
    @BeforeAll
    static void findTheData() {
        StoryCommandTest.findTheData();
    }

    @Test
    void weightDecayAndTheExponentialScheduleShouldTrainTheSameFunction(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "exp-lr", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--train-limit", "512", "--epochs", "2", "--widths", "32,16", "--batch", "64", "--lr", "0.1",
                "--weight-decay", "0.05", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("steps").asInt()).isEqualTo(16);
        assertThat(s.get("max_abs_loss_difference").asDouble()).as("the per-step losses coincide").isLessThan(1e-4);
        double predicted = s.get("weight_norm_ratio_predicted").asDouble();
        assertThat(predicted).isCloseTo(Math.pow(1 - 0.1 * 0.05, -16), within(1e-9));
        assertThat(s.get("weight_norm_ratio_final").asDouble()).as("run 2's weights grew by alpha^-t")
                .isCloseTo(predicted, within(1e-3 * predicted));
        double a = s.get("test_accuracy_weight_decay").asDouble();
        double b = s.get("test_accuracy_exponential").asDouble();
        assertThat(a).isGreaterThan(0.3);
        assertThat(Math.abs(a - b)).as("same function, up to the running BatchNorm statistics").isLessThan(0.05);
        assertThat(s.get("final_lr_exponential").asDouble()).isGreaterThan(0.1 * Math.pow(0.995, -30));
        assertThat(Files.readAllLines(out.resolve("steps.csv"))).hasSize(1 + 16);
        assertThat(Files.readAllLines(out.resolve("epochs.csv"))).hasSize(1 + 3);
        assertThat(out.resolve("exp-lr.png")).isNotEmptyFile();
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).as("no trajectory left behind")
                    .containsExactly("epochs.csv", "exp-lr.png", "steps.csv", "summary.json");
        }
    }

    @Test
    void shouldHoldForAStrongWeightDecayToo(@TempDir Path out) throws Exception {
        // lr·wd = 0.05: the weights shrink by 5% per step in run 1 and grow by 1/0.95 per step in run 2
        CliRunner.Run r = CliRunner.run("story", "exp-lr", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--train-limit", "256", "--epochs", "1", "--widths", "16,8", "--batch", "64", "--lr", "0.1",
                "--weight-decay", "0.5", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("weight_norm_ratio_final").asDouble()).isCloseTo(Math.pow(0.95, -4), within(1e-3));
        assertThat(s.get("max_abs_loss_difference").asDouble()).isLessThan(1e-4);
    }
}
