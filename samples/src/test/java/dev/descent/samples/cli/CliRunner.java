package dev.descent.samples.cli;

import dev.descent.samples.DescentCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the real command line in-process and captures what it prints. */
final class CliRunner {
    record Run(int exitCode, String out, String err) {
    }

    private CliRunner() {
    }

    static synchronized Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        try (PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(ps);
            CommandLine cl = DescentCli.commandLine(args); // as main builds it: only the named subcommand
            cl.setOut(new PrintWriter(ps, true));
            cl.setErr(new PrintWriter(new PrintStream(err, true, StandardCharsets.UTF_8), true));
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }
}
