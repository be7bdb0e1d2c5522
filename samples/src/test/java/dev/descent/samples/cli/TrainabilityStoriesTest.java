package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story init|gradients|symmetry` end to end on tiny settings (real Fashion-MNIST, seconds each). */
class TrainabilityStoriesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void data() {
        StoryCommandTest.findTheData();
    }

    @Test
    void initShouldStallXavierAt30LayersWhileKaimingTrains(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "init", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--depths", "22,30", "--width", "32", "--train-limit", "3000", "--epochs", "2", "--batch", "32",
                "--test-limit", "300", "--stats-examples", "100", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        JsonNode runs = JSON.readTree(out.resolve("summary.json").toFile()).get("runs");
        List<String> names = new ArrayList<>();
        runs.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("xavier-22", "kaiming-22", "xavier-30", "kaiming-30");
        for (String n : names) {
            assertThat(runs.get(n).get("steps").asLong()).as(n).isEqualTo(2 * 94);
            assertThat(runs.get(n).has("test_accuracy")).isTrue();
        }
        JsonNode x30 = runs.get("xavier-30");
        JsonNode k30 = runs.get("kaiming-30");
        // the paper's figure 3 at 30 layers: Xavier stays at ln 10, Kaiming trains
        assertThat(x30.get("final_train_loss").asDouble()).isCloseTo(Math.log(10), org.assertj.core.api.Assertions.within(0.02));
        assertThat(k30.get("final_train_loss").asDouble()).isLessThan(x30.get("final_train_loss").asDouble() - 0.2);
        // Xavier halves the variance per ReLU layer: 2^-14.5 over 30 layers; Kaiming keeps the scale
        assertThat(x30.get("activation_std_last_over_first").asDouble()).isLessThan(1e-3);
        assertThat(k30.get("activation_std_last_over_first").asDouble()).isBetween(0.05, 5.0);
        assertThat(runs.get("xavier-22").get("activation_std_last_over_first").asDouble())
                .isGreaterThan(x30.get("activation_std_last_over_first").asDouble());
        assertThat(Files.readAllLines(out.resolve("loss.csv"))).hasSize(1 + 4 * 2 * 94);
        assertThat(Files.readAllLines(out.resolve("activation-std.csv")).get(0)).isEqualTo("run,node,layer,mean,std");
        assertThat(out.resolve("init-loss.png")).isNotEmptyFile();
        assertThat(out.resolve("activation-std.png")).isNotEmptyFile();
    }

    @Test
    void gradientsShouldShowTheSlopeOfVanishingAndTheLevelOfExploding(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "gradients", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--depth", "20", "--width", "16", "--train-limit", "640", "--epochs", "1", "--stats-every", "3",
                "--test-limit", "200", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        JsonNode c = JSON.readTree(out.resolve("summary.json").toFile()).get("configs");
        List<String> names = new ArrayList<>();
        c.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("vanishing", "healthy", "exploding");
        double[] vanishing = norms(c.get("vanishing"));
        double[] healthy = norms(c.get("healthy"));
        double[] exploding = norms(c.get("exploding"));
        assertThat(vanishing).hasSize(20);
        // sigmoid: at most 1/4 per layer on the way back -> orders of magnitude from last to first
        assertThat(vanishing[0] / vanishing[19]).isLessThan(1e-6);
        assertThat(healthy[0] / healthy[19]).isBetween(0.05, 20.0);
        // Kaiming x2: each layer's gradient ~2^19 times healthy, all layers alike
        assertThat(min(exploding)).isGreaterThan(1e3 * max(healthy));
        assertThat(exploding[0] / exploding[19]).isBetween(0.05, 20.0);
        // update ratios: the first sigmoid layer does not move, healthy layers move by ~1e-3 of their size
        assertThat(c.get("vanishing").get("update_ratio_by_layer").get(0).asDouble()).isLessThan(1e-10);
        for (JsonNode u : c.get("healthy").get("update_ratio_by_layer")) {
            assertThat(u.asDouble()).isBetween(1e-5, 1e-1);
        }
        assertThat(c.get("healthy").get("diverged").asBoolean()).isFalse();
        assertThat(c.get("exploding").get("diverged").asBoolean()).isTrue();
        for (String n : names) {
            assertThat(c.get(n).get("final_train_loss").isNumber()).as(n).isTrue();
        }
        assertThat(Files.readAllLines(out.resolve("layer-stats.csv")).size()).isGreaterThan(1 + 20 * 3);
        for (String f : List.of("gradients.png", "update-ratios.png", "gradient-heatmaps.png")) {
            assertThat(out.resolve(f)).isNotEmptyFile();
        }
    }

    @Test
    void symmetryShouldNeverBreakFromAConstantStart(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "symmetry", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--widths", "16,16", "--train-limit", "1500", "--epochs", "2", "--test-limit", "500",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err() + r.out()).isZero();
        JsonNode runs = JSON.readTree(out.resolve("summary.json").toFile()).get("runs");
        JsonNode constant = runs.get("constant");
        JsonNode random = runs.get("random");
        assertThat(constant.get("max_row_spread").asDouble()).isZero();
        assertThat(constant.get("distinct_rows_by_hidden_layer").toString()).isEqualTo("[1,1]");
        assertThat(random.get("max_row_spread").asDouble()).isGreaterThan(0.05);
        assertThat(random.get("distinct_rows_by_hidden_layer").toString()).isEqualTo("[16,16]");
        assertThat(random.get("test_accuracy").asDouble())
                .isGreaterThan(constant.get("test_accuracy").asDouble() + 0.2);
        assertThat(Files.readAllLines(out.resolve("weights-constant.csv"))).hasSize(16);
        assertThat(out.resolve("symmetry.png")).isNotEmptyFile();
        assertThat(out.resolve("weights.png")).isNotEmptyFile();
    }

    @Test
    void shouldRejectBadSettingsWithTheValue(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "init", "--depths", "1,30", "--out", out.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err() + r.out()).contains("--depths must all be >= 2").contains("got 1");
        CliRunner.Run s = CliRunner.run("story", "symmetry", "--widths", "1", "--out", out.toString());
        assertThat(s.err() + s.out()).contains("got 1");
        for (String story : List.of("init", "gradients", "symmetry")) {
            Path never = out.resolve("never-" + story);
            CliRunner.Run d = CliRunner.run("story", story, "--data-dir", out.resolve("no-data").toString(),
                    "--out", never.toString());
            assertThat(d.exitCode()).as(story).isEqualTo(2);
            assertThat(never).as(story + ": no output folder for bad inputs").doesNotExist();
        }
    }

    private static double[] norms(JsonNode config) {
        JsonNode a = config.get("gradient_norm_by_layer");
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asDouble();
        }
        return v;
    }

    private static double min(double[] v) {
        return java.util.Arrays.stream(v).min().orElseThrow();
    }

    private static double max(double[] v) {
        return java.util.Arrays.stream(v).max().orElseThrow();
    }
}
