package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackpropCommandTest {

    @Test
    void shouldReportTheThreeStrategiesWithTheExpectedShape(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("backprop", "--depth", "16", "--width", "32", "--batch", "8", "--steps", "1",
                "--sweep", "4,8", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("strategies");
        JsonNode vanilla = s.get("vanilla");
        JsonNode recompute = s.get("recompute");
        JsonNode checkpointed = s.get("checkpointed");
        int n = 2 * 16 + 1; // Linear+ReLU per block, then the output Linear
        assertThat(vanilla.get("forward_evaluations").asLong()).isEqualTo(n);
        assertThat(recompute.get("forward_evaluations").asLong()).isGreaterThan((long) n * n / 2 - n);
        assertThat(checkpointed.get("forward_evaluations").asLong()).isBetween((long) n + 1, 2L * n);
        assertThat(recompute.get("peak_activation_bytes").asLong())
                .isLessThan(checkpointed.get("peak_activation_bytes").asLong());
        assertThat(checkpointed.get("peak_activation_bytes").asLong())
                .isLessThan(vanilla.get("peak_activation_bytes").asLong());
        assertThat(checkpointed.get("checkpoint_interval").asInt()).isEqualTo((int) Math.ceil(Math.sqrt(n)));
        assertThat(Files.readAllLines(out.resolve("sweep.csv"))).hasSize(1 + 2 * 3);
        assertThat(Files.size(out.resolve("backprop-memory.png"))).isGreaterThan(10_000);
    }

    @Test
    void shouldRejectAZeroDepth(@TempDir Path out) {
        CliRunner.Run run = CliRunner.run("backprop", "--depth", "0", "--out", out.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--depth").contains("depth 0");
    }
}
