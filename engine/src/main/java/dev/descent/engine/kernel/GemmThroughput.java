package dev.descent.engine.kernel;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A small, self-contained GEMM throughput measurement (not JMH): allocates the operands off-heap, warms up,
 * then repeats the product for about the requested time and reports GFLOP/s (2*m*n*k flops per product).
 * Used by {@code descent bench gemm}; the JMH benchmark in bench/jmh is the rigorous one.
 *
 * <pre>
 * GemmThroughput.Result r = GemmThroughput.measure(1024, 1024, 1024, "NN", 1, 3.0);
 * System.out.println(r.gflops());
 * </pre>
 */
public final class GemmThroughput {
    /** Share of {@code seconds} spent warming up (in addition to the timed part), at least 0.5 s. */
    private static final double WARMUP_SHARE = 0.5;
    private static final double MIN_WARMUP_SECONDS = 0.5;
    /** The warm-up goes on (up to this many times its planned length) until the JIT has been quiet this long. */
    private static final int MAX_WARMUP_STRETCH = 20;
    private static final long JIT_QUIET_NANOS = 500_000_000L;
    /** Side of the small products that make the kernels hot before the first big one. */
    private static final int PRIMER_SIZE = 64;
    private static final int PRIMER_PRODUCTS = 2000;

    private GemmThroughput() {
    }

    /**
     * One measurement.
     *
     * @param backend      kernel backend name ("simd" or "scalar")
     * @param layout       "NN", "NT" or "TN"
     * @param repetitions  timed products
     * @param seconds      timed wall-clock seconds over all repetitions
     * @param gflops       mean throughput over the timed repetitions, 2*m*n*k*repetitions / seconds / 1e9
     * @param bestGflops   throughput of the fastest single repetition
     */
    public record Result(int m, int n, int k, String layout, int threads, String backend, int repetitions,
                         double seconds, double gflops, double bestGflops) {
        /** Mean time of one product in milliseconds. */
        public double millisPerProduct() {
            return seconds * 1e3 / repetitions;
        }

        /** One-line JSON, e.g. for scripts that compare with numpy/torch. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"library\":\"descent\",\"backend\":\"%s\",\"layout\":\"%s\","
                            + "\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d,\"repetitions\":%d,\"seconds\":%.4f,"
                            + "\"ms_per_gemm\":%.4f,\"gflops\":%.2f,\"best_gflops\":%.2f}",
                    backend, layout, m, n, k, threads, repetitions, seconds, millisPerProduct(), gflops,
                    bestGflops);
        }
    }

    /** {@link #measure(KernelBackend, int, int, int, String, int, double)} with {@link Kernels#backend()}. */
    public static Result measure(int m, int n, int k, String layout, int threads, double seconds) {
        return measure(Kernels.backend(), m, n, k, layout, threads, seconds);
    }

    /**
     * Measures {@code C[m,n] = op(A)·op(B)} (accumulate off) in the given layout.
     *
     * @param layout  "NN" (A[m,k]·B[k,n]), "NT" (A[m,k]·B[n,k]ᵀ) or "TN" (A[k,m]ᵀ·B[k,n]), case-insensitive
     * @param threads kernel threads (1 = the calling thread only)
     * @param seconds approximate timed duration (> 0); warm-up adds half of it (at least 0.5 s)
     */
    public static Result measure(KernelBackend backend, int m, int n, int k, String layout, int threads,
                                 double seconds) {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("gemm sizes must be > 0: m=" + m + " n=" + n + " k=" + k);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (!(seconds > 0)) {
            throw new IllegalArgumentException("seconds must be > 0, was " + seconds);
        }
        String lay = layout.trim().toUpperCase(Locale.ROOT);
        if (!lay.equals("NN") && !lay.equals("NT") && !lay.equals("TN")) {
            throw new IllegalArgumentException("layout must be NN, NT or TN, was " + layout);
        }
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            SplittableRandom rnd = new SplittableRandom(42);
            randomize(a.segment(), (long) m * k, rnd);
            randomize(b.segment(), (long) k * n, rnd);
            double flops = 2.0 * m * n * k;

            warmUp(backend, lay, a.segment(), b.segment(), c.segment(), m, n, k, threads,
                    Math.max(MIN_WARMUP_SECONDS, seconds * WARMUP_SHARE));

            long budget = (long) (seconds * 1e9);
            long start = System.nanoTime();
            long now = start;
            long best = Long.MAX_VALUE;
            int reps = 0;
            do {
                long t0 = now;
                run(backend, lay, c.segment(), a.segment(), b.segment(), m, n, k, threads);
                now = System.nanoTime();
                best = Math.min(best, now - t0);
                reps++;
            } while (now - start < budget);
            double elapsed = (now - start) / 1e9;
            return new Result(m, n, k, lay, threads, backend.name(), reps, elapsed, flops * reps / elapsed / 1e9,
                    flops / best);
        }
    }

    /**
     * Warm-up in two phases. Until the JIT has compiled the vector kernels with C2 they run in a profiling tier
     * hundreds of times slower (on a loaded machine the compiler itself can take seconds), so a fixed warm-up
     * time can end before a single product has run compiled. First many small products of the same layout
     * make the kernels hot cheaply; then the real product runs for the planned time and after that until the
     * JIT has been quiet for a while (no compilation time added), within a bound.
     */
    private static void warmUp(KernelBackend backend, String layout, MemorySegment a, MemorySegment b,
                               MemorySegment c, int m, int n, int k, int threads, double warmupSeconds) {
        int pm = Math.min(m, PRIMER_SIZE), pn = Math.min(n, PRIMER_SIZE), pk = Math.min(k, PRIMER_SIZE);
        long primerEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        for (int i = 0; i < PRIMER_PRODUCTS && System.nanoTime() < primerEnd; i++) {
            run(backend, layout, c, a, b, pm, pn, pk, threads);
        }
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        long plannedEnd = start + (long) (warmupSeconds * 1e9);
        long hardEnd = start + (long) (warmupSeconds * MAX_WARMUP_STRETCH * 1e9);
        long jitMillis = jitTimed ? jit.getTotalCompilationTime() : 0;
        long jitQuietSince = start;
        long now;
        do {
            run(backend, layout, c, a, b, m, n, k, threads);
            now = System.nanoTime();
            long t = jitTimed ? jit.getTotalCompilationTime() : 0;
            if (t != jitMillis) {
                jitMillis = t;
                jitQuietSince = now;
            }
        } while (now < hardEnd && (now < plannedEnd || now - jitQuietSince < JIT_QUIET_NANOS));
    }

    private static void run(KernelBackend backend, String layout, MemorySegment c, MemorySegment a, MemorySegment b,
                            int m, int n, int k, int threads) {
        switch (layout) {
            case "NN" -> backend.gemmNN(c, 0, a, 0, b, 0, m, n, k, false, threads);
            case "NT" -> backend.gemmNT(c, 0, a, 0, b, 0, m, n, k, false, threads);
            default -> backend.gemmTN(c, 0, a, 0, b, 0, m, n, k, false, threads);
        }
    }

    private static void randomize(MemorySegment s, long count, SplittableRandom rnd) {
        for (long i = 0; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
    }

    /**
     * Command-line entry for scripts: {@code m n k layout threads seconds}; prints {@link Result#toJson()}.
     */
    public static void main(String[] args) {
        if (args.length != 6) {
            System.err.println("usage: GemmThroughput m n k NN|NT|TN threads seconds");
            System.exit(2);
        }
        Result r = measure(Integer.parseInt(args[0]), Integer.parseInt(args[1]), Integer.parseInt(args[2]), args[3],
                Integer.parseInt(args[4]), Double.parseDouble(args[5]));
        System.out.println(r.toJson());
    }
}
