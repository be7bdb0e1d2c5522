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

/** `descent train` never fails silently: bad flags before training, unwritable folders, unreadable checkpoints. */
class TrainFailureTest {
    private static final String[] QUICK = {"--train-limit", "1000", "--epochs", "2", "--widths", "32", "--workers",
        "1"};

    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    private static String[] train(String... more) {
        return TrainCommandTest.concat(TrainCommandTest.concat(new String[] {"train", "--data-dir",
            TrainCommandTest.dataDir.toString()}, QUICK), more);
    }

    @Test
    void shouldRefuseBadCheckpointFlagsAndAnUnwritableOutBeforeTraining(@TempDir Path tmp) throws Exception {
        CliRunner.Run negative = CliRunner.run(train("--checkpoint-every", "-5", "--out", tmp.resolve("a").toString()));
        assertThat(negative.exitCode()).isEqualTo(2);
        assertThat(negative.err()).contains("--checkpoint-every must be >= 0").doesNotContain("epoch 1/");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        CliRunner.Run unwritable = CliRunner.run(train("--out", file.resolve("sub").toString()));
        assertThat(unwritable.exitCode()).isEqualTo(2);
        assertThat(unwritable.out()).doesNotContain("epoch 1/");
        assertThat(unwritable.err().strip().lines()).hasSize(1);
        CliRunner.Run fresh = CliRunner.run(train("--fresh", "--out", tmp.resolve("b").toString()));
        assertThat(fresh.exitCode()).isEqualTo(2);
        assertThat(fresh.err()).contains("--fresh only applies with --resume");
    }

    @Test
    void shouldFailShortAndLoudWhenCheckpointsCannotBeWritten(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Files.createDirectories(out);
        Files.writeString(out.resolve("checkpoints"), "a file where the folder should be");
        CliRunner.Run r = CliRunner.run(train("--checkpoint-every", "2", "--out", out.toString()));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("checkpoint writes failed 3 times in a row").doesNotContain("\tat ");
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.out()).doesNotContain("done:");
        JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("status").asText()).isEqualTo("failed");
        assertThat(summary.get("checkpoint_write_failures").asInt()).isEqualTo(3);
        assertThat(summary.get("last_checkpoint").isNull()).isTrue();
    }

    @Test
    void shouldRefuseToResumeFromUnreadableCheckpointsUnlessFresh(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        CliRunner.Run first = CliRunner.run(train("--checkpoint-every", "4", "--out", out.toString()));
        assertThat(first.exitCode()).as(first.err()).isZero();
        List<String> epochsBefore = Files.readAllLines(out.resolve("metrics.csv"));
        assertThat(epochsBefore).hasSize(3);
        try (var files = Files.list(out.resolve("checkpoints"))) {
            for (Path f : files.toList()) {
                byte[] b = Files.readAllBytes(f);
                b[2] ^= 0x20; // the magic of every checkpoint
                Files.write(f, b);
            }
        }
        CliRunner.Run refused = CliRunner.run(train("--checkpoint-every", "4", "--resume", out.toString()));
        assertThat(refused.exitCode()).isEqualTo(2);
        assertThat(refused.err()).contains("can be read", "--fresh").doesNotContain("\tat ");
        assertThat(Files.readAllLines(out.resolve("metrics.csv"))).isEqualTo(epochsBefore); // outputs untouched
        CliRunner.Run fresh = CliRunner.run(train("--checkpoint-every", "4", "--resume", out.toString(), "--fresh"));
        assertThat(fresh.exitCode()).as(fresh.err()).isZero();
        assertThat(fresh.err()).contains("starting over");
        try (var files = Files.list(out.resolve("checkpoints"))) {
            assertThat(files.filter(Files::isDirectory).map(p -> p.getFileName().toString()))
                    .anySatisfy(n -> assertThat(n).startsWith("unreadable-"));
        }
    }
}
