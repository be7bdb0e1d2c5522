package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story double-descent` end to end on a tiny setting: n = 150 MNIST examples, two small networks. */
class DoubleDescentStoryTest {
    static Path dataDir;

    @BeforeAll
    static void findTheData() {
        for (Path candidate : List.of(Path.of("../data"), Path.of("data"))) {
            if (Files.isDirectory(candidate) && countOrZero(candidate) > 0) {
                dataDir = candidate.toAbsolutePath().normalize();
            }
        }
        if (dataDir == null && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("MNIST is missing in CI: scripts/fetch-data.sh must run first");
        }
        assumeTrue(dataDir != null, "MNIST not found in ../data: run scripts/fetch-data.sh");
    }

    private static int countOrZero(Path dir) {
        try {
            return Corpus.MNIST.count(Split.TRAIN, dir);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Test
    void shouldPeakAtTheInterpolationThresholdAndDescendAgain(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("not/yet/there"); // as a user's --out: the story creates it
        int n = 150;
        CliRunner.Run r = CliRunner.run("story", "double-descent", "--data-dir", dataDir.toString(), "--n", "150",
                "--test-examples", "400", "--features-hi", "5", "--coarse-points", "6", "--nn-widths", "2,32",
                "--nn-epochs", "3", "--nn-test-examples", "200", "--seed", "3", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("n").asInt()).isEqualTo(n);
        JsonNode points = s.get("points");
        assertThat(points.size()).isGreaterThan(10);
        double peakMse = 0;
        int peakAt = 0;
        double peakNorm = 0;
        int normAt = 0;
        for (JsonNode p : points) {
            for (String key : List.of("features", "train_mse", "test_mse", "test_error", "coef_norm")) {
                assertThat(p.has(key)).as(key).isTrue();
            }
            int features = p.get("features").asInt();
            if (features >= n) {
                assertThat(p.get("train_mse").asDouble()).as("interpolates at N=%d", features).isLessThan(1e-8);
            } else {
                assertThat(p.get("train_mse").asDouble()).as("cannot interpolate at N=%d", features).isGreaterThan(1e-6);
            }
            if (p.get("test_mse").asDouble() > peakMse) {
                peakMse = p.get("test_mse").asDouble();
                peakAt = features;
            }
            if (p.get("coef_norm").asDouble() > peakNorm) {
                peakNorm = p.get("coef_norm").asDouble();
                normAt = features;
            }
        }
        assertThat(peakAt).as("test loss peak").isBetween((int) (0.9 * n), (int) (1.1 * n));
        assertThat(normAt).as("norm peak").isBetween((int) (0.9 * n), (int) (1.1 * n));
        JsonNode last = points.get(points.size() - 1);
        assertThat(last.get("test_mse").asDouble()).as("descends again").isLessThan(peakMse / 5);
        JsonNode f = s.get("findings");
        assertThat(last.get("test_error").asDouble()).isLessThan(f.get("peak_test_error").asDouble());
        JsonNode ridge = s.get("ridge_points");
        assertThat(ridge.size()).isEqualTo(2 * points.size());
        for (JsonNode rf : f.get("ridge")) {
            assertThat(rf.get("peak_test_mse").asDouble()).as("ridge flattens the peak").isLessThan(peakMse / 2);
        }
        assertThat(s.get("nn").get("points").size()).isEqualTo(2);
        assertThat(s.get("nn").get("points").get(1).get("parameters").asLong()).isEqualTo(784 * 32 + 32 + 33 * 10);
        assertThat(Files.readAllLines(out.resolve("points.csv"))).hasSize(1 + 3 * points.size());
        assertThat(Files.size(out.resolve("double-descent.png"))).isGreaterThan(10_000);
        assertThat(Files.size(out.resolve("double-descent-nn.png"))).isGreaterThan(10_000);
    }

    @Test
    void shouldRejectABadFeatureRange(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "double-descent", "--features-lo", "2", "--features-hi", "1",
                "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--features-lo").contains("2.0").contains("1.0");
    }
}
