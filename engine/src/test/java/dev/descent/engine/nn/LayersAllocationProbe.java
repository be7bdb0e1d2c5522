package dev.descent.engine.nn;

import com.sun.management.ThreadMXBean;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Child-JVM program of {@code LayersAllocationAndSpecTest}: trains a conv/pool/norm/residual model and a
 * 2-block transformer for steps under every backprop strategy and prints, per configuration, the fewest bytes
 * the thread allocated over 10 steps once warm ({@code ALLOCATES} when that never reached 0).
 */
public final class LayersAllocationProbe {
    private LayersAllocationProbe() {
    }

    static Model cnnWithNorms() {
        return Sequential.input(1, 12, 12)
                .add(new Conv2d(4, 3)).add(new BatchNorm()).add(new ActivationLayer(Activation.RELU))
                .add(new MaxPool2d(2)).add(new Conv2d(6, 3, 2, 1)).add(new AvgPool2d(3, 1, 1))
                .add(new GlobalAvgPool())
                .add(Residual.withProjection(new Linear(8), new Linear(8), new LayerNorm(),
                        new ActivationLayer(Activation.GELU)))
                .add(new Residual(false, new Linear(8), new BatchNorm()))
                .add(new Linear(5))
                .build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, 1);
    }

    static Model transformer() {
        return Models.transformer(11, 5, 32, 4, 2, 1);
    }

    public static void main(String[] args) {
        int configs = 0;
        for (Supplier<Model> build : List.<Supplier<Model>>of(LayersAllocationProbe::cnnWithNorms,
                LayersAllocationProbe::transformer)) {
            for (BackpropStrategy s : new BackpropStrategy[]{BackpropStrategy.VANILLA, BackpropStrategy.RECOMPUTE,
                    BackpropStrategy.checkpointed()}) {
                try (Model m = build.get()) {
                    long bytes = allocatedBytes(m, s, Kernels.backend());
                    System.out.println(m.layer(0).kind() + " " + s.name() + ": "
                            + (bytes == 0 ? "0 bytes per 10 steps" : "ALLOCATES " + bytes + " bytes per 10 steps"));
                    configs++;
                }
            }
        }
        System.out.println("checked " + configs + " configurations on the " + Kernels.backend().name() + " kernels");
    }

    private static long allocatedBytes(Model m, BackpropStrategy s, KernelBackend k) {
        int batch = 6;
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        try (BackpropExecutor ex = new BackpropExecutor(m, s, batch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * m.inputSize(), Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(3);
            int vocab = m.layer(0) instanceof Embedding e ? e.vocab() : 0;
            for (int i = 0; i < batch * m.inputSize(); i++) {
                x.setFloat(i, vocab > 0 ? rng.nextInt(vocab) : (float) rng.nextGaussian());
            }
            ExecutionContext ctx = new ExecutionContext(k).training(true);
            // the Vector API allocates (boxed vectors) until C2 has compiled the kernels, which takes seconds on a
            // busy 2-core machine (seen: > 40 s under a load of 8): keep the best of rounds of 10 steps, for up to
            // 120 s; a configuration that is allocation-free stops at its first clean round
            long best = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 120_000_000_000L;
            for (int round = 0; best > 0 && System.nanoTime() < deadline; round++) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int step = 0; step < 10; step++) {
                    ctx.step(round * 10L + step);
                    ex.forward(ctx, x.segment(), 0, batch);
                    for (int i = 0; i < batch * m.outputSize(); i++) {
                        ex.outputGradient().setAtIndex(ValueLayout.JAVA_FLOAT, ex.outputGradientOffset() + i, 0.01f);
                    }
                    ex.backward(ctx);
                }
                best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
            }
            return best;
        }
    }
}
