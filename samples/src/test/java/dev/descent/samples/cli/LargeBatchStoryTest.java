package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `descent story large-batch` on a tiny sweep (2 batch sizes, 1 epoch, 1,024 Fashion-MNIST examples, and both trained
 * to train loss 0.3 for the sharpness comparison): stopped after two points, continued by the same command, then
 * checked: every point, the figures and summary.json.
 */
class LargeBatchStoryTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void findTheData() {
        StoryCommandTest.findTheData();
    }

    private static String[] args(Path out, String... extra) {
        return sweep(out, "1", extra);
    }

    private static String[] sweep(Path out, String epochs, String... extra) {
        List<String> a = new ArrayList<>(List.of("story", "large-batch", "--data-dir",
                StoryCommandTest.dataDir.toString(), "--batches", "32,512", "--workers", "1,2", "--epochs", epochs,
                "--train-limit", "1024", "--test-limit", "500", "--sharpness-examples", "200", "--power-iterations", "3",
                "--interpolation-points", "5", "--eval-examples", "300", "--micro-batch", "256", "--reference-batch",
                "32", "--no-batch-norm", "--converged-train-limit", "1024", "--target-loss", "0.3",
                "--max-epochs-to-target", "60", "--out", out.toString())); // plain MLP: 2 workers = 1 worker, see below
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    @Test
    void shouldContinueAStoppedSweepAndWriteEveryPointFigureAndTheSummary(@TempDir Path out) throws Exception {
        CliRunner.Run first = CliRunner.run(args(out, "--max-new-points", "2"));
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(first.out()).contains("stopping after 2 new point(s)");
        Map<Path, byte[]> before = new HashMap<>();
        try (Stream<Path> files = Files.list(out.resolve("points"))) {
            for (Path p : files.filter(f -> f.toString().endsWith(".json")).toList()) {
                before.put(p, Files.readAllBytes(p));
            }
        }
        assertThat(before).hasSize(2);
        assertThat(out.resolve("summary.json")).doesNotExist();

        CliRunner.Run second = CliRunner.run(args(out));
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("continuing: 2 of 6 points were done earlier").doesNotContain("[1/6]")
                .doesNotContain("[2/6]").contains("[3/6]").contains("[6/6]");
        for (Map.Entry<Path, byte[]> e : before.entrySet()) {
            assertThat(Files.readAllBytes(e.getKey())).as("%s was not recomputed", e.getKey()).isEqualTo(e.getValue());
        }

        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        JsonNode points = s.get("points");
        assertThat(points).hasSize(6);
        Map<String, JsonNode> byId = new HashMap<>();
        for (JsonNode p : points) {
            for (String f : List.of("batch", "workers", "schedule", "lr", "seconds_per_epoch", "examples_per_second",
                    "test_accuracy", "lambda_max", "epsilon_sharpness")) {
                assertThat(p.has(f)).as("point %s has %s", p, f).isTrue();
            }
            assertThat(p.get("schedule").asText()).isIn("fixed", "linear-warmup");
            assertThat(p.get("diverged").asBoolean()).as(p.toString()).isFalse();
            assertThat(p.get("seconds_per_epoch").asDouble()).isPositive();
            assertThat(p.get("examples_per_second").asDouble())
                    .isCloseTo(1024 / p.get("seconds_per_epoch").asDouble(), org.assertj.core.data.Percentage.withPercentage(0.01));
            assertThat(p.get("test_accuracy").asDouble()).isBetween(0.05, 1.0);
            byId.put(p.get("batch").asInt() + "/" + p.get("workers").asInt() + "/" + p.get("schedule").asText(), p);
        }
        // the linear scaling rule: lr(B) = 0.02 * B / 128
        assertThat(byId.get("512/1/linear-warmup").get("lr").asDouble()).isCloseTo(0.08, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(byId.get("32/1/linear-warmup").get("lr").asDouble()).isCloseTo(0.005, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(byId.get("512/1/linear-warmup").get("warmup_steps").asLong()).isEqualTo(2);
        assertThat(byId.get("512/1/fixed").get("steps").asLong()).isEqualTo(2);
        for (int b : new int[] {32, 512}) {
            JsonNode one = byId.get(b + "/1/fixed");
            JsonNode two = byId.get(b + "/2/fixed");
            // 2 workers compute the same update up to float rounding: the same model, nearly the same accuracy
            assertThat(two.get("test_accuracy").asDouble()).as("batch %d", b)
                    .isCloseTo(one.get("test_accuracy").asDouble(), org.assertj.core.data.Offset.offset(0.02));
            assertThat(one.get("lambda_max").isNull()).isFalse();
            assertThat(one.get("epsilon_sharpness").asDouble()).isPositive();
            assertThat(two.get("lambda_max").isNull()).as("sharpness is measured on 1-worker solutions").isTrue();
        }
        // Keskar et al.'s comparison: both batch sizes trained to the same train loss (0.3), the larger one in more
        // epochs, ends sharper, and the interpolation between them rises faster beyond the large-batch end
        JsonNode conv = s.get("converged");
        assertThat(conv).hasSize(2);
        JsonNode c32 = conv.get(0);
        JsonNode c512 = conv.get(1);
        for (JsonNode c : List.of(c32, c512)) {
            assertThat(c.get("reached_target").asBoolean()).as(c.toString()).isTrue();
            assertThat(c.get("train_loss").asDouble()).isLessThanOrEqualTo(0.3);
            assertThat(c.get("steps").asLong()).isPositive();
        }
        assertThat(c512.get("epochs").asDouble()).as("the large batch needs more epochs")
                .isGreaterThan(c32.get("epochs").asDouble());
        assertThat(c512.get("lambda_max").asDouble()).as("lambda_max of the large-batch solution")
                .isGreaterThan(2 * c32.get("lambda_max").asDouble());
        assertThat(c512.get("epsilon_sharpness").asDouble()).isGreaterThan(c32.get("epsilon_sharpness").asDouble());
        JsonNode line = s.get("interpolation");
        assertThat(line.get("solutions").asText()).contains("target train loss");
        assertThat(line.get("train_loss_rise_beyond_large_batch").get("0.500").asDouble())
                .isGreaterThan(2 * line.get("train_loss_rise_beyond_small_batch").get("0.500").asDouble());
        assertThat(Files.readAllLines(out.resolve("converged.csv"))).hasSize(1 + 2);
        assertThat(out.resolve("points").resolve("c-b00512.descent")).isRegularFile();
        assertThat(s.get("gradient_noise_scale").asDouble()).as("B_simple of the reference run").isPositive();
        assertThat(s.get("gradient_noise_scale_run").asText()).isEqualTo("b00032-w2-fixed");
        assertThat(s.get("interpolation").get("points").asInt()).isEqualTo(5);
        assertThat(Files.readAllLines(out.resolve("interpolation.csv"))).hasSize(1 + 5);
        assertThat(Files.readAllLines(out.resolve("points.csv"))).hasSize(1 + 6);
        for (String png : List.of("time-per-epoch.png", "accuracy-vs-batch.png", "sharpness-vs-batch.png",
                "interpolation.png", "noise-scale.png")) {
            assertThat(out.resolve(png)).isRegularFile();
            assertThat(Files.size(out.resolve(png))).isGreaterThan(5_000);
        }

        CliRunner.Run other = CliRunner.run(sweep(out, "2"));
        assertThat(other.exitCode()).isNotZero();
        assertThat(other.err()).contains("belongs to a sweep with other settings").contains("--fresh");
    }

    @Test
    void shouldTrainTheBatchNormMlpByDefaultAndInterpolateBetweenItsSolutions(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "large-batch", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--batches", "16,64", "--workers", "1", "--epochs", "2", "--train-limit", "512", "--test-limit", "300",
                "--sharpness-examples", "100", "--power-iterations", "2", "--interpolation-points", "5",
                "--eval-examples", "200", "--converged-train-limit", "512", "--target-loss", "0.5",
                "--max-epochs-to-target", "20", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("MLP 784-256-128-10 (BatchNorm)");
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("config").get("model").asText()).contains("BatchNorm");
        for (JsonNode p : s.get("points")) {
            assertThat(p.get("test_accuracy").asDouble()).isBetween(0.3, 1.0);
        }
        assertThat(s.get("converged")).hasSize(2);
        // at alpha = 1 the interpolation evaluates the batch-64 network itself (BatchNorm statistics recomputed from
        // the evaluation batch): a trained network, its train loss below chance's ln 10
        List<String> csv = Files.readAllLines(out.resolve("interpolation.csv"));
        assertThat(csv).hasSize(1 + 5); // alpha = -0.5, 0, 0.5, 1, 1.5
        double atOne = Double.parseDouble(csv.get(4).split(",")[3]);
        assertThat(csv.get(4).split(",")[1]).isEqualTo("1.000000");
        assertThat(atOne).isFinite().isLessThan(Math.log(10));
    }

    @Test
    void shouldRejectASweepWithoutOneWorker(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "large-batch", "--workers", "2", "--out", out.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("--workers must be counts >= 1 including 1");
    }
}
