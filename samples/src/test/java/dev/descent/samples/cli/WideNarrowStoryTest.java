package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story wide-narrow` end to end on a tiny setting, and `descent train --optimizer sam`. */
class WideNarrowStoryTest {
    @BeforeAll
    static void findTheData() {
        StoryCommandTest.findTheData();
    }

    @Test
    void shouldTrainSgdAndSamOverSeedsAndWriteProfilesPlanesAndSummary(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "wide-narrow", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--train-limit", "500", "--epochs", "2", "--widths", "32", "--seeds", "2", "--points", "7",
                "--grid", "5", "--eval-examples", "200", "--sharpness-examples", "200", "--power-iterations", "50",
                "--evaluators", "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("train SAM seed 2").contains("lambda_max").contains("done: wrote");
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        for (String name : List.of("sgd", "sam")) {
            JsonNode run = s.get("runs").get(name);
            assertThat(run.get("lambda_max").asDouble()).as(name).isPositive();
            assertThat(run.get("test_accuracy").asDouble()).as(name).isGreaterThan(0.3);
            assertThat(run.get("basin_width").asDouble()).as(name).isPositive().isLessThanOrEqualTo(2.0);
            assertThat(run.get("seeds").toString()).isEqualTo("[1,2]");
            JsonNode first = run.get("per_seed").get(0);
            assertThat(first.get("hessian_vector_products").asText()).isEqualTo("exact-double");
            assertThat(first.get("power_iterations").asInt()).isBetween(2, 50);
            assertThat(first.has("converged")).isTrue();
            double mean = (run.get("per_seed").get(0).get("lambda_max").asDouble()
                    + run.get("per_seed").get(1).get("lambda_max").asDouble()) / 2;
            assertThat(run.get("lambda_max").asDouble()).isCloseTo(mean, org.assertj.core.data.Offset.offset(1e-9));
            for (int seed = 1; seed <= 2; seed++) {
                assertThat(Files.readAllLines(out.resolve("lines/" + name + "-seed" + seed + ".csv"))).hasSize(1 + 7);
            }
            assertThat(Files.readAllLines(out.resolve("planes/" + name + "-seed1.csv"))).hasSize(1 + 25);
        }
        assertThat(s.get("runs").get("sgd").get("per_seed").get(0).get("parameters_sha256").asText())
                .as("SAM trains another network").isNotEqualTo(
                        s.get("runs").get("sam").get("per_seed").get(0).get("parameters_sha256").asText());
        assertThat(s.get("verdict").has("sam_smaller_lambda_max")).isTrue();
        assertThat(out.resolve("wide-narrow-profile.png")).isRegularFile();
        assertThat(out.resolve("wide-narrow-plane.png")).isRegularFile();
    }

    @Test
    void shouldRejectBadStorySettings(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "wide-narrow", "--rho", "0", "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--rho must be a finite number > 0, was 0.0");
        CliRunner.Run p = CliRunner.run("story", "wide-narrow", "--points", "10", "--out", out.toString());
        assertThat(p.err()).contains("--points must be odd");
    }

    @Test
    void shouldTrainWithSamFromTheCommandLine(@TempDir Path out) throws Exception {
        CliRunner.Run run = CliRunner.run("train", "--data-dir", StoryCommandTest.dataDir.toString(), "--train-limit",
                "2000", "--epochs", "2", "--widths", "32", "--optimizer", "sam", "--sam-rho", "0.1", "--sam-adaptive",
                "--workers", "2", "--out", out.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("test_accuracy").asDouble()).as("32 steps of ASAM learn").isGreaterThan(0.5);
        JsonNode cfg = s.get("config");
        assertThat(cfg.get("sam").get("rho").asDouble()).isEqualTo(0.1);
        assertThat(cfg.get("sam").get("adaptive").asBoolean()).isTrue();
        assertThat(cfg.get("sam").get("base").asText()).isEqualTo("momentum");
        CliRunner.Run bad = CliRunner.run("train", "--data-dir", StoryCommandTest.dataDir.toString(), "--optimizer",
                "sam", "--sam-rho", "-1", "--out", out.resolve("bad").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("--sam-rho must be a finite number > 0, was -1.0");
        CliRunner.Run unknown = CliRunner.run("train", "--data-dir", StoryCommandTest.dataDir.toString(),
                "--optimizer", "lbfgs", "--out", out.resolve("bad").toString());
        assertThat(unknown.err()).contains("unknown optimizer 'lbfgs'").contains("or sam");
    }
}
