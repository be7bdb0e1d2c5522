package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.Split;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.ModelFile;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** End to end through the real command line, on the real Fashion-MNIST (CI fetches it first). */
class TrainCommandTest {
    static Path dataDir;


    @BeforeAll
    static void findData() {
        if (dataDir != null) {
            return;
        }
        // Maven runs tests in samples/; the checkout's data/ is one level up.
        for (Path candidate : List.of(Path.of("../data"), Path.of("data"))) {
            if (IdxDatasets.isPresent(IdxDatasets.Corpus.FASHION_MNIST, Split.TRAIN, candidate)) {
                dataDir = candidate.toAbsolutePath().normalize();
                return;
            }
        }
        boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
        if (ci) {
            throw new AssertionError("Fashion-MNIST is missing in CI: scripts/fetch-data.sh must run first");
        }
        assumeTrue(false, "Fashion-MNIST not found in ../data: run scripts/fetch-data.sh");
    }

    @Test
    void shouldTrainOnRealFashionMnistAndWriteEveryOutput(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("train", "--data-dir", dataDir.toString(), "--train-limit", "6000",
                "--epochs", "2", "--widths", "64", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("epoch 1/2").contains("epoch 2/2").contains("done: test accuracy");

        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("test_accuracy").asDouble()).as("well above chance (0.1)").isGreaterThan(0.70);
        assertThat(s.get("epochs").asInt()).isEqualTo(2);
        assertThat(s.get("parameters").asLong()).isEqualTo(784L * 64 + 64 + 64 * 10 + 10);
        assertThat(s.get("parameters_sha256").asText()).matches("[0-9a-f]{64}");
        assertThat(s.get("examples_per_second").asDouble()).isPositive();
        for (String key : List.of("test_loss", "train_loss", "wall_seconds")) {
            assertThat(s.has(key)).as(key).isTrue();
        }

        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(csv).hasSize(3);
        assertThat(csv.get(0)).startsWith("epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds");
        assertThat(csv.get(2)).startsWith("2,");

        BufferedImage png = ImageIO.read(out.resolve("training-curves.png").toFile());
        assertThat(png.getWidth()).isGreaterThan(600);

        try (Model m = ModelFile.read(out.resolve("model.descent"))) {
            assertThat(m.parametersSha256()).isEqualTo(s.get("parameters_sha256").asText());
        }
    }

    @Test
    void shouldTrainTheResidualMlpWithAndWithoutSkipsAndTheCnn(@TempDir Path out) throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (String[] model : List.of(new String[] {"--model", "resmlp", "--depth", "2", "--width", "32"},
                new String[] {"--model", "resmlp", "--depth", "2", "--width", "32", "--no-skip"},
                new String[] {"--model", "cnn"})) {
            Path dir = out.resolve(String.join("", model).replace("-", ""));
            CliRunner.Run run = CliRunner.run(concat(concat(new String[] {"train", "--data-dir", dataDir.toString(),
                "--train-limit", "2000", "--epochs", "1"}, model), "--out", dir.toString()));
            assertThat(run.exitCode()).as(String.join(" ", model) + ": " + run.err()).isZero();
            JsonNode s = json.readTree(dir.resolve("summary.json").toFile());
            assertThat(s.get("test_accuracy").asDouble()).as(String.join(" ", model)).isGreaterThan(0.4);
            assertThat(s.get("config").get("model").asText()).startsWith(model[1]);
            try (Model m = ModelFile.read(dir.resolve("model.descent"))) {
                assertThat(m.parametersSha256()).isEqualTo(s.get("parameters_sha256").asText());
            }
        }
    }

    @Test
    void shouldGiveBitIdenticalResultsForTheSameSeed(@TempDir Path out) throws Exception {
        String[] args = {"train", "--data-dir", dataDir.toString(), "--train-limit", "2000", "--epochs", "1",
            "--widths", "32", "--dropout", "0.1", "--seed", "7"};
        CliRunner.Run a = CliRunner.run(concat(args, "--out", out.resolve("a").toString()));
        CliRunner.Run b = CliRunner.run(concat(args, "--out", out.resolve("b").toString()));
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(b.exitCode()).as(b.err()).isZero();
        ObjectMapper json = new ObjectMapper();
        String shaA = json.readTree(out.resolve("a/summary.json").toFile()).get("parameters_sha256").asText();
        String shaB = json.readTree(out.resolve("b/summary.json").toFile()).get("parameters_sha256").asText();
        assertThat(shaA).isEqualTo(shaB);
        CliRunner.Run c = CliRunner.run(concat(new String[] {"train", "--data-dir", dataDir.toString(),
            "--train-limit", "2000", "--epochs", "1", "--widths", "32", "--dropout", "0.1", "--seed", "8"},
                "--out", out.resolve("c").toString()));
        assertThat(json.readTree(out.resolve("c/summary.json").toFile()).get("parameters_sha256").asText())
                .as("another seed, other weights").isNotEqualTo(shaA);
    }

    @Test
    void shouldRejectNonsenseHyperparametersWithoutWritingAnything(@TempDir Path out) {
        record Case(String[] args, String message) {
        }
        for (Case c : List.of(
                new Case(new String[] {"--lr", "-0.1"}, "--lr must be a finite number > 0, was -0.1"),
                new Case(new String[] {"--batch", "0"}, "--batch must be >= 1, was 0"),
                new Case(new String[] {"--epochs", "0"}, "--epochs must be >= 1, was 0"),
                new Case(new String[] {"--dropout", "1.5"}, "--dropout must be in [0, 1), was 1.5"),
                new Case(new String[] {"--loss", "hinge"}, "hinge"),
                new Case(new String[] {"--optimizer", "lbfgs"}, "unknown optimizer 'lbfgs'"),
                new Case(new String[] {"--strategy", "magic"}, "unknown backprop strategy 'magic'"),
                new Case(new String[] {"--schedule", "zigzag"}, "unknown --schedule 'zigzag'"),
                new Case(new String[] {"--warmup-steps", "-1"}, "--warmup-steps must be >= 0, was -1"),
                new Case(new String[] {"--warmup-steps", "5", "--schedule", "warmup-cosine"},
                        "use --schedule cosine --warmup-steps N instead"),
                new Case(new String[] {"--micro-batch", "-3"}, "--micro-batch must be >= 0 (0 = never split), was -3"))) {
            Path dir = out.resolve("run");
            CliRunner.Run run = CliRunner.run(concat(concat(new String[] {"train", "--data-dir", dataDir.toString()},
                    c.args()), "--out", dir.toString()));
            assertThat(run.exitCode()).as(String.join(" ", c.args())).isEqualTo(2);
            assertThat(run.err()).contains(c.message()).doesNotContain("at dev.descent");
            assertThat(Files.exists(dir.resolve("summary.json"))).isFalse();
        }
    }

    @Test
    void shouldWarmUpAnyScheduleAndAccumulateMicroBatches(@TempDir Path out) throws Exception {
        // 600 examples / batch 50 = 12 steps, all inside a 30-step warm-up of a constant 0.05: the last lr is 0.05*12/30
        CliRunner.Run run = CliRunner.run("train", "--data-dir", dataDir.toString(), "--train-limit", "600", "--batch",
                "50", "--epochs", "1", "--widths", "16", "--schedule", "constant", "--lr", "0.05", "--warmup-steps", "30",
                "--micro-batch", "20", "--workers", "1", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> csv = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(csv.get(1).split(",")[5]).isEqualTo("0.0200000");
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("config");
        assertThat(cfg.get("warmup_steps").asLong()).isEqualTo(30);
        assertThat(cfg.get("micro_batch").asInt()).isEqualTo(20);
    }

    @Test
    void shouldSayHowToFetchAMissingDataset(@TempDir Path empty) {
        CliRunner.Run run = CliRunner.run("train", "--data-dir", empty.toString(), "--out",
                empty.resolve("out").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("train-images-idx3-ubyte").contains(empty.toString())
                .contains("descent data fetch");
    }

    @Test
    void shouldStopOnADivergingLossAndKeepTheLastGoodModel(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("train", "--data-dir", dataDir.toString(), "--train-limit", "3000",
                "--epochs", "3", "--widths", "32", "--optimizer", "sgd", "--lr", "1e30", "--schedule", "constant",
                "--out", out.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).containsIgnoringCase("step").contains("model.descent");
        try (Model m = ModelFile.read(out.resolve("model.descent"))) {
            assertThat(m.parameterCount()).isEqualTo(784L * 32 + 32 + 32 * 10 + 10);
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
