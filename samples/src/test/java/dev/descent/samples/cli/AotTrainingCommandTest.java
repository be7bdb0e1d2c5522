package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The hidden workload scripts/aot-cache.sh records: all three steps succeed and nothing is left behind. */
class AotTrainingCommandTest {

    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    private static List<Path> leftovers() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("descent-aot-training")).toList();
        }
    }

    @Test
    void shouldRunBenchTrainTrainAndALandscapeAndCleanUp() throws IOException {
        List<Path> before = leftovers();
        CliRunner.Run run = CliRunner.run("aot-training", "--data-dir", TrainCommandTest.dataDir.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("examples/s").contains("25 points");
        assertThat(leftovers()).containsExactlyInAnyOrderElementsOf(before);
        assertThat(CliRunner.run("--help").out()).doesNotContain("aot-training"); // hidden
    }

    @Test
    void shouldReportTheStepThatFailed() {
        CliRunner.Run run = CliRunner.run("aot-training", "--data-dir", "/nonexistent/descent-data");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("aot-training: `descent bench train --data-dir /nonexistent/descent-data")
                // a missing dataset is bad input: one line naming the command, no stack trace
                .contains("descent bench train: Fashion-MNIST train split not found")
                .doesNotContain("unexpected failure").doesNotContain("\tat ");
    }
}
