package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.Split;
import dev.descent.engine.landscape.DirectionFile;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent landscape ...` end to end on a small subset of the real Fashion-MNIST. */
class LandscapeCommandTest {
    static Path dataDir;
    @TempDir
    static Path run;

    @BeforeAll
    static void trainASmallModelWithItsTrajectory() {
        for (Path candidate : List.of(Path.of("../data"), Path.of("data"))) {
            if (IdxDatasets.isPresent(IdxDatasets.Corpus.FASHION_MNIST, Split.TRAIN, candidate)) {
                dataDir = candidate.toAbsolutePath().normalize();
            }
        }
        if (dataDir == null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                throw new AssertionError("Fashion-MNIST is missing in CI: scripts/fetch-data.sh must run first");
            }
            assumeTrue(false, "Fashion-MNIST not found in ../data: run scripts/fetch-data.sh");
        }
        CliRunner.Run r = CliRunner.run("train", "--data-dir", dataDir.toString(), "--train-limit", "3000",
                "--epochs", "3", "--widths", "32", "--save-trajectory", "--out", run.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(run.resolve("trajectory/epoch-000.descent")).isRegularFile();
        assertThat(run.resolve("trajectory/epoch-003.descent")).isRegularFile();
    }

    private static String[] common(Path out) {
        return new String[] {"--data-dir", dataDir.toString(), "--train-examples", "400", "--test-examples", "300",
            "--sharpness-examples", "300", "--power-iterations", "4", "--evaluators", "2", "--out", out.toString()};
    }

    private static String[] concat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void shouldDrawAPlaneWithTheTrajectoryAndRecordEverySetting(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run(concat(new String[] {"landscape", "plane", "--trajectory", run.toString(),
            "--grid", "6"}, common(out)));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("plane [").contains("sharpness: top Hessian eigenvalue").contains("done: 36 points");
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("projection").asText()).isEqualTo("plane");
        assertThat(s.get("model_sha256").asText()).matches("[0-9a-f]{64}");
        assertThat(s.get("directions").asText()).contains("PCA of 4 trajectory points");
        assertThat(s.get("train_examples").asInt()).isEqualTo(400);
        assertThat(s.get("test_examples").asInt()).isEqualTo(300);
        assertThat(s.get("bn_mode").asText()).isEqualTo("running");
        assertThat(s.get("points_per_second").asDouble()).isPositive();
        assertThat(s.get("sharpness").get("top_hessian_eigenvalue").asDouble()).isPositive();
        assertThat(s.get("sharpness").get("epsilon_sharpness_percent").asDouble()).isPositive();
        assertThat(s.get("train_loss_max").asDouble()).isGreaterThan(s.get("train_loss_min").asDouble());
        List<String> csv = Files.readAllLines(out.resolve("landscape.csv"));
        assertThat(csv).hasSize(37);
        assertThat(Files.readAllLines(out.resolve("trajectory.csv"))).hasSize(1 + 4);
        assertThat(out.resolve("plane.partial.csv")).doesNotExist();
        try (DirectionFile.Loaded d = DirectionFile.load(out.resolve("directions.descentd"))) {
            assertThat(d.directions()).hasSize(2);
        }
        for (String png : List.of("plane-contours.png", "plane-surface.png")) {
            BufferedImage img = ImageIO.read(out.resolve(png).toFile());
            assertThat(img.getWidth()).as(png).isGreaterThan(600);
        }
    }

    @Test
    void shouldDrawLinesAroundTheInitialAndTrainedPointsAndReuseSavedDirections(@TempDir Path out) throws Exception {
        Path model = run.resolve("model.descent");
        CliRunner.Run trained = CliRunner.run(concat(new String[] {"landscape", "line", "--model", model.toString(),
            "--points", "11", "--seed", "5"}, common(out.resolve("w*"))));
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        CliRunner.Run init = CliRunner.run(concat(new String[] {"landscape", "line", "--model", model.toString(),
            "--from", "init", "--points", "11"}, common(out.resolve("w0"))));
        assertThat(init.exitCode()).as(init.err()).isZero();
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(out.resolve("w*/summary.json").toFile());
        JsonNode b = json.readTree(out.resolve("w0/summary.json").toFile());
        assertThat(a.get("centre_train_loss").asDouble()).as("trained beats initial")
                .isLessThan(b.get("centre_train_loss").asDouble());
        // the same directions, reloaded from the file, reproduce the numbers exactly
        CliRunner.Run again = CliRunner.run(concat(new String[] {"landscape", "line", "--model", model.toString(),
            "--points", "11", "--directions", out.resolve("w*/directions.descentd").toString()}, common(out.resolve("again"))));
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(Files.readString(out.resolve("again/landscape.csv")))
                .isEqualTo(Files.readString(out.resolve("w*/landscape.csv")));
        assertThat(ImageIO.read(out.resolve("w*/line.png").toFile()).getWidth()).isEqualTo(640);
    }

    @Test
    void shouldExplainWhatIsMissingInOneLine(@TempDir Path out) throws Exception {
        Path lonely = out.resolve("m.descent");
        Files.copy(run.resolve("model.descent"), lonely);
        CliRunner.Run r = CliRunner.run(concat(new String[] {"landscape", "line", "--model", lonely.toString(), "--from",
            "init"}, common(out.resolve("x"))));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--save-trajectory").doesNotContain("Exception");
        CliRunner.Run bad = CliRunner.run(concat(new String[] {"landscape", "plane", "--model", lonely.toString(),
            "--norm", "diagonal"}, common(out.resolve("y"))));
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("filter, layer or none");
    }
}
