package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * SAM composed with gradient accumulation: the gradient at w is accumulated over micro-batches, SAM's second pass
 * runs on the whole batch; the gradient slab afterwards equals SAM on one big pass (up to float rounding) and
 * differs from the plain micro-batched gradient (so the second pass really ran).
 */
class SamMicroBatchTest {
    private static final int BATCH = 12;
    private static final int IN = 6;
    private static final int CLASSES = 4;

    @Test
    void shouldGiveSamsGradientWhetherTheFirstPassIsSplitOrNot() {
        float[] big = gradient(0, Optimizers.sam(Optimizers.sgd(0.1), 0.3));
        float[] split = gradient(5, Optimizers.sam(Optimizers.sgd(0.1), 0.3));
        float[] plain = gradient(5, null);
        double diff = 0;
        double norm = 0;
        double fromPlain = 0;
        for (int i = 0; i < big.length; i++) {
            diff = Math.max(diff, Math.abs(big[i] - split[i]));
            norm = Math.max(norm, Math.abs(big[i]));
            fromPlain = Math.max(fromPlain, Math.abs(big[i] - plain[i]));
        }
        assertThat(diff).isLessThan(1e-5 * Math.max(1, norm));
        assertThat(fromPlain).isGreaterThan(1e-3 * norm);
    }

    private static float[] gradient(int microBatch, Optimizer optimizer) {
        KernelBackend k = Kernels.scalar();
        try (Model m = Sequential.input(IN).add(new Linear(7)).add(new ActivationLayer(Activation.TANH))
                .add(new Linear(CLASSES)).build().initialize(Init.normal(0.5), Init.normal(0.3), 3);
             GradientPass pass = new GradientPass(m, k, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, BATCH, 1, 42,
                     microBatch, optimizer);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * IN, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) BATCH * Integer.BYTES, Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(11);
            for (int i = 0; i < BATCH * IN; i++) {
                x.setFloat(i, (float) rng.nextGaussian());
            }
            for (int r = 0; r < BATCH; r++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, r, rng.nextInt(CLASSES));
            }
            pass.run(x.segment(), 0, y.segment(), 0, BATCH, 3);
            int n = (int) m.layout().totalFloats();
            float[] g = new float[n];
            for (int i = 0; i < n; i++) {
                g[i] = m.grads().segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
            }
            return g;
        }
    }
}
