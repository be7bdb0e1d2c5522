package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent story sgd-escape` and `local-divergence` on small settings: the outcomes the stories claim. */
class ToyStoriesTest {

    @Test
    void sgdShouldEscapeTheNarrowBasinWhereGdStaysWithTheSameStep(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "sgd-escape", "--starts", "20", "--steps", "300",
                "--batch-sweep", "1,64", "--shown", "4", "--seed", "3", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(s.get("starts").asInt()).isEqualTo(20);
        double gd = s.get("gd").get("escaped_fraction").asDouble();
        double sgd = s.get("sgd").get("escaped_fraction").asDouble();
        assertThat(gd).as("GD with a stable step stays in the narrow basin").isZero();
        assertThat(sgd).as("SGD's noise carries most starts out").isGreaterThan(gd).isGreaterThanOrEqualTo(0.5);
        assertThat(s.get("lr_times_lambda_sharp").asDouble()).as("GD alone is stable there").isLessThan(2);
        assertThat(s.get("escaped_fraction_by_batch").get("64").asDouble()).as("full batch = GD").isZero();
        assertThat(Files.readAllLines(out.resolve("runs.csv"))).hasSize(1 + 2 * 20);
        for (String f : new String[] {"sgd-escape.png", "sgd-escape-surface.png", "escape-vs-batch.png",
            "escape-vs-batch.csv"}) {
            assertThat(out.resolve(f)).isNotEmptyFile();
        }
        CliRunner.Run again = CliRunner.run("story", "sgd-escape", "--starts", "20", "--steps", "300",
                "--batch-sweep", "1,64", "--shown", "4", "--seed", "3", "--out", out.resolve("again").toString());
        assertThat(again.exitCode()).isZero();
        assertThat(Files.readString(out.resolve("again/runs.csv"))).as("reproducible with --seed")
                .isEqualTo(Files.readString(out.resolve("runs.csv")));
    }

    @Test
    void gdTooSharpForTheNarrowMinimumShouldClimbThenSettleLowerInTheFlatOne(@TempDir Path out) throws Exception {
        CliRunner.Run r = CliRunner.run("story", "local-divergence", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        double eta = s.get("eta").asDouble();
        assertThat(eta * s.get("lambda_sharp").asDouble()).isGreaterThan(2);
        assertThat(eta * s.get("lambda_flat").asDouble()).isLessThan(2);
        assertThat(s.get("ended_in").asText()).isEqualTo("flat");
        assertThat(s.get("max_loss_increase").asDouble()).as("the loss goes up first").isGreaterThan(0.05);
        assertThat(s.get("final_loss").asDouble()).as("and ends lower than at the sharp minimum")
                .isLessThan(s.get("sharp_minimum_loss").asDouble() - 0.5);
        assertThat(s.get("small_step").get("ended_in").asText()).as("a stable step stays").isEqualTo("sharp");
        assertThat(out.resolve("local-divergence.png")).isNotEmptyFile();
        assertThat(out.resolve("local-divergence-surface.png")).isNotEmptyFile();
        assertThat(Files.readAllLines(out.resolve("trajectory.csv"))).hasSize(1 + 41);
    }

    @Test
    void shouldRejectBadSettingsNamingTheValue(@TempDir Path out) {
        CliRunner.Run r = CliRunner.run("story", "sgd-escape", "--lr", "0", "--out", out.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("lr=0.0");
        CliRunner.Run n = CliRunner.run("story", "local-divergence", "--noise", "3", "--out", out.toString());
        assertThat(n.exitCode()).isNotZero();
        assertThat(n.err()).contains("--noise must be in [0, 1], was 3.0");
    }
}
