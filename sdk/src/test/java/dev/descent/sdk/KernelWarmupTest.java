package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Iterator;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The kernel warm-up that runs while a job's datasets load: it really trains a copy, and never changes the result. */
class KernelWarmupTest {
    private static final int N = 300;
    private static final int F = 20;

    /** Examples from an iterator that takes about {@code millisPerSample} each, as a slow disk or network would. */
    private static DataSource slow(String name, long millisPerSample) {
        SplittableRandom r = new SplittableRandom(5);
        Iterator<Sample> it = new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return i < N;
            }

            @Override
            public Sample next() {
                i++;
                if (millisPerSample > 0) {
                    try {
                        Thread.sleep(millisPerSample);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                int y = r.nextInt(3);
                float[] x = new float[F];
                for (int f = 0; f < F; f++) {
                    x[f] = (f % 3 == y ? 2f : 0f) + (float) r.nextGaussian() * 0.5f;
                }
                return new Sample(x, y);
            }
        };
        return DataSource.fromIterator(name, it, F, 3);
    }

    private static TrainingPlan plan(long millisPerSample) {
        return builder(millisPerSample).build();
    }

    private static TrainingPlan.Builder builder(long millisPerSample) {
        return TrainingPlan.builder().name("warm")
                .model(ModelDefinition.mlp().input(F).hidden(32, 16).output(3).init("kaiming-normal").seed(4).build())
                .train(slow("train", millisPerSample)).optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(32)
                .epochs(2).seed(3);
    }

    @Test
    void shouldTrainAPrivateCopyUntilClosedAndThenStop() throws Exception {
        // every path: the half-batch noise probe and the update side's kernels must run too (a failure would stop
        // the warm-up before its first step is counted)
        KernelWarmup w = KernelWarmup.start(plan(0), new KernelWarmup.Paths(true, true), true);
        for (int i = 0; i < 500 && w.steps() == 0; i++) { // bounded: at most ~5 s
            Thread.sleep(10);
        }
        w.close();
        long after = w.steps();
        assertThat(after).isPositive();
        Thread.sleep(50);
        assertThat(w.steps()).isEqualTo(after); // close() waited for the thread: nothing runs afterwards
    }

    /**
     * Closed at once (as when the datasets open in a few milliseconds), the warm-up still runs until its step time
     * has stopped falling, and no longer than its bound.
     */
    @Test
    void shouldRunUntilItsStepTimeStopsFallingWhenClosedAtOnce() {
        long start = System.nanoTime();
        KernelWarmup w = KernelWarmup.start(plan(0), new KernelWarmup.Paths(false, false), true);
        w.close();
        long waitedMs = (System.nanoTime() - start) / 1_000_000;
        if (w.settled()) {
            assertThat(w.steps()).isGreaterThan(2L * KernelWarmup.PLATEAU_STEPS);
        } else { // a very slow machine: then the bound ended it
            assertThat(waitedMs).isGreaterThanOrEqualTo(KernelWarmup.SETTLE_MS);
        }
        assertThat(waitedMs).as("the wait is bounded").isLessThan(KernelWarmup.SETTLE_MS + 10_000);
    }

    @Test
    void shouldWarmOnlyThePathsTheRunTakes() {
        // in process, the noise scale and the statistics are measured for listeners only
        assertThat(KernelWarmup.Paths.inProcess(plan(0))).isEqualTo(new KernelWarmup.Paths(false, false));
        assertThat(KernelWarmup.Paths.inProcess(builder(0).listener(e -> { }).build()))
                .isEqualTo(new KernelWarmup.Paths(true, true));
        assertThat(KernelWarmup.Paths.inProcess(builder(0).clipNorm(1).build()))
                .isEqualTo(new KernelWarmup.Paths(false, true));
        // the engine always measures: a lone sync worker probes half batches, several workers are the halves
        assertThat(KernelWarmup.Paths.engine(plan(0), 1)).isEqualTo(new KernelWarmup.Paths(true, true));
        assertThat(KernelWarmup.Paths.engine(plan(0), 2)).isEqualTo(new KernelWarmup.Paths(false, true));
        assertThat(KernelWarmup.Paths.engine(builder(0).noiseScaleEvery(0).gradientStatsEvery(0).build(), 1))
                .isEqualTo(new KernelWarmup.Paths(false, false));
        assertThat(KernelWarmup.Paths.engine(builder(0).noiseScaleEvery(0).gradientStatsEvery(0).build(), 2))
                .isEqualTo(new KernelWarmup.Paths(false, true));
    }

    @Test
    void shouldWarmAPlainMlpAtCappedWidthsAndAnyOtherModelAsItIs() {
        // a plain MLP wider than the cap: every linear layer above it at the cap, the rest (classes, activations) kept
        try (dev.descent.engine.nn.Model wide = ModelDefinition.mlp().input(1, 28, 28).hidden(1024, 48, 512).output(10)
                .dropout(0.1).build().instantiate();
             dev.descent.engine.nn.Model warm = KernelWarmup.warmupModel(
                     ModelDefinition.mlp().input(1, 28, 28).hidden(1024, 48, 512).output(10).dropout(0.1).build()
                             .instantiate(), 7)) {
            int w = KernelWarmup.WIDTH;
            assertThat(warm.spec()).isEqualTo(wide.spec().replace("linear 1024", "linear " + w)
                    .replace("linear 512", "linear " + w));
            assertThat(warm.inputSize()).isEqualTo(784);
            assertThat(warm.outputSize()).isEqualTo(10);
            assertThat(warm.parameterCount()).isEqualTo(784L * w + w + w * 48L + 48 + 48L * w + w + w * 10L + 10);
            assertThat(warm.parameterNorm("*")).isPositive(); // initialized, not the spec's zeros
        }
        // nothing wider than the cap, or layers other than linear/activation/dropout/flatten: the model as it is
        try (dev.descent.engine.nn.Model narrow = plan(0).model.instantiate()) {
            assertThat(KernelWarmup.narrowedSpec(narrow.spec())).isNull();
        }
        try (dev.descent.engine.nn.Model cnn = ModelDefinition.cnn(new int[] {1, 28, 28}, 10, 1).instantiate()) {
            assertThat(KernelWarmup.narrowedSpec(cnn.spec())).isNull();
        }
        try (dev.descent.engine.nn.Model bn = ModelDefinition.mlp().input(100).hidden(256).batchNorm(true).output(3)
                .build().instantiate()) {
            assertThat(KernelWarmup.narrowedSpec(bn.spec())).isNull();
        }
    }

    @Test
    void shouldLeaveTheResultBitIdenticalInProcessAndInTheEngine() throws Exception {
        String old = System.getProperty("descent.warmup");
        try {
            System.setProperty("descent.warmup", "false");
            TrainingResult cold = Descent.trainInProcess(plan(0));
            System.setProperty("descent.warmup", "true");
            TrainingResult warm = Descent.trainInProcess(plan(1)); // ~0.3 s of loading: the warm-up runs meanwhile
            TrainingResult engineWarm;
            try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("warmup-test"))) {
                engineWarm = engine.submit(plan(1)).await();
            }
            assertThat(warm.parametersSha256()).isEqualTo(cold.parametersSha256());
            assertThat(engineWarm.parametersSha256()).isEqualTo(cold.parametersSha256());
            assertThat(warm.last().trainLoss()).isEqualTo(cold.last().trainLoss());
        } finally {
            if (old == null) {
                System.clearProperty("descent.warmup");
            } else {
                System.setProperty("descent.warmup", old);
            }
        }
    }
}
