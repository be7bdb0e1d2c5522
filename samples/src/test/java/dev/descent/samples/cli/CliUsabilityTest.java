package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

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
    void shouldNameTheNestedCommandInTheHint() {
        CliRunner.Run r = CliRunner.run("landscape", "line", "--model", "m.descent", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("descent landscape line: Unknown option: '--bogus'")
                .contains("Try 'descent landscape line --help'");
    }
}
