package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ctrl-C during `descent train`: a checkpoint, a message saying what was kept and where, exit code 130. */
class TrainInterruptTest {
    @Test
    void shouldCheckpointSayWhereAndExitWith130OnCtrlC(@TempDir Path tmp) throws Exception {
        TrainCommandTest.findData();
        Path out = tmp.resolve("run");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), "dev.descent.samples.DescentCli",
                "train", "--data-dir", TrainCommandTest.dataDir.toString(), "--train-limit", "4096", "--epochs", "50",
                "--widths", "64", "--workers", "1", "--checkpoint-every", "5", "--out", out.toString()));
        Path log = tmp.resolve("log.txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            Path checkpoints = out.resolve("checkpoints");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!(Files.isDirectory(checkpoints) && countFiles(checkpoints) > 0) && p.isAlive()
                    && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
            new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).start().waitFor(10, TimeUnit.SECONDS);
            assertThat(p.waitFor(90, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        String text = Files.readString(log, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(text).isEqualTo(130);
        assertThat(text).contains("interrupted at step").contains("continue with --resume " + out)
                .doesNotContain("unexpected failure").doesNotContain("Exception");
    }

    private static long countFiles(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> !f.getFileName().toString().startsWith(".")).count();
        }
    }
}
