package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story grokking` end to end on a tiny table (mod 23), and `descent train` on modular data. */
class GrokkingStoryTest {
    // mod 23, 80 % of the 529 pairs, wd 3: the weight-decay run reaches 95 % validation accuracy near step 2700
    // (seed 1), about 100 s of CPU for both runs
    private static final String[] TINY = {"story", "grokking", "--modulus", "23", "--train-fraction", "0.8",
        "--weight-decay", "3", "--eval-points", "15", "--checkpoint-every", "500"};

    private static String[] tiny(Path out, String... more) {
        String[] a = new String[TINY.length + 2 + more.length];
        System.arraycopy(TINY, 0, a, 0, TINY.length);
        a[TINY.length] = "--out";
        a[TINY.length + 1] = out.toString();
        System.arraycopy(more, 0, a, TINY.length + 2, more.length);
        return a;
    }

    @Test
    void shouldFitFirstGeneralizeLaterWithDecayAndWriteItsOutputs(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run(tiny(out, "--steps", "3500"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("preset").asText()).isEqualTo("fast");
        assertThat(s.get("steps").asLong()).isEqualTo(3500);
        long train99 = s.get("step_train_accuracy_99").asLong();
        assertThat(train99).isPositive();
        assertThat(s.get("val_accuracy_at_train_99").asDouble()).as("validation lags when train is fit")
                .isLessThan(0.5);
        assertThat(s.get("step_val_accuracy_95").isNull()).as("the weight-decay run generalizes").isFalse();
        assertThat(s.get("step_val_accuracy_95").asLong()).isGreaterThan(train99);
        assertThat(s.get("final_val_accuracy").asDouble()).isGreaterThan(0.95);
        JsonNode c = s.get("control");
        assertThat(c.get("steps").asLong()).isEqualTo(3500);
        assertThat(c.get("step_train_accuracy_99").isNull()).as("the control fits the training pairs too").isFalse();
        assertThat(c.get("final_val_accuracy").asDouble()).as("without decay: no grokking on this budget")
                .isLessThan(0.5);
        assertThat(s.get("final_weight_norm").asDouble()).isLessThan(c.get("final_weight_norm").asDouble());
        assertThat(s.get("config").get("train_pairs").asInt()).isEqualTo(423);
        assertThat(out.resolve("grokking.png")).isRegularFile();
        assertThat(Files.readAllLines(out.resolve("run.csv")).get(0))
                .isEqualTo("step,train_loss,train_accuracy,val_loss,val_accuracy,weight_norm");
        assertThat(Files.readAllLines(out.resolve("control.csv")).size()).isGreaterThan(20);
        assertThat(out.resolve("checkpoints/run")).isDirectory();
    }

    @Test
    void shouldResumeALongerRunFromItsCheckpoint(@TempDir Path out) throws Exception {
        assertThat(CliRunner.run(tiny(out, "--steps", "200", "--no-control")).exitCode()).isZero();
        CliRunner.Run r = CliRunner.run(tiny(out, "--steps", "400", "--no-control", "--resume"));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("resumed at step 200 of 400");
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("resumed").asBoolean()).isTrue();
        assertThat(s.get("steps").asLong()).isEqualTo(400);
        assertThat(s.has("control")).isFalse();
        assertThat(Files.readAllLines(out.resolve("run.csv")).get(1)).startsWith("0,");
    }

    @Test
    void shouldNameTheBadValue(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "grokking", "--modulus", "91", "--out", out.resolve("new").toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("91 = 7 x 13");
        r = CliRunner.run("story", "grokking", "--preset", "huge", "--out", out.toString());
        assertThat(r.err()).contains("--preset must be fast or paper, was 'huge'");
        assertThat(out.resolve("new")).doesNotExist();
    }

    @Test
    void shouldTrainATransformerOnModularDataFromTheTrainCommand(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("train", "--dataset", "modular", "--modulus", "11", "--model", "transformer",
                "--width", "16", "--heads", "2", "--layers", "1", "--optimizer", "adamw", "--weight-decay", "0.1",
                "--lr", "3e-3", "--schedule", "constant", "--batch", "32", "--epochs", "3", "--workers", "1",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("config").get("dataset").asText()).contains("mod 11");
        assertThat(s.get("config").get("model").asText()).contains("transformer(1 layers, width 16, 2 heads, vocab 13)");
        assertThat(s.get("train_loss").asDouble()).isLessThan(Math.log(11));
        r = CliRunner.run("train", "--dataset", "modular", "--model", "mlp", "--out", out.resolve("mlp").toString());
        assertThat(r.err()).contains("use --model transformer or embedding-mlp");
    }
}
