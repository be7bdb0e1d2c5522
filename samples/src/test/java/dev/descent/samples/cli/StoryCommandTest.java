package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.sdk.Corpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story ...` end to end, tiny: a few hundred Fashion-MNIST examples, one epoch, small grids. */
class StoryCommandTest {
    static Path dataDir;

    @BeforeAll
    static void findTheData() {
        for (Path candidate : List.of(Path.of("../data"), Path.of("data"))) {
            if (Files.isDirectory(candidate) && countOrZero(candidate) > 0) {
                dataDir = candidate.toAbsolutePath().normalize();
            }
        }
        if (dataDir == null && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("Fashion-MNIST is missing in CI: scripts/fetch-data.sh must run first");
        }
        assumeTrue(dataDir != null, "Fashion-MNIST not found in ../data: run scripts/fetch-data.sh");
    }

    private static int countOrZero(Path dir) {
        try {
            return Corpus.FASHION_MNIST.count(dev.descent.sdk.Split.TRAIN, dir);
        } catch (RuntimeException e) {
            return 0;
        }
    }

    @Test
    void shouldDrawLinesAroundW0AndWstarWithAndWithoutDropout(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "landscape-dropout", "--data-dir", dataDir.toString(),
                "--train-limit", "600", "--epochs", "2", "--widths", "32", "--points", "7", "--eval-examples", "300",
                "--evaluators", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        for (String name : List.of("no-dropout", "dropout")) {
            JsonNode part = s.get(name);
            assertThat(part.get("training").get("test_accuracy").asDouble()).as(name).isGreaterThan(0.3);
            assertThat(part.get("line_wstar").get("centre_train_loss").asDouble()).as(name + ": w* beats w0")
                    .isLessThan(part.get("line_w0").get("centre_train_loss").asDouble());
            assertThat(part.get("sharpness_wstar").get("top_hessian_eigenvalue").asDouble()).isPositive();
            assertThat(out.resolve(name + ".descent")).isRegularFile();
            assertThat(Files.readAllLines(out.resolve("lines/" + name + "-wstar.csv"))).hasSize(1 + 7);
            assertThat(out.resolve("lines/" + name + "-w0.partial.csv")).doesNotExist();
        }
        assertThat(out.resolve("landscape-dropout.png")).isRegularFile();
        assertThat(out.resolve("wstar-compared.png")).isRegularFile();
    }

    @Test
    void shouldSweepDepthsWithAndWithoutSkipsAndMapTheHessian(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "skip-connections", "--data-dir", dataDir.toString(),
                "--train-limit", "400", "--epochs", "1", "--depths", "4,6", "--width", "16", "--grid", "5",
                "--eval-examples", "200", "--hessian-grid", "3", "--hessian-examples", "64", "--lanczos-steps", "4",
                "--evaluators", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        for (String name : List.of("skip-4", "skip-6", "noskip-4", "noskip-6")) {
            JsonNode run = s.get("runs").get(name);
            assertThat(run).as(name).isNotNull();
            assertThat(run.get("train_loss_max").asDouble()).as(name)
                    .isGreaterThan(run.get("train_loss_centre").asDouble());
            assertThat(run.get("local_minima_on_grid").asInt()).as(name).isBetween(0, 9);
            assertThat(run.get("nonconvex_fraction").asDouble()).as(name).isBetween(0.0, 1.0);
            assertThat(run.get("lambda_max_centre").asDouble()).as(name).isPositive();
            assertThat(run.get("lambda_min_centre").asDouble()).as(name)
                    .isLessThan(run.get("lambda_max_centre").asDouble());
            assertThat(run.get("test_accuracy").asDouble()).as(name).isBetween(0.0, 1.0);
            assertThat(Files.readAllLines(out.resolve("planes/" + name + ".csv"))).hasSize(1 + 25);
            assertThat(Files.readAllLines(out.resolve("curvature/" + name + ".csv"))).hasSize(1 + 9);
            assertThat(out.resolve("models/" + name + ".descent")).isRegularFile();
            assertThat(out.resolve("planes/" + name + ".partial.csv")).doesNotExist();
        }
        assertThat(s.get("config").get("nonconvex_threshold").asDouble()).isEqualTo(0.1);
        for (String png : List.of("contours", "surface", "convexity")) {
            assertThat(out.resolve("skip-connections-" + png + ".png")).isRegularFile();
        }
        Path never = out.resolve("never");
        CliRunner.Run noData = CliRunner.run("story", "skip-connections", "--data-dir", out.resolve("no-data").toString(),
                "--out", never.toString());
        assertThat(noData.exitCode()).isNotZero();
        assertThat(never).as("no output folder without data").doesNotExist();
        CliRunner.Run bad = CliRunner.run("story", "skip-connections", "--depths", "5", "--out", out.toString());
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err()).contains("--depths").contains("5");
    }

    @Test
    void shouldDrawRandomPlanesAroundW0AndWstarAndThePcaPath(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "landscape-plane", "--data-dir", dataDir.toString(),
                "--train-limit", "640", "--epochs", "2", "--widths", "32", "--snapshot-every", "2", "--grid", "5",
                "--eval-examples", "200", "--evaluators", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        // 2 epochs x 5 steps, a snapshot every 2 steps: w0 + 5 snapshots + w*
        JsonNode pca = s.get("plane_pca");
        assertThat(pca.get("snapshots").asInt()).isEqualTo(7);
        double ev1 = pca.get("explained_variance").get(0).asDouble();
        double ev2 = pca.get("explained_variance").get(1).asDouble();
        assertThat(ev1).isGreaterThanOrEqualTo(ev2).isLessThanOrEqualTo(1.0);
        assertThat(ev1 + ev2).isGreaterThan(0.5).isLessThanOrEqualTo(1.0 + 1e-9);
        assertThat(Files.readAllLines(out.resolve("trajectory.csv"))).hasSize(1 + 7);
        assertThat(s.get("plane_wstar").get("centre_train_loss").asDouble()).as("w* is lower than w0")
                .isLessThan(s.get("plane_w0").get("centre_train_loss").asDouble());
        for (String png : List.of("random", "surface", "pca")) {
            assertThat(out.resolve("landscape-plane-" + png + ".png")).isRegularFile();
        }
        assertThat(Files.readAllLines(out.resolve("planes/w0.csv"))).hasSize(1 + 25);
    }
}
