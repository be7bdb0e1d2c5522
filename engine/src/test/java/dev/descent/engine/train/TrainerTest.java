package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    private static Model mlp(long seed, double dropout) {
        return Mlp.builder().input(8).hidden(32, 16).activation(Activation.RELU).output(4).dropout(dropout)
                .init(Init.KAIMING_NORMAL).seed(seed).build();
    }

    @Test
    void shouldReachHighAccuracyOnSeparableData() {
        try (Dataset train = Synthetic.blobs("train", 2000, 8, 4, 1);
             Dataset test = Synthetic.blobs("test", 500, 8, 4, 2);
             Model m = mlp(1, 0.0)) {
            List<StepReport> steps = new ArrayList<>();
            List<EpochReport> epochs = new ArrayList<>();
            TrainingResult r = Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY)
                    .optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(32).epochs(3).seed(1).build()
                    .fit(train, test, new FitListener() {
                        @Override
                        public boolean wantsGradientNorms() {
                            return true;
                        }

                        @Override
                        public void onStep(StepReport s) {
                            steps.add(s);
                        }

                        @Override
                        public void onEpoch(EpochReport e) {
                            epochs.add(e);
                        }
                    });
            assertThat(r.last().testAccuracy()).isGreaterThan(0.95);
            assertThat(r.last().trainLoss()).isLessThan(epochs.get(0).trainLoss());
            assertThat(steps).hasSize(3 * 63);
            assertThat(steps.get(0).layerNames()).containsExactly("0:linear", "2:linear", "4:linear");
            assertThat(steps.get(0).layerGradientNorms()).hasSize(3);
            assertThat(java.util.Arrays.stream(steps.get(0).layerGradientNorms()).min().orElseThrow()).isPositive();
            assertThat(r.steps()).isEqualTo(189);
            assertThat(r.parametersSha256()).hasSize(64).isEqualTo(m.parametersSha256());
        }
    }

    @Test
    void shouldReachHighAccuracyWithMseAndAdam() {
        try (Dataset train = Synthetic.blobs("train", 2000, 8, 4, 1);
             Dataset test = Synthetic.blobs("test", 500, 8, 4, 2);
             Model m = mlp(1, 0.1)) {
            TrainingResult r = Trainer.builder().model(m).loss(LossKind.MSE).optimizer(Optimizers.adam(0.003))
                    .schedule(LrSchedule.warmupCosine(20, 0.003, 0.0)).batchSize(32).epochs(3).seed(1)
                    .strategy(BackpropStrategy.checkpointed()).clipNorm(5.0).build()
                    .fit(train, test, null);
            assertThat(r.last().testAccuracy()).isGreaterThan(0.95);
        }
    }

    private static String trainOnce(int threads, BackpropStrategy strategy) {
        try (Dataset train = Synthetic.blobs("train", 600, 8, 4, 1);
             Model m = mlp(7, 0.2)) {
            return Trainer.builder().model(m).optimizer(Optimizers.nesterov(0.05, 0.9)).batchSize(50).epochs(2)
                    .seed(3).threads(threads).strategy(strategy).build().fit(train, null, null).parametersSha256();
        }
    }

    /**
     * A dataset held as bytes ({@link Dataset#ofUnitBytes}, as the IDX files are) trains and evaluates to the same
     * bits as the float dataset of the same values: batches gathered and widened, test batches widened into the
     * evaluator's buffer, against rows copied and read in place.
     */
    @Test
    void shouldTrainAndEvaluateABytesDatasetToTheSameBitsAsItsFloats() {
        int n = 600;
        int features = 8;
        java.util.Random random = new java.util.Random(11);
        byte[] pixels = new byte[n * features];
        random.nextBytes(pixels);
        int[] labels = new int[n];
        float[] floats = new float[n * features];
        for (int i = 0; i < n; i++) {
            int sum = 0;
            for (int j = 0; j < features; j++) {
                floats[i * features + j] = (pixels[i * features + j] & 0xFF) / 255f;
                sum += j < 4 ? pixels[i * features + j] & 0xFF : 0;
            }
            labels[i] = Math.min(3, sum / 256); // learnable: the sum of the first four pixels
        }
        String[] sha = new String[2];
        double[] testLoss = new double[2];
        for (int variant = 0; variant < 2; variant++) {
            try (Dataset data = variant == 0 ? Dataset.of("floats", floats, labels, new int[] {features}, 4)
                    : bytes(pixels, labels, features);
                 Dataset test = data.subset(400, 200); Model m = mlp(5, 0.0)) {
                assertThat(data.hasFloatFeatures()).isEqualTo(variant == 0);
                TrainingResult r = Trainer.builder().model(m).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(32)
                        .epochs(2).seed(9).build().fit(data, test, null);
                sha[variant] = r.parametersSha256();
                testLoss[variant] = r.last().testLoss();
                assertThat(data.hasFloatFeatures()).as("training never widened the whole dataset")
                        .isEqualTo(variant == 0);
            }
        }
        assertThat(sha[1]).isEqualTo(sha[0]);
        assertThat(testLoss[1]).isEqualTo(testLoss[0]);
        assertThat(testLoss[0]).isFinite();
    }

    /**
     * The evaluator gives the same sums for a dataset held as bytes as for its floats on both of its paths: a small
     * one widened whole once, a large one (more than {@link Evaluator#WIDEN_ONCE_FLOATS} features) widened a batch at a
     * time without ever being widened whole.
     */
    @Test
    void shouldEvaluateABytesDatasetLikeItsFloatsWhenWidenedOnceAndBatchByBatch() {
        int features = 1000;
        java.util.Random random = new java.util.Random(3);
        for (int n : new int[] {300, (int) (Evaluator.WIDEN_ONCE_FLOATS / features) + 77}) {
            byte[] pixels = new byte[n * features];
            random.nextBytes(pixels);
            int[] labels = new int[n];
            float[] floats = new float[n * features];
            for (int i = 0; i < n; i++) {
                labels[i] = random.nextInt(4);
                for (int j = 0; j < features; j++) {
                    floats[i * features + j] = (pixels[i * features + j] & 0xFF) / 255f;
                }
            }
            boolean small = (long) n * features <= Evaluator.WIDEN_ONCE_FLOATS;
            try (Model m = Mlp.builder().input(features).hidden(16).activation(Activation.RELU).output(4)
                         .init(Init.KAIMING_NORMAL).seed(2).build();
                 Evaluator ev = new Evaluator(m, Kernels.backend(), LossKind.CROSS_ENTROPY, 256, 1);
                 Dataset asFloats = Dataset.of("floats", floats, labels, new int[] {features}, 4);
                 Dataset asBytes = bytes(pixels, labels, features)) {
                Evaluator.Sums expected = ev.evaluateSums(asFloats, 0, n);
                Evaluator.Sums got = ev.evaluateSums(asBytes, 0, n);
                assertThat(got).as("n=%d", n).isEqualTo(expected);
                assertThat(asBytes.hasFloatFeatures()).as("n=%d widened whole", n).isEqualTo(small);
            }
        }
    }

    private static Dataset bytes(byte[] pixels, int[] labels, int features) {
        var px = dev.descent.engine.memory.OffHeapBlock.allocate(pixels.length, dev.descent.engine.memory.Purpose.BATCHES);
        var lb = dev.descent.engine.memory.OffHeapBlock.allocate((long) labels.length * Integer.BYTES,
                dev.descent.engine.memory.Purpose.BATCHES);
        java.lang.foreign.MemorySegment.copy(pixels, 0, px.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE, 0,
                pixels.length);
        java.lang.foreign.MemorySegment.copy(labels, 0, lb.segment(), java.lang.foreign.ValueLayout.JAVA_INT, 0,
                labels.length);
        return Dataset.ofUnitBytes("bytes", px.segment(), px, lb, labels.length, new int[] {features}, 4);
    }

    @Test
    void shouldBeBitIdenticalRunToRunWithOneThread() {
        String a = trainOnce(1, BackpropStrategy.VANILLA);
        assertThat(trainOnce(1, BackpropStrategy.VANILLA)).isEqualTo(a);
        assertThat(trainOnce(1, BackpropStrategy.RECOMPUTE)).isEqualTo(a);
        // a different seed gives different parameters (the digest is not constant)
        try (Dataset train = Synthetic.blobs("train", 600, 8, 4, 1); Model m = mlp(8, 0.2)) {
            String other = Trainer.builder().model(m).optimizer(Optimizers.nesterov(0.05, 0.9)).batchSize(50)
                    .epochs(2).seed(3).build().fit(train, null, null).parametersSha256();
            assertThat(other).isNotEqualTo(a);
        }
    }

    @Test
    void zeroInitShouldKeepHiddenUnitsIdenticalAndLearnNothingUseful() {
        try (Dataset train = Synthetic.blobs("train", 1000, 8, 4, 1);
             Dataset test = Synthetic.blobs("test", 400, 8, 4, 2);
             Model m = Mlp.builder().input(8).hidden(16, 16).activation(Activation.TANH).output(4)
                     .init(Init.ZEROS).seed(1).build()) {
            TrainingResult r = Trainer.builder().model(m).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(32)
                    .epochs(3).seed(1).build().fit(train, test, null);
            // symmetry: every row of every hidden weight matrix is the same (here: still all zero)
            for (ParameterLayout.Entry e : m.layout().entries()) {
                if (!e.bias() && e.layerIndex() < 4) {
                    int out = e.shape()[0];
                    int in = e.shape()[1];
                    for (int o = 1; o < out; o++) {
                        for (int i = 0; i < in; i++) {
                            assertThat(m.params().getFloat(e.offset() + (long) o * in + i))
                                    .isEqualTo(m.params().getFloat(e.offset() + i));
                        }
                    }
                }
            }
            assertThat(r.last().testAccuracy()).isLessThan(0.5);
        }
    }

    @Test
    void shouldStopOnNonFiniteLossWithStepAndRestoreEpochStart() {
        try (Dataset train = Synthetic.blobs("train", 400, 8, 4, 1);
             Model m = mlp(1, 0.0)) {
            String before = m.parametersSha256();
            Trainer t = Trainer.builder().model(m).optimizer(Optimizers.sgd(1e6)).batchSize(20).epochs(1).seed(1)
                    .build();
            assertThatThrownBy(() -> t.fit(train, null, null))
                    .isInstanceOf(NonFiniteLossException.class)
                    .hasMessageContaining("at step")
                    .hasMessageContaining("learning rate")
                    .satisfies(e -> assertThat(((NonFiniteLossException) e).step()).isPositive());
            assertThat(m.parametersSha256()).isEqualTo(before);
        }
    }

    @Test
    void shouldRejectNonsenseHyperparameters() {
        try (Model m = mlp(1, 0.0)) {
            assertThatThrownBy(() -> Trainer.builder().model(m).batchSize(0).build())
                    .hasMessageContaining("batch size");
            assertThatThrownBy(() -> Optimizers.sgd(-0.1)).hasMessageContaining("learning rate");
            assertThatThrownBy(() -> Optimizers.momentum(0.1, 1.5)).hasMessageContaining("momentum");
        }
    }

    @Test
    void trainingStepShouldNotAllocateAfterWarmup() {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (Dataset train = Synthetic.blobs("train", 256, 8, 4, 1);
             Model m = mlp(1, 0.2);
             BatchAssembler batches = new BatchAssembler(train, 64, 1);
             TrainingStep step = new TrainingStep(m, Kernels.scalar(), LossKind.CROSS_ENTROPY,
                     Optimizers.adamW(0.001, 0.01), LrSchedule.constant(0.001), BackpropStrategy.checkpointed(),
                     64, 1.0, 1, 1)) {
            batches.shuffle(0);
            for (int i = 0; i < 300; i++) {
                step.run(batches.features(), 0, batches.labels(), 0, batches.fill(i % 4), 0);
            }
            long tid = Thread.currentThread().threadId();
            long allocated = Long.MAX_VALUE;
            for (int window = 0; window < 20 && allocated > 0; window++) { // bounded: a busy JIT may still be compiling
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < 200; i++) {
                    step.run(batches.features(), 0, batches.labels(), 0, batches.fill(i % 4), 0);
                }
                long w = mx.getThreadAllocatedBytes(tid) - before;
                allocated = Math.min(allocated, w);
            }
            // JIT transitions (a deoptimization while C2 still compiles the step) may allocate a few bytes in a window;
            // a per-step allocation would show in every window
            assertThat(allocated).as("bytes allocated by 200 steps (best of up to 20 windows)").isZero();
        }
    }
}
