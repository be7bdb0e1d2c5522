package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench train} and {@code bench gemm} end to end: the summary files bench/compare-*.sh read. */
class BenchCommandTest {

    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    @Test
    void trainShouldReportTheWholeRunAndEachEpoch(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("bench", "train", "--widths", "32", "--batch", "256", "--epochs", "2",
                "--data-dir", TrainCommandTest.dataDir.toString(), "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("library").asText()).isEqualTo("descent");
        assertThat(s.get("widths").asText()).isEqualTo("32");
        assertThat(s.get("test_accuracy").asDouble()).as("well above chance after 2 epochs").isGreaterThan(0.7);
        JsonNode perEpoch = s.get("epoch_examples_per_second");
        assertThat(perEpoch).hasSize(2);
        double whole = s.get("examples_per_second").asDouble();
        double e1 = perEpoch.get(0).asDouble();
        double e2 = perEpoch.get(1).asDouble();
        assertThat(e1).isPositive();
        assertThat(e2).isPositive();
        // the whole-run rate is the examples-weighted harmonic mean of the epochs: between the two
        assertThat(whole).isBetween(Math.min(e1, e2) * 0.999, Math.max(e1, e2) * 1.001);
        assertThat(120_000 / whole).isCloseTo(s.get("train_seconds").asDouble(), org.assertj.core.data.Percentage
                .withPercentage(1));
    }

    @Test
    void trainShouldRunTheCnnOnALimitedSet(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("bench", "train", "--model", "cnn", "--train-limit", "512", "--batch", "128",
                "--data-dir", TrainCommandTest.dataDir.toString(), "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("CNN (LeNet-like)");
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("model").asText()).isEqualTo("cnn");
        assertThat(s.get("train_limit").asInt()).isEqualTo(512);
        assertThat(s.get("epoch_examples_per_second")).hasSize(1);
        // 4 steps of 128 examples: the rate and the time agree on 512 examples, not the 60,000 of the full set
        assertThat(512 / s.get("examples_per_second").asDouble()).isCloseTo(s.get("train_seconds").asDouble(),
                org.assertj.core.data.Percentage.withPercentage(1));
    }

    @Test
    void trainShouldRejectAnUnknownModel(@TempDir Path out) {
        CliRunner.Run run = CliRunner.run("bench", "train", "--model", "rnn", "--out", out.toString());
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--model must be mlp or cnn");
    }

    @Test
    void landscapeShouldMeasureOneAndTwoEvaluatorsInOneEngine(@TempDir Path out) throws Exception {
        CliRunner.Run trained = CliRunner.run("train", "--data-dir", TrainCommandTest.dataDir.toString(),
                "--train-limit", "1000", "--epochs", "1", "--widths", "16", "--workers", "1",
                "--out", out.resolve("run").toString());
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        CliRunner.Run run = CliRunner.run("bench", "landscape", "--model", out.resolve("run/model.descent").toString(),
                "--grid", "3", "--examples", "200", "--rounds", "2", "--data-dir", TrainCommandTest.dataDir.toString(),
                "--out", out.resolve("bench").toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("bench/summary.json").toFile());
        assertThat(s.get("grid").asInt()).isEqualTo(3);
        assertThat(s.get("mode").asText()).isEqualTo("precomputed");
        assertThat(s.get("rounds_1")).hasSize(2);
        assertThat(s.get("rounds_2")).hasSize(2);
        double one = s.get("points_per_second_1").asDouble();
        double two = s.get("points_per_second_2").asDouble();
        assertThat(one).isPositive();
        assertThat(two).isPositive();
        assertThat(s.get("scaling").asDouble()).isCloseTo(two / one, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(run.out()).contains("round 2:").contains("warm engine");
        CliRunner.Run bad = CliRunner.run("bench", "landscape", "--model", out.resolve("run/model.descent").toString(),
                "--grid", "1", "--out", out.resolve("bad").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--grid").contains("grid 1");
    }

    @Test
    void gemmShouldMeasureTheRequestedShape(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("bench", "gemm", "--layout", "NT", "--m", "64", "--n", "48", "--k", "40",
                "--seconds", "0.2", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.toString()).contains("NT");
        assertThat(run.out()).contains("gemm NT 64x48x40");
        // which kernel shape ran and on which CPU: printed and in the summary
        String shape = dev.descent.sdk.Descent.kernels().gemmShape();
        assertThat(s.get("gemm_shape").asText()).isEqualTo(shape).containsPattern("\\d+:\\d+x\\d+(u\\d+)? .*kc=\\d+");
        assertThat(s.get("cpu").asText()).isEqualTo(dev.descent.sdk.Descent.kernels().cpu()).contains("caches:");
        assertThat(run.out()).contains("GEMM shape: " + shape).contains("CPU: ");
    }
}
