package dev.descent.samples.cli;

import dev.descent.engine.kernel.GemmThroughput;
import dev.descent.engine.kernel.Kernels;
import dev.descent.samples.OutputDir;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent bench ...}: whole-operation benchmarks that print figures and write summary.json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: kernels and training throughput (compare with peers via bench/compare-*.sh).",
        subcommands = {BenchCommand.Gemm.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true,
            description = "SGEMM throughput in GFLOP/s: C[m,n] = A[m,k]·B[k,n] (or the NT/TN layouts).")
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--size", defaultValue = "1024", description = "m = n = k (default: ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--m", description = "rows of C (overrides --size)")
        Integer m;

        @Option(names = "--n", description = "columns of C (overrides --size)")
        Integer n;

        @Option(names = "--k", description = "inner dimension (overrides --size)")
        Integer k;

        @Option(names = "--layout", defaultValue = "NN", description = "NN, NT or TN (default: ${DEFAULT-VALUE})")
        String layout;

        @Option(names = "--threads", defaultValue = "1", description = "kernel threads (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--seconds", defaultValue = "3", description = "timed seconds (default: ${DEFAULT-VALUE})")
        double seconds;

        @Option(names = "--out", defaultValue = "out/bench-gemm", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Override
        public Integer call() {
            int mm = m != null ? m : size;
            int nn = n != null ? n : size;
            int kk = k != null ? k : size;
            if (threads > Kernels.pool().size()) {
                throw new IllegalArgumentException("--threads " + threads + " exceeds the kernel pool ("
                        + Kernels.pool().size() + " cores)");
            }
            GemmThroughput.Result r = GemmThroughput.measure(mm, nn, kk, layout, threads, seconds);
            System.out.printf(Locale.ROOT, "gemm %s %dx%dx%d, %d thread(s), %s kernels: %.1f GFLOP/s "
                            + "(best %.1f, %.3f ms per product, %d products)%n",
                    r.layout(), mm, nn, kk, threads, r.backend(), r.gflops(), r.bestGflops(), r.millisPerProduct(),
                    r.repetitions());
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("gflops", r.gflops());
            summary.put("best_gflops", r.bestGflops());
            summary.put("size", size);
            summary.put("m", mm);
            summary.put("n", nn);
            summary.put("k", kk);
            summary.put("layout", r.layout());
            summary.put("threads", threads);
            summary.put("backend", r.backend());
            summary.put("seconds", r.seconds());
            summary.put("repetitions", r.repetitions());
            Path written = OutputDir.create(out).writeJson("summary.json", summary);
            System.out.println("wrote " + written);
            return 0;
        }
    }
}
