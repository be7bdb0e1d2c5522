package dev.descent.sdk;

import dev.descent.engine.backprop.BackpropBenchmark;
import dev.descent.engine.kernel.GemmThroughput;
import dev.descent.engine.kernel.Kernels;
import java.util.List;

/**
 * Whole-operation measurements on this JVM's kernels (see {@link Descent#kernels()}): SGEMM throughput and the
 * memory/time trade-off of the backprop strategies. They report figures; they assert nothing (speed is measured,
 * not assumed). Training throughput is {@link Descent#trainInProcess} or a job's {@link TrainingResult}.
 */
public final class Benchmarks {
    private Benchmarks() {
    }

    /**
     * SGEMM throughput of {@code C[m,n] = op(A)·op(B)} after a JIT warm-up.
     *
     * @param layout  {@code NN} (A[m,k]·B[k,n]), {@code NT} (A[m,k]·B[n,k]ᵀ) or {@code TN} (A[k,m]ᵀ·B[k,n])
     * @param threads kernel threads, 1 to {@link KernelInfo#maxThreads()}
     * @param seconds approximate timed duration (&gt; 0); the warm-up adds half of it (at least 0.5 s)
     * @throws IllegalArgumentException naming the bad size, layout, thread count or duration
     */
    public static GemmMeasurement gemm(int m, int n, int k, String layout, int threads, double seconds) {
        int max = Kernels.pool().size();
        if (threads < 1 || threads > max) {
            throw new IllegalArgumentException("threads must be between 1 and the kernel pool's " + max
                    + ", was " + threads);
        }
        GemmThroughput.Result r = GemmThroughput.measure(m, n, k, layout, threads, seconds);
        return new GemmMeasurement(r.m(), r.n(), r.k(), r.layout(), r.threads(), r.backend(), r.repetitions(),
                r.seconds(), r.gflops(), r.bestGflops());
    }

    /**
     * The three backprop strategies on one deep MLP (input {@code width}, {@code depth} blocks of Linear(width) +
     * ReLU, Linear(10); Kaiming init, seed 1) with cross-entropy on random data: vanilla (store every activation),
     * recompute (keep only the input, O(n²) forward evaluations) and checkpointed (every ceil(√n)-th activation), in
     * that order. Each runs {@code warmupSteps} untimed steps, then {@code steps} timed ones.
     *
     * @throws IllegalArgumentException naming the bad value
     */
    public static List<BackpropMeasurement> backprop(int depth, int width, int batch, int warmupSteps, int steps,
                                                     int threads) {
        if (depth < 1 || width < 1 || batch < 1 || steps < 1 || warmupSteps < 0) {
            throw new IllegalArgumentException("depth, width, batch and steps must be >= 1 and warmup steps >= 0; got "
                    + "depth " + depth + ", width " + width + ", batch " + batch + ", steps " + steps + ", warmup "
                    + warmupSteps);
        }
        int max = Kernels.pool().size();
        if (threads < 1 || threads > max) {
            throw new IllegalArgumentException("threads must be between 1 and the kernel pool's " + max
                    + ", was " + threads);
        }
        return BackpropBenchmark.run(depth, width, batch, warmupSteps, steps, threads, Kernels.backend()).stream()
                .map(r -> new BackpropMeasurement(r.strategy(), r.depth(), r.width(), r.batch(), r.modules(),
                        r.interval(), r.peakActivationBytes(), r.forwardEvaluations(), r.secondsPerStep(),
                        r.gradientBufferBytes()))
                .toList();
    }
}
