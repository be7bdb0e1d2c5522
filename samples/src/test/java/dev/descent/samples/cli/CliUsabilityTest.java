package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.samples.DescentCli;
import dev.descent.samples.OutputDir;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The rough edges a new user hits on the command line (issue 19), each pinned by a test. */
class CliUsabilityTest {
    @Test
    void shouldPrintTheErrorAndAHintNotTheWholeHelpForAnUnknownOption() {
        CliRunner.Run r = CliRunner.run("train", "--epoch=3");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("descent train: Unknown option: '--epoch=3'")
                .contains("--epochs") // picocli's suggestion
                .contains("Try 'descent train --help'");
        assertThat(r.err().lines().count()).as(r.err()).isLessThanOrEqualTo(6);
        assertThat(r.out()).doesNotContain("Usage:");
    }

    @Test
    void shouldNameTheTopLevelCommandWithoutAStraySpace() {
        CliRunner.Run r = CliRunner.run("trian");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("descent: Unmatched argument at index 0: 'trian'")
                .contains("descent train") // the suggestion: every command is there to suggest from
                .contains("Try 'descent --help'");
    }

    @Test
    void shouldBuildOnlyTheCommandARunNames() {
        assertThat(DescentCli.commandLine("bench", "train", "--epochs", "1").getSubcommands())
                .containsOnlyKeys("bench");
        assertThat(DescentCli.commandLine("bench").getSubcommands().get("bench").getSubcommands())
                .containsKeys("gemm", "train", "landscape");
        assertThat(DescentCli.commandLine("--version").getSubcommands()).isEmpty();
        java.util.Set<String> all = DescentCli.commandLine().getSubcommands().keySet();
        assertThat(all).contains("data", "train", "bench", "story", "tune", "help").hasSizeGreaterThanOrEqualTo(11);
        // whatever needs the whole set gets it: usage, help, an option first, a typo
        for (String[] args : new String[][]{{}, {"help", "train"}, {"--overwrite", "train"}, {"trian"}, {"--help"}}) {
            assertThat(DescentCli.commandLine(args).getSubcommands().keySet()).as(String.join(" ", args))
                    .containsExactlyElementsOf(all);
        }
        // the inherited --overwrite reaches a command registered on its own
        CommandLine.ParseResult parsed = DescentCli.commandLine("train")
                .parseArgs("train", "--overwrite", "--epochs", "1");
        assertThat(parsed.subcommand().hasMatchedOption("--overwrite")).isTrue();
    }

    @Test
    void shouldNameTheNestedCommandInTheHint() {
        CliRunner.Run r = CliRunner.run("landscape", "line", "--model", "m.descent", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("descent landscape line: Unknown option: '--bogus'")
                .contains("Try 'descent landscape line --help'");
    }

    @Test
    void shouldWriteTheCommandLinesOwnSpellingsIntoSummaryJson(@TempDir Path out) throws Exception {
        TrainCommandTest.findData();
        CliRunner.Run r = CliRunner.run("train", "--data-dir", TrainCommandTest.dataDir.toString(), "--train-limit", "512",
                "--epochs", "1", "--widths", "16", "--strategy", "checkpointed:2", "--loss", "Cross-Entropy",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode cfg = OutputDir.json().readTree(out.resolve("summary.json").toFile()).get("config");
        assertThat(cfg.get("strategy").asText()).isEqualTo("checkpointed:2");
        assertThat(cfg.get("loss").asText()).isEqualTo("cross-entropy");
        assertThat(r.out()).contains("cross-entropy").contains("checkpointed:2 backprop").doesNotContain("Checkpointed[");
    }

    @Test
    void shouldNameAMissingModelFileOnceWithoutRepeatingItself(@TempDir Path dir) {
        Path missing = dir.resolve("nope.descent");
        CliRunner.Run r = CliRunner.run("landscape", "line", "--model", missing.toString(), "--out", dir.resolve("o").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("cannot read the model file " + missing + ": it does not exist");
        assertThat(r.err().split(java.util.regex.Pattern.quote(missing.toString()), -1)).as(r.err()).hasSize(2);
    }

    @Test
    void shouldRefuseToReplaceAnEarlierRunsResultsUnlessOverwrite(@TempDir Path dir) throws Exception {
        TrainCommandTest.findData();
        java.nio.file.Files.writeString(dir.resolve("summary.json"), "{\"epochs\": 10}\n");
        String[] args = {"train", "--data-dir", TrainCommandTest.dataDir.toString(), "--train-limit", "256",
                "--epochs", "1", "--widths", "8", "--out", dir.toString()};
        CliRunner.Run refused = CliRunner.run(args);
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("already holds the results of an earlier run").contains("--overwrite");
        assertThat(java.nio.file.Files.readString(dir.resolve("summary.json"))).contains("\"epochs\": 10");

        String[] again = java.util.Arrays.copyOf(args, args.length + 1);
        again[args.length] = "--overwrite";
        CliRunner.Run replaced = CliRunner.run(again);
        assertThat(replaced.exitCode()).as(replaced.err()).isZero();
        assertThat(java.nio.file.Files.readString(dir.resolve("summary.json"))).contains("\"epochs\" : 1");
        // the flag does not leak into the next command
        assertThat(CliRunner.run(args).exitCode()).isEqualTo(2);
    }

    @Test
    void shouldLeaveNoEmptyOutputFolderWhenTheInputsAreBad(@TempDir Path dir) {
        Path out = dir.resolve("never");
        CliRunner.Run r = CliRunner.run("train", "--data-dir", dir.resolve("no-data").toString(), "--out", out.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(out).doesNotExist();
    }

    @Test
    void shouldWeighTheBackpropSweepsProgressByItsWorkNotItsDepthCount() {
        int[] depths = {8, 16, 32, 64, 128};
        long total = 0;
        for (int d : depths) {
            total += BackpropCommand.sweepCost(d);
        }
        long beforeLast = total - BackpropCommand.sweepCost(128);
        // counting depths said 80% done here; the work done is a quarter of the sweep
        assertThat((double) beforeLast / total).isLessThan(0.3);
    }

    @Test
    void shouldWarnWhenTheTopHessianEigenvalueHasNotConverged(@TempDir Path dir) throws Exception {
        TrainCommandTest.findData();
        String data = TrainCommandTest.dataDir.toString();
        CliRunner.Run trained = CliRunner.run("train", "--data-dir", data, "--train-limit", "512", "--epochs", "1",
                "--widths", "16", "--out", dir.resolve("run").toString());
        assertThat(trained.exitCode()).as(trained.err()).isZero();
        Path out = dir.resolve("line");
        CliRunner.Run r = CliRunner.run("landscape", "line", "--model", dir.resolve("run/model.descent").toString(),
                "--data-dir", data, "--points", "3", "--train-examples", "200", "--test-examples", "200",
                "--sharpness-examples", "200", "--power-iterations", "1", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("NOT converged").contains("warning: the top Hessian eigenvalue");
        assertThat(java.nio.file.Files.readString(out.resolve("summary.json"))).contains("\"warning\"")
                .contains("raise --power-iterations");
    }

    @Test
    void shouldShowEveryStorysOwnDefaultsForEpochsAndExamplesInItsHelp() {
        for (String[] story : new String[][] {{"landscape-dropout", "30", "6000"}, {"skip-connections", "8", "10000"},
            {"landscape-plane", "10", "6000"}, {"wide-narrow", "30", "5000"}}) {
            CliRunner.Run r = CliRunner.run("story", story[0], "--help");
            assertThat(r.exitCode()).isZero();
            String help = r.out().replaceAll("\\s+", " ");
            assertThat(help).as(story[0]).contains("--epochs=<epochs> training epochs (default: " + story[1] + ")")
                    .contains("--train-limit=<trainLimit> train on the first N training examples (default: "
                            + story[2] + ")");
        }
    }
}
