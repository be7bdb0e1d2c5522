package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `descent train --checkpoint-every N`, killed with SIGKILL mid-run in a child JVM, then `--resume DIR`: ends with
 * exactly the parameters of an uninterrupted run (deterministic mode: fixed workers, one thread each).
 */
class TrainResumeTest {
    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    @Test
    void shouldResumeARunKilledWithSigkillToTheParametersOfAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        String[] common = {"train", "--data-dir", TrainCommandTest.dataDir.toString(), "--train-limit", "4000",
            "--epochs", "3", "--widths", "64", "--dropout", "0.1", "--workers", "1", "--seed", "5"};
        Path whole = tmp.resolve("whole");
        CliRunner.Run a = CliRunner.run(TrainCommandTest.concat(common, "--out", whole.toString()));
        assertThat(a.exitCode()).as(a.err()).isZero();

        Path killed = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), "dev.descent.samples.DescentCli"));
        cmd.addAll(List.of(common));
        cmd.addAll(List.of("--checkpoint-every", "10", "--out", killed.toString()));
        Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (checkpoints(killed) < 2 && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(child.isAlive()).as("the child must still be training when killed: "
                    + Files.readString(tmp.resolve("child.log"))).isTrue();
            child.destroyForcibly(); // SIGKILL
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(Files.exists(killed.resolve("summary.json"))).as("killed before the end").isFalse();

        CliRunner.Run resumed = CliRunner.run(TrainCommandTest.concat(common, "--checkpoint-every", "10",
                "--resume", killed.toString()));
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        // metrics.csv covers every epoch with its real number, however the run was split between processes
        assertThat(Files.readAllLines(killed.resolve("metrics.csv")).stream().skip(1).map(l -> l.split(",")[0]))
                .containsExactly("1", "2", "3");
        ObjectMapper json = new ObjectMapper();
        assertThat(json.readTree(killed.resolve("summary.json").toFile()).get("parameters_sha256").asText())
                .isEqualTo(json.readTree(whole.resolve("summary.json").toFile()).get("parameters_sha256").asText());
        JsonNode s = json.readTree(killed.resolve("summary.json").toFile());
        assertThat(s.get("train_seconds_this_process").asDouble()).isLessThanOrEqualTo(s.get("wall_seconds")
                .asDouble());
    }

    @Test
    void shouldRefuseToResumeAFolderWithoutCheckpoints(@TempDir Path tmp) {
        CliRunner.Run run = CliRunner.run("train", "--data-dir", TrainCommandTest.dataDir.toString(), "--resume",
                tmp.toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--resume " + tmp).contains("no checkpoints/ folder");
    }

    private static long checkpoints(Path out) throws Exception {
        Path dir = out.resolve("checkpoints");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().endsWith(".tmp")).count();
        }
    }
}
