package dev.descent.engine.backprop;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Compares the three backprop strategies on one deep MLP: input {@code width}, {@code depth} blocks of
 * Linear(width) + ReLU, Linear(10) — {@code 2·depth + 1} modules — on random data with cross-entropy.
 * For each strategy: exact peak live activation bytes and forward evaluations per step (from the
 * {@link ActivationLedger}) and the mean wall seconds of forward + loss + backward per step.
 */
public final class BackpropBenchmark {
    /** Classes of the benchmark's output layer. */
    public static final int CLASSES = 10;

    /**
     * One strategy's numbers.
     *
     * @param modules             modules in the chain (n)
     * @param interval            checkpoint interval used (vanilla 1, recompute n)
     * @param peakActivationBytes exact peak of live forward values in a step (input included)
     * @param forwardEvaluations  module forward evaluations per step (recomputes included)
     * @param secondsPerStep      mean seconds of forward + loss + backward
     * @param gradientBufferBytes activation-gradient buffers (same for every strategy, not in the peak)
     */
    public record Result(String strategy, int depth, int width, int batch, int modules, int interval,
                         long peakActivationBytes, long forwardEvaluations, double secondsPerStep,
                         long gradientBufferBytes) {
    }

    private BackpropBenchmark() {
    }

    /** The benchmark network, initialized with Kaiming normal (seed 1). */
    public static Model network(int depth, int width) {
        if (depth < 1 || width < 1) {
            throw new IllegalArgumentException("depth and width must be >= 1, were " + depth + ", " + width);
        }
        Sequential s = Sequential.input(width);
        for (int i = 0; i < depth; i++) {
            s.add(new Linear(width)).add(new ActivationLayer(Activation.RELU));
        }
        s.add(new Linear(CLASSES));
        return s.build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, 1);
    }

    /** Runs vanilla, recompute and checkpointed (default interval), in that order. */
    public static List<Result> run(int depth, int width, int batch, int warmupSteps, int steps, int threads,
                                   KernelBackend kernels) {
        return run(depth, width, batch, warmupSteps, steps, threads, kernels,
                List.of(BackpropStrategy.VANILLA, BackpropStrategy.RECOMPUTE, BackpropStrategy.checkpointed()));
    }

    public static List<Result> run(int depth, int width, int batch, int warmupSteps, int steps, int threads,
                                   KernelBackend kernels, List<BackpropStrategy> strategies) {
        if (batch < 1 || steps < 1 || warmupSteps < 0 || threads < 1) {
            throw new IllegalArgumentException("batch, steps and threads must be >= 1 and warmup >= 0");
        }
        List<Result> results = new ArrayList<>();
        try (Model model = network(depth, width);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * width, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) batch * Integer.BYTES, Purpose.BATCHES);
             Loss loss = LossKind.CROSS_ENTROPY.create(batch, CLASSES)) {
            SplittableRandom rng = new SplittableRandom(7);
            for (long i = 0; i < (long) batch * width; i++) {
                x.setFloat(i, (float) rng.nextGaussian());
            }
            for (int i = 0; i < batch; i++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, i, rng.nextInt(CLASSES));
            }
            for (BackpropStrategy s : strategies) {
                try (BackpropExecutor ex = new BackpropExecutor(model, s, batch)) {
                    ExecutionContext ctx = new ExecutionContext(kernels).threads(threads).training(true);
                    for (int i = 0; i < warmupSteps; i++) {
                        step(ex, ctx, loss, kernels, x, y, batch, i);
                    }
                    long t0 = System.nanoTime();
                    for (int i = 0; i < steps; i++) {
                        step(ex, ctx, loss, kernels, x, y, batch, warmupSteps + i);
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9 / steps;
                    results.add(new Result(s.name(), depth, width, batch, model.layerCount(), ex.interval(),
                            ex.ledger().peakBytes(), ex.ledger().forwardEvaluations(), seconds,
                            ex.gradientBufferBytes(batch)));
                }
            }
        }
        return results;
    }

    private static void step(BackpropExecutor ex, ExecutionContext ctx, Loss loss, KernelBackend k, OffHeapBlock x,
                             OffHeapBlock y, int batch, long step) {
        ctx.step(step);
        ex.forward(ctx, x.segment(), 0, batch);
        loss.forward(k, ex.segment(), ex.outputOffset(), y.segment(), 0, batch);
        loss.backward(k, ex.outputGradient(), ex.outputGradientOffset(), y.segment(), 0, batch);
        ex.backward(ctx);
    }
}
