package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.event.TrainingEvent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK facades the command line stands on: in-process training, the benchmarks, corpora, kernel info. */
class InProcessAndBenchmarksTest {
    private static final int N = 400;
    private static final int F = 12;

    private static TrainingPlan.Builder plan() {
        SplittableRandom r = new SplittableRandom(11);
        float[][] x = new float[N][F];
        int[] y = new int[N];
        for (int i = 0; i < N; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < F; f++) {
                x[i][f] = (f % 3 == y[i] ? 2f : 0f) + (float) r.nextGaussian() * 0.5f;
            }
        }
        return TrainingPlan.builder().name("blobs")
                .model(ModelDefinition.mlp().input(F).hidden(16).output(3).init("kaiming-normal").seed(4).build())
                .train(DataSource.arrays("blobs", x, y, 3)).test(DataSource.arrays("blobs", x, y, 3).limit(100))
                .optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(32).evalBatchSize(50).epochs(2).seed(3);
    }

    @Test
    void shouldTrainInProcessExactlyLikeAOneWorkerJobAndPublishItsEvents(@TempDir Path dir) throws Exception {
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        TrainingResult local = Descent.trainInProcess(plan().listener(events::add).modelFile(dir.resolve("m.descent"))
                .trajectoryDir(dir.resolve("trajectory")).build());
        TrainingResult actors;
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("in-process-test"))) {
            actors = engine.submit(plan().workers(1).build()).await();
        }
        assertThat(local.parametersSha256()).isEqualTo(actors.parametersSha256());
        assertThat(local.steps()).isEqualTo(2 * 13);
        assertThat(local.last().testAccuracy()).isEqualTo(actors.last().testAccuracy()).isGreaterThan(0.9);
        List<TrainingEvent.StepCompleted> steps = events.stream()
                .filter(TrainingEvent.StepCompleted.class::isInstance).map(TrainingEvent.StepCompleted.class::cast)
                .toList();
        assertThat(steps).hasSize(26);
        assertThat(steps.get(12).examples()).isEqualTo(N - 12 * 32); // the short last batch of an epoch
        assertThat(steps.get(25).step()).isEqualTo(25);
        assertThat(events.stream().filter(TrainingEvent.EvaluationCompleted.class::isInstance).count()).isEqualTo(2);
        assertThat(dir.resolve("m.descent")).isRegularFile();
        assertThat(dir.resolve("trajectory").resolve("epoch-000.descent")).isRegularFile();
        assertThat(dir.resolve("trajectory").resolve("epoch-002.descent")).isRegularFile();
        try (Network m = Network.load(dir.resolve("m.descent"))) {
            assertThat(m.parametersSha256()).isEqualTo(local.parametersSha256());
        }
    }

    @Test
    void shouldRefuseInProcessWhatNeedsTheActorEngineAndReportDivergence() {
        assertThatThrownBy(() -> Descent.trainInProcess(plan().workers(2).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 worker(s)");
        assertThatThrownBy(() -> Descent.trainInProcess(plan().checkpointEvery(5).build()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("every 5 steps");
        assertThatThrownBy(() -> Descent.trainInProcess(plan().optimizer(Optimizer.sgd(1e12)).build()))
                .isInstanceOfSatisfying(DivergedException.class, e -> {
                    assertThat(e.epoch()).isZero();
                    assertThat(Double.isFinite(e.loss())).isFalse();
                });
    }

    @Test
    void shouldMeasureTheBackpropStrategiesLedger() {
        List<BackpropMeasurement> r = Benchmarks.backprop(8, 16, 4, 0, 1, 1);
        assertThat(r).extracting(BackpropMeasurement::strategy).containsExactly("vanilla", "recompute", "checkpointed");
        int n = 2 * 8 + 1;
        assertThat(r).allSatisfy(m -> assertThat(m.modules()).isEqualTo(n));
        // vanilla evaluates every module once and keeps every activation; recompute keeps least, evaluates most
        assertThat(r.get(0).forwardEvaluations()).isEqualTo(n);
        assertThat(r.get(1).forwardEvaluations()).isGreaterThan(r.get(2).forwardEvaluations())
                .isGreaterThan(r.get(0).forwardEvaluations());
        assertThat(r.get(0).peakActivationBytes()).isGreaterThan(r.get(2).peakActivationBytes())
                .isGreaterThan(r.get(1).peakActivationBytes());
        assertThat(r.get(2).interval()).isEqualTo((int) Math.ceil(Math.sqrt(n)));
        assertThatThrownBy(() -> Benchmarks.backprop(0, 16, 4, 0, 1, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("depth 0");
    }

    @Test
    void shouldMeasureGemmThroughputAndNameABadThreadCount() {
        GemmMeasurement g = Benchmarks.gemm(32, 24, 16, "nt", 1, 0.05);
        assertThat(g.layout()).isEqualTo("NT");
        assertThat(g.m()).isEqualTo(32);
        assertThat(g.repetitions()).isPositive();
        assertThat(g.gflops()).isPositive().isLessThanOrEqualTo(g.bestGflops());
        assertThat(g.backend()).isEqualTo(Descent.kernels().backend());
        int max = Descent.kernels().maxThreads();
        assertThatThrownBy(() -> Benchmarks.gemm(8, 8, 8, "NN", max + 1, 0.05))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was " + (max + 1));
    }

    @Test
    void shouldParseCorporaAndSayWhereAMissingOneWasLookedFor(@TempDir Path empty) throws Exception {
        assertThat(Corpus.parse(" Fashion_MNIST ")).isEqualTo(Corpus.FASHION_MNIST);
        assertThat(Corpus.MNIST.displayName()).isEqualTo("MNIST");
        assertThat(Corpus.MNIST.sampleShape()).containsExactly(1, 28, 28);
        assertThatThrownBy(() -> Corpus.parse("cifar")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'cifar'");
        Files.createDirectories(empty);
        assertThatThrownBy(() -> Corpus.FASHION_MNIST.count(Split.TRAIN, empty)).isInstanceOf(DescentException.class)
                .hasMessageContaining(empty.toString()).hasMessageContaining("descent data fetch");
    }
}
