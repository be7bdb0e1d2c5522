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
    void shouldDrawPlanesWithAndWithoutSkipConnections(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "skip-connections", "--data-dir", dataDir.toString(),
                "--train-limit", "400", "--epochs", "1", "--depth", "2", "--width", "16", "--grid", "4",
                "--eval-examples", "200", "--evaluators", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        for (String name : List.of("resnet", "no-skip")) {
            assertThat(s.get(name).get("plane").get("train_loss_max").asDouble()).as(name)
                    .isGreaterThan(s.get(name).get("plane").get("centre_train_loss").asDouble());
            assertThat(Files.readAllLines(out.resolve("planes/" + name + ".csv"))).hasSize(1 + 16);
        }
        assertThat(s.get("config").get("model").asText()).contains("batchNorm=true");
        try (var files = Files.list(out)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("planes",
                    "skip-connections-contours.png", "skip-connections-surface.png", "summary.json");
        }
    }
}
