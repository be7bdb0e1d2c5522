package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import dev.descent.engine.optim.Optimizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Gradient accumulation over micro-batches equals the big batch; the noise-scale units it records. */
class GradientAccumulationTest {
    private static final KernelBackend K = Kernels.backend();

    private static Model mlp() {
        return Mlp.builder().input(8).hidden(32, 16).activation(Activation.RELU).output(4)
                .init(Init.KAIMING_NORMAL).seed(7).build();
    }

    private static float[] floats(MemorySegment s, long n) {
        return s.asSlice(0, n * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    }

    @Test
    void shouldGiveTheBigBatchGradientFromMicroBatchesOfUnequalSize() {
        try (Dataset data = Synthetic.blobs("blobs", 100, 8, 4, 3);
             Model big = mlp();
             Model small = mlp();
             GradientPass one = new GradientPass(big, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 100, 1, 1);
             GradientPass acc = new GradientPass(small, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 100, 1, 1,
                     32)) {
            MemorySegment f = data.features().segment();
            MemorySegment y = data.labels().segment();
            double l1 = one.run(f, 0, y, 0, 100, 0);
            double l2 = acc.run(f, 0, y, 0, 100, 0); // 32 + 32 + 32 + 4 rows
            assertThat(acc.microBatch()).isEqualTo(32);
            assertThat(l2).isCloseTo(l1, org.assertj.core.data.Offset.offset(1e-5 * Math.abs(l1)));
            assertThat(acc.correct()).isEqualTo(one.correct());
            long n = big.layout().totalFloats();
            float[] g1 = floats(big.grads().segment(), n);
            float[] g2 = floats(small.grads().segment(), n);
            double maxAbs = 0;
            double maxDiff = 0;
            for (int i = 0; i < g1.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(g1[i]));
                maxDiff = Math.max(maxDiff, Math.abs(g1[i] - g2[i]));
            }
            assertThat(maxAbs).isPositive();
            assertThat(maxDiff).as("largest gradient difference (largest entry %s)", maxAbs).isLessThan(1e-5 * maxAbs);
        }
    }

    @Test
    void shouldTrainToTheSameParametersAsTheBigBatch() {
        try (Dataset train = Synthetic.blobs("train", 600, 8, 4, 1);
             Model big = mlp();
             Model small = mlp()) {
            Trainer.builder().model(big).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(120).epochs(3).seed(2)
                    .build().fit(train, null, FitListener.NONE);
            Trainer.builder().model(small).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(120).epochs(3).seed(2)
                    .microBatch(25).build().fit(train, null, FitListener.NONE);
            long n = big.layout().totalFloats();
            float[] p1 = floats(big.params().segment(), n);
            float[] p2 = floats(small.params().segment(), n);
            double maxDiff = 0;
            double maxAbs = 0;
            boolean identical = true;
            for (int i = 0; i < p1.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(p1[i] - p2[i]));
                maxAbs = Math.max(maxAbs, Math.abs(p1[i]));
                identical &= p1[i] == p2[i];
            }
            assertThat(maxDiff).as("max |Δparam| after 15 steps (max |param| %s)", maxAbs).isLessThan(1e-4);
            // not trivially equal: the two runs really took different code paths (different rounding)
            assertThat(identical || big.parametersSha256().equals(small.parametersSha256())).isFalse();
        }
    }

    @Test
    void shouldStreamMicroBatchesWithoutAssemblingTheBatchAndTrainBitForBitAsTheAssembledBatch() {
        try (Dataset train = Synthetic.blobs("train", 600, 8, 4, 1);
             Model streamed = mlp();
             Model assembled = mlp()) {
            // Trainer with micro-batches: the batch of 120 rows is read 25 rows at a time straight from the dataset
            Trainer.builder().model(streamed).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(120).epochs(3)
                    .seed(2).microBatch(25).build().fit(train, null, FitListener.NONE);
            // the same steps on assembled 120-row batches, accumulated over the same 25-row micro-batches
            try (BatchAssembler batches = new BatchAssembler(train, 120, 2);
                 TrainingStep step = new TrainingStep(assembled, K, LossKind.CROSS_ENTROPY,
                         Optimizers.momentum(0.05, 0.9), dev.descent.engine.optim.LrSchedule.constant(0.05).resolve(15),
                         BackpropStrategy.VANILLA, 120, 0, 1, 2, 25)) {
                for (int epoch = 0; epoch < 3; epoch++) {
                    batches.shuffle(epoch);
                    for (int b = 0; b < batches.batchesPerEpoch(); b++) {
                        int rows = batches.fill(b);
                        step.run(batches.features(), 0, batches.labels(), 0, rows, epoch);
                    }
                }
            }
            assertThat(streamed.parametersSha256()).isEqualTo(assembled.parametersSha256());
        }
        // a slice-serving assembler holds micro-batch rows only, and refuses to assemble a whole batch
        try (Dataset data = Synthetic.blobs("d", 100, 8, 4, 2);
             BatchAssembler slices = new BatchAssembler(data, 64, 1, 16);
             BatchAssembler whole = new BatchAssembler(data, 64, 1)) {
            assertThat(slices.features().byteSize()).isEqualTo(16L * 8 * Float.BYTES);
            assertThatThrownBy(() -> slices.fill(0)).isInstanceOf(IllegalStateException.class);
            slices.shuffle(0);
            whole.shuffle(0);
            assertThat(whole.fill(1)).isEqualTo(36).isEqualTo(slices.rows(1));
            slices.fill(1, 16, 16, slices.features(), slices.labels()); // rows 16..31 of batch 1
            assertThat(floats(slices.features(), 16L * 8))
                    .containsExactly(floats(whole.features().asSlice(16L * 8 * Float.BYTES), 16L * 8));
        }
    }

    @Test
    void shouldRecordOneUnitPerMicroBatchWithRowWeightedSquaredNorms() {
        try (Dataset data = Synthetic.blobs("blobs", 64, 8, 4, 5);
             Model m = mlp();
             Model ref = mlp();
             GradientPass acc = new GradientPass(m, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 64, 1, 1, 16);
             GradientPass one = new GradientPass(ref, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 16, 1, 1)) {
            MemorySegment f = data.features().segment();
            MemorySegment y = data.labels().segment();
            acc.measureUnits(true).run(f, 0, y, 0, 64, 0);
            assertThat(acc.units()).isEqualTo(4);
            double expected = 0;
            long n = ref.layout().totalFloats();
            for (int k = 0; k < 4; k++) {
                one.run(f, (long) k * 16 * 8, y, k * 16, 16, 0);
                expected += 16 * K.sumSquares(ref.grads().segment(), 0, n);
            }
            assertThat(acc.unitSquares()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5 * expected));
            acc.measureUnits(false).run(f, 0, y, 0, 64, 1);
            assertThat(acc.units()).isZero();
        }
    }

    /** Linear, BatchNorm, ReLU, Linear: the half-batch probe must leave the running statistics alone. */
    private static Model bnMlp() {
        return Sequential.input(8).add(new Linear(16)).add(new BatchNorm()).add(new ActivationLayer(Activation.RELU))
                .add(new Linear(4)).build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, 3);
    }

    @Test
    void shouldProbeHalfTheBatchWithoutChangingTheGradientOrTheBatchNormStatistics() {
        try (Dataset data = Synthetic.blobs("blobs", 40, 8, 4, 6);
             Model probed = bnMlp();
             Model plain = bnMlp();
             Model half = bnMlp();
             GradientPass a = new GradientPass(probed, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 40, 1, 1);
             GradientPass b = new GradientPass(plain, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 40, 1, 1);
             GradientPass h = new GradientPass(half, K, LossKind.CROSS_ENTROPY, BackpropStrategy.VANILLA, 40, 1, 1)) {
            MemorySegment f = data.features().segment();
            MemorySegment y = data.labels().segment();
            long n = probed.layout().totalFloats();
            double la = a.measureUnits(true, true).run(f, 0, y, 0, 40, 0);
            double lb = b.run(f, 0, y, 0, 40, 0);
            assertThat(la).isEqualTo(lb);
            assertThat(a.correct()).isEqualTo(b.correct());
            assertThat(floats(probed.grads().segment(), n)).as("the batch gradient is restored after the probe")
                    .containsExactly(floats(plain.grads().segment(), n));
            BatchNorm bnA = (BatchNorm) probed.layers().get(1);
            BatchNorm bnB = (BatchNorm) plain.layers().get(1);
            assertThat(bnA.runningMean()).containsExactly(bnB.runningMean());
            assertThat(bnA.runningVar()).containsExactly(bnB.runningVar());
            assertThat(bnA.statisticsUpdates()).isEqualTo(1);
            assertThat(bnA.statisticsFrozen()).isFalse();
            // BatchNorm: two units of 20 rows, both halves computed (each normalized by its own statistics), measured
            // against the halves' mean as two workers would be
            h.run(f, 0, y, 0, 20, 0);
            float[] g1 = floats(half.grads().segment(), n);
            h.run(f, 20L * 8, y, 20, 20, 0);
            float[] g2 = floats(half.grads().segment(), n);
            double halfSquares = 0;
            double otherSquares = 0;
            double meanSquares = 0;
            for (int i = 0; i < g1.length; i++) {
                halfSquares += (double) g1[i] * g1[i];
                otherSquares += (double) g2[i] * g2[i];
                double m = (g1[i] + (double) g2[i]) / 2;
                meanSquares += m * m;
            }
            assertThat(a.units()).isEqualTo(2);
            double expected = 20 * halfSquares + 20 * otherSquares;
            assertThat(a.unitSquares()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6 * expected));
            assertThat(a.batchSquares()).isCloseTo(meanSquares, org.assertj.core.data.Offset.offset(1e-6 * meanSquares));
            assertThat(a.unitSquares() / 40).as("S_small > S_big: a non-negative trace estimate")
                    .isGreaterThan(a.batchSquares());
            // without the probe, one micro-batch is one unit, as before
            a.measureUnits(true, false).run(f, 0, y, 0, 40, 1);
            assertThat(a.units()).isEqualTo(1);
        }
    }

    @Test
    void shouldEstimateTheNoiseScaleInSingleProcessTrainingWithoutChangingTheResult() {
        try (Dataset train = Synthetic.blobs("train", 600, 8, 4, 1);
             Model measured = mlp();
             Model plain = mlp()) {
            java.util.List<double[]> seen = new java.util.ArrayList<>();
            Trainer.builder().model(measured).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(120).epochs(3)
                    .seed(2).build().fit(train, null, new FitListener() {
                        @Override
                        public int noiseScaleEvery() {
                            return 2;
                        }

                        @Override
                        public void onNoiseScale(long step, double noiseScale, double trace, double squaredNorm,
                                                 int units, int batch) {
                            seen.add(new double[] {step, noiseScale, trace, units, batch});
                        }
                    });
            Trainer.builder().model(plain).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(120).epochs(3)
                    .seed(2).build().fit(train, null, FitListener.NONE);
            assertThat(measured.parametersSha256()).as("measuring does not change the updates")
                    .isEqualTo(plain.parametersSha256());
            assertThat(seen).hasSize(7); // 15 steps, every 2nd: after steps 2, 4, ..., 14
            assertThat(seen.getFirst()[0]).isEqualTo(2);
            assertThat(seen.getLast()[0]).isEqualTo(14);
            assertThat(seen).allSatisfy(e -> {
                assertThat(e[3]).isEqualTo(2);
                assertThat(e[4]).isEqualTo(120);
            });
            assertThat(seen.getLast()[2]).as("tr(Sigma)").isPositive();
            assertThat(seen.getLast()[1]).as("B_simple").isPositive().isFinite();
        }
    }

    @Test
    void shouldEstimateTheNoiseScaleOfKnownGradientNoise() {
        // per-example gradients x_i = G + ξ_i, ξ_i ~ N(0, σ² I) in d dimensions: tr(Σ) = dσ², B_simple = dσ²/|G|²
        int d = 50;
        double sigma = 2.0;
        double[] g = new double[d];
        SplittableRandom r = new SplittableRandom(11);
        double g2 = 0;
        for (int i = 0; i < d; i++) {
            g[i] = r.nextGaussian() * 0.5;
            g2 += g[i] * g[i];
        }
        double truth = d * sigma * sigma / g2;
        GradientNoiseScale est = new GradientNoiseScale(0.99);
        int batch = 64;
        int[] parts = {16, 16, 32}; // unequal parts
        for (int step = 0; step < 3000; step++) {
            double[] sum = new double[d];
            double unitSquares = 0;
            for (int rows : parts) {
                double[] gk = new double[d];
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < d; j++) {
                        gk[j] += (g[j] + sigma * r.nextGaussian()) / rows;
                    }
                }
                double sq = 0;
                for (int j = 0; j < d; j++) {
                    sq += gk[j] * gk[j];
                    sum[j] += gk[j] * rows / batch;
                }
                unitSquares += rows * sq;
            }
            double big = 0;
            for (double v : sum) {
                big += v * v;
            }
            assertThat(est.add(unitSquares, parts.length, big, batch)).isTrue();
        }
        assertThat(est.trace()).isCloseTo(d * sigma * sigma, org.assertj.core.data.Percentage.withPercentage(10));
        assertThat(est.squaredNorm()).isCloseTo(g2, org.assertj.core.data.Percentage.withPercentage(15));
        assertThat(est.value()).isCloseTo(truth, org.assertj.core.data.Percentage.withPercentage(20));
        assertThat(est.add(1, 1, 1, 64)).as("one part says nothing about the noise").isFalse();
        assertThatThrownBy(() -> new GradientNoiseScale(1.0)).hasMessageContaining("decay must be in [0, 1), was 1.0");
    }
}
