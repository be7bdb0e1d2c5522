package dev.descent.samples.cli;

import dev.descent.samples.DescentCli;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code descent aot-training} (hidden): the workload that scripts/aot-cache.sh records into the JDK AOT cache, so
 * the classes and method profiles of what users run most are in it: a 1-epoch {@code bench train} (the in-process
 * training loop and its kernels), a short {@code train} (the engine: the Pekko actor system, data-parallel workers,
 * the figures) and a small {@code landscape plane} on the model it saved (the evaluators, the landscape figures).
 * A cache recorded from {@code bench train} alone left Pekko's ~1 s of class loading out of it (docs/performance.md).
 * Writes into a temporary folder that it deletes; exits non-zero if one of the three fails.
 */
@Command(name = "aot-training", hidden = true, mixinStandardHelpOptions = true,
        description = "The workload recorded into the JDK AOT cache (scripts/aot-cache.sh): bench train, train, "
                + "landscape plane, each short, in a temporary folder.")
public final class AotTrainingCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Override
    public Integer call() throws IOException {
        Path tmp = Files.createTempDirectory("descent-aot-training");
        try {
            List<String[]> steps = List.of(
                    new String[] {"bench", "train", "--epochs", "1", "--threads", "1", "--out",
                        tmp.resolve("bench").toString()},
                    new String[] {"train", "--epochs", "1", "--train-limit", "12000", "--out",
                        tmp.resolve("train").toString()},
                    new String[] {"landscape", "plane", "--model", tmp.resolve("train/model.descent").toString(),
                        "--grid", "5", "--train-examples", "1000", "--test-examples", "1000",
                        "--sharpness-examples", "0", "--out", tmp.resolve("landscape").toString()});
            for (String[] step : steps) {
                List<String> args = new ArrayList<>(List.of(step));
                if (dataDir != null) {
                    args.addAll(step[0].equals("train") ? 1 : 2, List.of("--data-dir", dataDir.toString()));
                }
                CommandLine cl = DescentCli.commandLine();
                cl.setOut(spec.commandLine().getOut());
                cl.setErr(spec.commandLine().getErr());
                int code = cl.execute(args.toArray(String[]::new));
                if (code != 0) {
                    spec.commandLine().getErr().println("aot-training: `descent " + String.join(" ", args)
                            + "` exited with " + code);
                    return code;
                }
            }
            return 0;
        } finally {
            deleteTree(tmp);
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("aot-training: could not delete " + root, e);
        }
    }
}
