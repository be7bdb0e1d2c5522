package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.event.TrainingEvent;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm-up on any schedule, gradient accumulation and the gradient noise scale, through the public SDK. */
class LargeBatchApiTest {
    private static final int N = 480;
    private static final int F = 16;
    private static float[][] x;
    private static int[] y;
    private static DescentEngine engine;

    @BeforeAll
    static void setUp() {
        SplittableRandom r = new SplittableRandom(4);
        float[][] centres = new float[4][F];
        for (float[] c : centres) {
            for (int f = 0; f < F; f++) {
                c[f] = (float) (r.nextGaussian() * 1.5);
            }
        }
        x = new float[N][F];
        y = new int[N];
        for (int i = 0; i < N; i++) {
            y[i] = r.nextInt(4);
            for (int f = 0; f < F; f++) {
                x[i][f] = centres[y[i]][f] + (float) (r.nextGaussian() * 0.9);
            }
        }
        engine = Descent.start(new DescentConfig().workers(2).systemName("large-batch-test"));
    }

    @AfterAll
    static void tearDown() {
        engine.close();
    }

    private static TrainingPlan.Builder plan(List<TrainingEvent> events) {
        return TrainingPlan.builder().model(ModelDefinition.mlp().input(F).hidden(24).activation(Activation.RELU)
                        .output(4).init("kaiming-normal").seed(5).build())
                .train(DataSource.arrays("blobs", x, y, 4)).optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(48)
                .epochs(2).seed(9).threadsPerWorker(1).gradientStatsEvery(0).listener(events::add);
    }

    private static float[] parameters(Path file) {
        try (Network n = Network.load(file)) {
            return n.engine().params().segment().asSlice(0, n.parameterCount() * Float.BYTES)
                    .toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    @Test
    void shouldTrainToTheSameParametersWithMicroBatchesAsWithTheWholeBatch(@TempDir Path dir) throws Exception {
        List<TrainingEvent> ignored = new CopyOnWriteArrayList<>();
        engine.submit(plan(ignored).workers(1).modelFile(dir.resolve("big.descent")).build()).await();
        engine.submit(plan(ignored).workers(1).microBatch(10).modelFile(dir.resolve("micro.descent")).build()).await();
        engine.submit(plan(ignored).workers(2).microBatch(7).modelFile(dir.resolve("two.descent")).build()).await();
        float[] big = parameters(dir.resolve("big.descent"));
        for (String other : List.of("micro.descent", "two.descent")) {
            float[] p = parameters(dir.resolve(other));
            double maxDiff = 0;
            for (int i = 0; i < big.length; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(big[i] - p[i]));
            }
            assertThat(maxDiff).as("%s: max |param difference| after 20 steps", other).isLessThan(1e-4);
        }
    }

    @Test
    void shouldPublishTheNoiseScaleFromWorkersAndMicroBatches() throws Exception {
        List<TrainingEvent> two = new CopyOnWriteArrayList<>();
        engine.submit(plan(two).workers(2).noiseScaleEvery(2).build()).await();
        List<TrainingEvent.GradientNoiseScale> n = noise(two);
        assertThat(n).hasSize(10); // 20 steps, every 2nd
        assertThat(n).allSatisfy(e -> {
            assertThat(e.units()).isEqualTo(2);
            assertThat(e.batch()).isEqualTo(48);
            assertThat(e.traceCovariance()).isPositive();
        });
        assertThat(n.getLast().noiseScale()).isPositive().isFinite();
        assertThat(n.getLast().step()).isEqualTo(20);

        List<TrainingEvent> micro = new CopyOnWriteArrayList<>();
        engine.submit(plan(micro).workers(1).microBatch(16).noiseScaleEvery(5).build()).await();
        assertThat(noise(micro)).hasSize(4).allSatisfy(e -> assertThat(e.units()).isEqualTo(3));

        List<TrainingEvent> off = new CopyOnWriteArrayList<>();
        engine.submit(plan(off).workers(2).noiseScaleEvery(0).build()).await();
        assertThat(noise(off)).isEmpty();
    }

    @Test
    void shouldPublishTheNoiseScaleInEveryModeWithoutChangingTheTraining() throws Exception {
        // one sync worker, batch in one micro-batch: the half-batch probe gives the two parts
        List<TrainingEvent> single = new CopyOnWriteArrayList<>();
        TrainingResult measured = engine.submit(plan(single).workers(1).noiseScaleEvery(4).build()).await();
        assertThat(noise(single)).hasSize(5).allSatisfy(e -> {
            assertThat(e.units()).isEqualTo(2);
            assertThat(e.batch()).isEqualTo(48);
        });
        assertThat(noise(single).getLast().noiseScale()).isPositive().isFinite();
        TrainingResult unmeasured = engine.submit(plan(new CopyOnWriteArrayList<>()).workers(1).noiseScaleEvery(0)
                .build()).await();
        assertThat(measured.parametersSha256()).as("the probe leaves the updates alone")
                .isEqualTo(unmeasured.parametersSha256());

        // in process: the same estimate from the same probes, and the same parameters
        List<TrainingEvent> inProcess = new CopyOnWriteArrayList<>();
        TrainingResult local = Descent.trainInProcess(plan(inProcess).noiseScaleEvery(4).build());
        assertThat(local.parametersSha256()).isEqualTo(unmeasured.parametersSha256());
        assertThat(noise(inProcess)).hasSize(5);
        assertThat(noise(inProcess).stream().mapToLong(TrainingEvent.GradientNoiseScale::step))
                .containsExactly(4L, 8L, 12L, 16L, 20L);
        assertThat(noise(inProcess).getLast().noiseScale())
                .isCloseTo(noise(single).getLast().noiseScale(), org.assertj.core.data.Percentage.withPercentage(1e-6));

        // async: every worker measures each 2nd batch it computes; the server smooths and publishes them
        List<TrainingEvent> async = new CopyOnWriteArrayList<>();
        engine.submit(plan(async).workers(2).mode(TrainingPlan.Mode.ASYNC).noiseScaleEvery(2).build()).await();
        List<TrainingEvent.GradientNoiseScale> a = noise(async);
        assertThat(a).hasSizeGreaterThanOrEqualTo(8); // 20 batches, every 2nd (a rejected stale gradient is not)
        assertThat(a).allSatisfy(e -> {
            assertThat(e.units()).isEqualTo(2);
            assertThat(e.batch()).isEqualTo(48);
            assertThat(e.step()).isBetween(1L, 20L);
        });
        assertThat(a.getLast().noiseScale()).isPositive().isFinite();
        List<TrainingEvent> off = new CopyOnWriteArrayList<>();
        engine.submit(plan(off).workers(2).noiseScaleEvery(0).build()).await();
    }

    @Test
    void shouldWarmUpAnySchedule() throws Exception {
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        engine.submit(plan(events).workers(1).schedule(Schedule.step(0.08, 0.5, 10).withWarmup(4)).build()).await();
        double[] lr = events.stream().filter(e -> e instanceof TrainingEvent.StepCompleted)
                .mapToDouble(e -> ((TrainingEvent.StepCompleted) e).learningRate()).toArray();
        assertThat(lr).hasSize(20);
        assertThat(lr[0]).isCloseTo(0.02, Offset.offset(1e-12));
        assertThat(lr[1]).isCloseTo(0.04, Offset.offset(1e-12));
        assertThat(lr[3]).isCloseTo(0.08, Offset.offset(1e-12));
        assertThat(lr[4]).isCloseTo(0.08, Offset.offset(1e-12)); // the step schedule's own step 0
        assertThat(lr[14]).isCloseTo(0.04, Offset.offset(1e-12)); // its step 10: first decay
        assertThat(Schedule.constant(0.1).withWarmup(0).toString()).isEqualTo(Schedule.constant(0.1).toString());
        assertThatThrownBy(() -> Schedule.constant(0.1).withWarmup(-1)).hasMessageContaining("was -1");
        assertThatThrownBy(() -> plan(events).microBatch(-2).build()).hasMessageContaining("micro-batch rows must be >= 0, was -2");
    }

    @Test
    void shouldEvaluateABatchOfAnySizeInChunksWithTheSameResult(@TempDir Path dir) throws Exception {
        List<TrainingEvent> ignored = new CopyOnWriteArrayList<>();
        engine.submit(plan(ignored).workers(1).modelFile(dir.resolve("m.descent")).build()).await();
        DataSource all = DataSource.arrays("blobs", x, y, 4);
        try (Network n = Network.load(dir.resolve("m.descent"))) {
            Evaluation whole = n.evaluate(all, Loss.CROSS_ENTROPY, 0, N);
            Evaluation chunks = n.evaluate(all, Loss.CROSS_ENTROPY, 0, 7);
            assertThat(whole.examples()).isEqualTo(N);
            assertThat(chunks.loss()).isCloseTo(whole.loss(), Offset.offset(1e-6 * whole.loss()));
            assertThat(chunks.accuracy()).isEqualTo(whole.accuracy()).isGreaterThan(0.5);
            assertThat(n.evaluate(all, Loss.CROSS_ENTROPY, 100, 64).examples()).isEqualTo(100);
            assertThatThrownBy(() -> n.evaluate(all, Loss.CROSS_ENTROPY, 0, 0)).hasMessageContaining("were 0 and 0");
        }
    }

    private static List<TrainingEvent.GradientNoiseScale> noise(List<TrainingEvent> events) {
        return events.stream().filter(e -> e instanceof TrainingEvent.GradientNoiseScale)
                .map(e -> (TrainingEvent.GradientNoiseScale) e).toList();
    }
}
