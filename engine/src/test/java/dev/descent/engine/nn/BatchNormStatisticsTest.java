package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Running statistics of BatchNorm: once per step under every strategy, frozen on demand, used in eval mode, and
 * part of the model's state as buffers (snapshots, copies).
 */
class BatchNormStatisticsTest {
    private static final int BATCH = 8;

    /** Six top-level modules, a top-level BN and one nested in a residual block, so every strategy recomputes them. */
    private static Model model() {
        return Sequential.input(2, 4, 4)
                .add(new Conv2d(3, 3)).add(new BatchNorm()).add(new ActivationLayer(Activation.RELU))
                .add(new Flatten())
                .add(new Residual(true, new Linear(48), new BatchNorm(), new ActivationLayer(Activation.TANH)))
                .add(new Linear(3))
                .build().initialize(Init.normal(0.3), Init.ZEROS, 2);
    }

    private static List<BatchNorm> norms(Model m) {
        List<BatchNorm> out = new ArrayList<>();
        collect(m.layers(), out);
        return out;
    }

    private static void collect(List<Module> mods, List<BatchNorm> out) {
        for (Module mod : mods) {
            if (mod instanceof BatchNorm bn) {
                out.add(bn);
            } else if (mod instanceof CompositeModule c) {
                collect(c.children(), out);
            }
        }
    }

    /** Runs {@code steps} forward/backward passes on fixed random batches (step s uses batch seed s). */
    private static void run(Model m, BackpropStrategy strategy, int steps, boolean training) {
        KernelBackend k = Kernels.backend();
        try (BackpropExecutor ex = new BackpropExecutor(m, strategy, BATCH);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * m.inputSize(), Purpose.BATCHES)) {
            ExecutionContext ctx = new ExecutionContext(k).training(training);
            for (int s = 0; s < steps; s++) {
                SplittableRandom rng = new SplittableRandom(s);
                for (int i = 0; i < BATCH * m.inputSize(); i++) {
                    x.setFloat(i, (float) (rng.nextGaussian() + 0.5));
                }
                ctx.step(s);
                ex.forward(ctx, x.segment(), 0, BATCH);
                for (int i = 0; i < BATCH * m.outputSize(); i++) {
                    ex.outputGradient().setAtIndex(ValueLayout.JAVA_FLOAT, ex.outputGradientOffset() + i, 0.1f * (i % 3));
                }
                ex.backward(ctx);
            }
        }
    }

    @Test
    void shouldUpdateRunningStatisticsExactlyOncePerStepUnderEveryStrategy() {
        float[][] reference = null;
        for (BackpropStrategy s : new BackpropStrategy[]{BackpropStrategy.VANILLA, BackpropStrategy.RECOMPUTE,
                BackpropStrategy.checkpointed(2), BackpropStrategy.checkpointed(4)}) {
            try (Model m = model()) {
                run(m, s, 3, true);
                List<BatchNorm> bns = norms(m);
                assertThat(bns).hasSize(2);
                float[][] stats = new float[4][];
                for (int i = 0; i < 2; i++) {
                    assertThat(bns.get(i).statisticsUpdates()).as("%s bn %d", s.name(), i).isEqualTo(3);
                    stats[2 * i] = bns.get(i).runningMean();
                    stats[2 * i + 1] = bns.get(i).runningVar();
                }
                if (reference == null) {
                    reference = stats;
                    assertThat(stats[0]).as("running mean moved").isNotEqualTo(new float[3]);
                } else {
                    for (int i = 0; i < 4; i++) {
                        assertThat(stats[i]).as("%s statistics %d", s.name(), i).containsExactly(reference[i]);
                    }
                }
            }
        }
    }

    @Test
    void shouldLeaveFrozenStatisticsAloneButStillNormalizeWithBatchStatistics() {
        try (Model frozen = model(); Model live = model()) {
            BatchNorm.freezeStatistics(frozen, true);
            run(frozen, BackpropStrategy.VANILLA, 2, true);
            run(live, BackpropStrategy.VANILLA, 1, true);
            for (BatchNorm bn : norms(frozen)) {
                assertThat(bn.statisticsFrozen()).isTrue();
                assertThat(bn.statisticsUpdates()).isZero();
                assertThat(bn.runningMean()).containsOnly(0f);
                assertThat(bn.runningVar()).containsOnly(1f);
            }
            // same gradients as an unfrozen model on the same batch: batch statistics were used
            try (Model a = model(); Model b = model()) {
                BatchNorm.freezeStatistics(a, true);
                run(a, BackpropStrategy.VANILLA, 1, true);
                run(b, BackpropStrategy.VANILLA, 1, true);
                for (long i = 0; i < a.layout().totalFloats(); i++) {
                    assertThat(a.grads().getFloat(i)).isEqualTo(b.grads().getFloat(i));
                }
            }
            BatchNorm.freezeStatistics(frozen, false);
            run(frozen, BackpropStrategy.VANILLA, 1, true);
            assertThat(norms(frozen).get(0).statisticsUpdates()).isEqualTo(1);
        }
    }

    @Test
    void shouldNormalizeWithRunningStatisticsInEvalMode() {
        try (Model m = Sequential.input(3).add(new BatchNorm()).build();
             OffHeapBlock x = OffHeapBlock.allocateFloats(6, Purpose.BATCHES);
             BackpropExecutor ex = new BackpropExecutor(m, BackpropStrategy.VANILLA, 2)) {
            BatchNorm bn = (BatchNorm) m.layer(0);
            bn.setRunningStatistics(new float[]{1f, -2f, 0f}, new float[]{4f, 0.25f, 1f});
            float[] in = {3f, -2f, 5f, 1f, -1f, -1f};
            for (int i = 0; i < 6; i++) {
                x.setFloat(i, in[i]);
            }
            ExecutionContext eval = new ExecutionContext(Kernels.backend()).training(false);
            ex.forward(eval, x.segment(), 0, 2);
            float[] mean = {1f, -2f, 0f};
            float[] var = {4f, 0.25f, 1f};
            for (int i = 0; i < 6; i++) {
                float expect = (float) ((in[i] - mean[i % 3]) / Math.sqrt(var[i % 3] + 1e-5));
                assertThat(ex.segment().getAtIndex(ValueLayout.JAVA_FLOAT, ex.outputOffset() + i))
                        .isCloseTo(expect, org.assertj.core.data.Offset.offset(1e-5f));
            }
            assertThat(bn.statisticsUpdates()).isZero();
        }
    }

    /** Every BatchNorm's running mean then variance, in execution order: what {@link Model#writeBuffers} gives. */
    private static float[] statistics(Model m) {
        List<Float> all = new ArrayList<>();
        for (BatchNorm bn : norms(m)) {
            for (float v : bn.runningMean()) {
                all.add(v);
            }
            for (float v : bn.runningVar()) {
                all.add(v);
            }
        }
        float[] out = new float[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return out;
    }

    @Test
    void shouldExposeNestedRunningStatisticsAsModelBuffersInExecutionOrder() {
        // BN at top level, inside a residual body and as a residual's projection
        try (Model m = Sequential.input(6).add(new Linear(5)).add(new BatchNorm())
                .add(Residual.withProjection(new BatchNorm(), new Linear(5), new BatchNorm()))
                .add(new Linear(2)).build().initialize(Init.normal(0.3), Init.ZEROS, 2)) {
            assertThat(m.bufferFloats()).isEqualTo(3 * 2 * 5);
            assertThat(m.buffers()).containsExactly(statistics(m)); // defaults: (0..., 1...) per layer
            float[] b = m.buffers();
            for (int i = 0; i < b.length; i++) {
                b[i] = i * 0.5f - 3f;
            }
            m.readBuffers(MemorySegment.ofArray(b), 0);
            assertThat(statistics(m)).containsExactly(b);
            assertThat(m.buffers()).containsExactly(b);
        }
        try (Model plain = Sequential.input(3).add(new Linear(2)).build()) {
            assertThat(plain.bufferFloats()).isZero();
            assertThat(plain.buffers()).isEmpty();
        }
    }

    @Test
    void shouldRestoreRunningStatisticsFromASnapshotAndCopyThemBetweenModels() {
        try (Model m = model(); Model other = model()) {
            run(m, BackpropStrategy.VANILLA, 2, true);
            float[] atSnapshot = statistics(m);
            try (ParameterSnapshot s = m.snapshot()) {
                assertThat(s.buffers().byteSize()).isEqualTo(m.bufferFloats() * Float.BYTES);
                run(m, BackpropStrategy.VANILLA, 3, true);
                float[] later = statistics(m);
                assertThat(later).isNotEqualTo(atSnapshot);
                m.restore(s);
                assertThat(statistics(m)).containsExactly(atSnapshot);
                run(m, BackpropStrategy.VANILLA, 3, true);
                assertThat(statistics(m)).containsExactly(later);
                m.snapshotInto(s);
                run(m, BackpropStrategy.VANILLA, 1, true);
                m.restore(s);
                assertThat(statistics(m)).containsExactly(later);
            }
            assertThat(statistics(other)).isNotEqualTo(statistics(m));
            other.copyParametersFrom(m);
            assertThat(statistics(other)).containsExactly(statistics(m));
            assertThat(other.parametersSha256()).isEqualTo(m.parametersSha256());
        }
    }

    @Test
    void shouldSnapshotAndRestoreBuffersWithoutAllocating() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        try (Model m = model(); ParameterSnapshot s = m.snapshot()) {
            for (int i = 0; i < 20_000; i++) {
                m.snapshotInto(s);
                m.restore(s);
            }
            long best = Long.MAX_VALUE;
            for (int t = 0; t < 5; t++) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 1_000; i++) {
                    m.snapshotInto(s);
                    m.restore(s);
                }
                best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
            }
            assertThat(best).as("bytes allocated by 1000 snapshotInto + restore").isZero();
        }
    }
}
