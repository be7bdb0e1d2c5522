package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The landscape facade end to end on a small model trained in-process on generated blobs. */
class LandscapeTest {
    private static final int N = 300;
    private static final int F = 12;
    private static final ModelDefinition MLP = ModelDefinition.mlp().input(F).hidden(16).output(3)
            .init("kaiming-normal").seed(4).build();
    @TempDir
    static Path run;

    private static DataSource blobs(int seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] x = new float[n][F];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < F; f++) {
                x[i][f] = (f % 3 == y[i] ? 1.5f : 0f) + (float) r.nextGaussian() * 0.7f;
            }
        }
        return DataSource.arrays("blobs-" + seed, x, y, 3);
    }

    @BeforeAll
    static void trainASmallModelWithItsTrajectory() {
        Descent.trainInProcess(TrainingPlan.builder().name("blobs").model(MLP).train(blobs(11, N))
                .optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(32).epochs(6).seed(3)
                .modelFile(run.resolve("model.descent")).trajectoryDir(run.resolve("trajectory")).build());
    }

    private static LandscapePlan.Builder data(LandscapePlan.Builder b) {
        return b.train(blobs(11, N)).test(blobs(12, 200)).evalBatch(64).evaluators(2);
    }

    @Test
    void shouldFindTheMinimumOfALineThroughTheTrainedModelAtItsCentre() {
        try (Network trained = Network.load(run.resolve("model.descent"))) {
            List<int[]> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
            LandscapeResult r = Descent.landscape(data(LandscapePlan.builder().line(trained, 1.0, 21))
                    .sharpness(N, 8).listener((done, total, last) -> seen.add(new int[] {done, total})).build());
            assertThat(r.kind()).isEqualTo(LandscapePlan.Kind.LINE);
            assertThat(r.points()).hasSize(21);
            assertThat(r.centreIndex()).isEqualTo(10);
            int best = 0;
            for (int i = 0; i < 21; i++) {
                if (r.point(i).trainLoss() < r.point(best).trainLoss()) {
                    best = i;
                }
            }
            assertThat(Math.abs(r.point(best).a())).as("minimum near a = 0").isLessThanOrEqualTo(0.1);
            LandscapePoint centre = r.point(10);
            assertThat(centre.trainAccuracy()).isGreaterThan(0.9);
            assertThat(r.point(0).trainLoss()).isGreaterThan(2 * centre.trainLoss());
            assertThat(r.point(20).trainLoss()).isGreaterThan(2 * centre.trainLoss());
            assertThat(centre.testLoss()).isFinite();
            assertThat(r.trainExamples()).isEqualTo(N);
            assertThat(r.testExamples()).isEqualTo(200);
            assertThat(r.evaluated()).isEqualTo(21);
            assertThat(r.resumed()).isZero();
            assertThat(r.evaluators()).isEqualTo(2);
            assertThat(r.directions()).isEqualTo("seed=1 norm=filter biases=ignore orthogonalize=false");
            assertThat(seen).hasSize(21);
            assertThat(seen.get(20)).containsExactly(21, 21);
            assertThat(r.sharpness()).hasSize(1);
            SharpnessReport s = r.sharpness().get(0);
            assertThat(s.loss()).as("sharpness measures the same point on the same data")
                    .isCloseTo(centre.trainLoss(), within(1e-4));
            assertThat(s.topHessianEigenvalue()).isPositive();
            assertThat(s.examples()).isEqualTo(N);
        }
    }

    @Test
    void shouldDrawAPlaneGridAndReproduceItFromSavedDirections(@TempDir Path out) {
        try (Network trained = Network.load(run.resolve("model.descent"))) {
            LandscapeResult r = Descent.landscape(data(LandscapePlan.builder().plane(trained, 0.5, 5).seed(7)
                    .orthogonalize(true)).saveDirections(out.resolve("d.descentd")).build());
            assertThat(r.kind()).isEqualTo(LandscapePlan.Kind.PLANE);
            assertThat(r.xs()).containsExactly(-0.5, -0.25, 0, 0.25, 0.5);
            assertThat(r.trainLossGrid()).hasDimensions(5, 5);
            assertThat(r.testLossGrid()[2][2]).isEqualTo(r.point(12).testLoss());
            assertThat(r.centreIndex()).isEqualTo(12);
            assertThat(r.point(6).a()).isEqualTo(-0.25);
            assertThat(r.point(6).b()).isEqualTo(-0.25);
            assertThat(r.point(7).a()).isZero();
            assertThat(r.maxTrainLoss()).isGreaterThan(r.minTrainLoss());
            assertThat(r.sharpness()).isEmpty();
            LandscapeResult again = Descent.landscape(data(LandscapePlan.builder().plane(trained, 0.5, 5))
                    .directionsFile(out.resolve("d.descentd")).build());
            assertThat(again.toCsv()).isEqualTo(r.toCsv());
            assertThat(again.directions()).startsWith("loaded from ");
            LandscapeResult other = Descent.landscape(data(LandscapePlan.builder().plane(trained, 0.5, 5).seed(8))
                    .build());
            assertThat(other.toCsv()).isNotEqualTo(r.toCsv());
            r.writeCsv(out.resolve("plane.csv"));
            assertThat(out.resolve("plane.csv")).content().isEqualTo(r.toCsv());
        }
    }

    /**
     * An engine runs landscapes in its own actor system: the same numbers as a run in a private system, twice in a
     * row (the second one warm), with the engine still usable afterwards; a closed engine refuses.
     */
    @Test
    void shouldRunLandscapesInAnEnginesActorSystem() throws Exception {
        try (Network trained = Network.load(run.resolve("model.descent"))) {
            LandscapePlan plan = data(LandscapePlan.builder().plane(trained, 0.5, 4).seed(3).evaluators(2)).build();
            String alone = Descent.landscape(plan).toCsv();
            DescentEngine engine = Descent.start(new DescentConfig().workers(1));
            try {
                assertThat(engine.landscape(plan).toCsv()).isEqualTo(alone);
                LandscapeResult precomputed = engine.startLandscape(plan).await();
                assertThat(precomputed.toCsv()).isEqualTo(alone);
                LandscapeResult direct = engine.landscape(data(LandscapePlan.builder().plane(trained, 0.5, 4).seed(3)
                        .precomputeFirstLayer(false)).build());
                for (int i = 0; i < direct.points().size(); i++) {
                    assertThat(direct.point(i).trainLoss()).as("point %d, every layer at every point", i)
                            .isCloseTo(precomputed.point(i).trainLoss(), within(1e-4));
                }
                assertThat(engine.submit(TrainingPlan.builder().name("after").model(MLP).train(blobs(1, N))
                        .epochs(1).build()).await().last().trainLoss()).isFinite();
            } finally {
                engine.close();
            }
            assertThatThrownBy(() -> engine.landscape(plan)).isInstanceOf(DescentException.class)
                    .hasMessageContaining("closed");
        }
    }

    @Test
    void shouldCancelRunningLandscapeJobsWhenTheEngineCloses() throws Exception {
        try (Network trained = Network.load(run.resolve("model.descent"))) {
            LandscapePlan plan = data(LandscapePlan.builder().plane(trained, 0.5, 41).seed(3).evaluators(1)).build();
            DescentEngine engine = Descent.start(new DescentConfig().workers(1));
            LandscapeJob job = engine.startLandscape(plan);
            engine.close();
            assertThat(job.isDone()).as("close() waited for the landscape job to stop").isTrue();
            assertThat(job.pointsDone()).isLessThan(job.points());
            assertThatThrownBy(job::await).isNotNull();
        }
    }

    @Test
    void shouldResumeACancelledRunWithExactlyTheSameNumbers(@TempDir Path out) throws Exception {
        try (Network trained = Network.load(run.resolve("model.descent"))) {
            LandscapeResult whole = Descent.landscape(data(LandscapePlan.builder().line(trained, 1.0, 31)).build());
            Path partial = out.resolve("line.partial.csv");
            LandscapeJob[] handle = new LandscapeJob[1];
            LandscapePlan plan = data(LandscapePlan.builder().line(trained, 1.0, 31)).evaluators(1)
                    .partialResults(partial, false).listener((done, total, last) -> {
                        if (done == 5) {
                            handle[0].cancel();
                        }
                    }).build();
            synchronized (handle) {
                handle[0] = Descent.startLandscape(plan);
            }
            assertThatThrownBy(() -> handle[0].result().toCompletableFuture().get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).hasCauseInstanceOf(CancellationException.class);
            assertThat(handle[0].isDone()).isTrue();
            int kept = handle[0].pointsDone();
            assertThat(kept).isBetween(5, 30);
            LandscapeJob resumed = Descent.startLandscape(data(LandscapePlan.builder().line(trained, 1.0, 31))
                    .evaluators(1).partialResults(partial, false).build());
            LandscapeResult r = resumed.await();
            assertThat(r.resumed()).isEqualTo(kept);
            assertThat(r.evaluated()).isEqualTo(31 - kept);
            assertThat(resumed.pointsDone()).isEqualTo(31);
            assertThat(r.toCsv()).isEqualTo(whole.toCsv());
            // the same file with other settings is refused, naming it; fresh discards it
            LandscapePlan.Builder seed2 = data(LandscapePlan.builder().line(trained, 1.0, 31)).seed(2);
            assertThatThrownBy(() -> Descent.landscape(seed2.partialResults(partial, false).build()))
                    .isInstanceOf(LandscapeResumeException.class).hasMessageContaining(partial.toString())
                    .satisfies(e -> assertThat(((LandscapeResumeException) e).file()).isEqualTo(partial));
            assertThat(Descent.landscape(seed2.partialResults(partial, true).build()).resumed()).isZero();
        }
    }

    @Test
    void shouldInterpolateBetweenTheInitialAndTrainedModels() {
        try (Network w0 = Network.create(MLP); Network trained = Network.load(run.resolve("model.descent"))) {
            LandscapeResult r = Descent.landscape(data(LandscapePlan.builder().interpolation(w0, trained, 0.5, 9))
                    .sharpness(100, 4).build());
            assertThat(r.kind()).isEqualTo(LandscapePlan.Kind.INTERPOLATION);
            assertThat(r.xs()).containsExactly(-0.5, -0.25, 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5);
            assertThat(r.point(6).trainLoss()).as("t = 1 is the trained model").isLessThan(r.point(2).trainLoss());
            assertThat(r.point(6).trainAccuracy()).isGreaterThan(0.9);
            assertThat(r.directions()).isEqualTo("w1 - w0 (not normalized)");
            assertThat(r.sharpness()).hasSize(2);
            assertThat(r.sharpness().get(1).loss()).isLessThan(r.sharpness().get(0).loss());
        }
    }

    @Test
    void shouldSpanATrajectoryPlaneByPca() throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.list(run.resolve("trajectory"))) {
            files = s.sorted().toList();
        }
        assertThat(files).hasSize(7);
        try (Network last = Network.load(files.getLast())) {
            LandscapeResult r = Descent.landscape(data(LandscapePlan.builder().trajectoryPlane(last, files, 4)).build());
            assertThat(r.kind()).isEqualTo(LandscapePlan.Kind.PLANE);
            assertThat(r.trainLossGrid()).hasDimensions(4, 4);
            TrajectoryProjection t = r.trajectory();
            assertThat(t.files()).isEqualTo(files);
            assertThat(t.coords()).hasNumberOfRows(8);
            assertThat(t.coords()[7]).containsExactly(new double[] {0, 0}, within(1e-6));
            assertThat(t.explained()[0] + t.explained()[1]).isBetween(0.5, 1.0 + 1e-9);
            double[][] c = t.coords();
            assertThat(r.xs()[0]).isLessThan(c[0][0]);
            assertThat(r.directions()).startsWith("PCA of 7 trajectory points");
        }
    }

    @Test
    void shouldRefuseBadSettingsNamingTheValue(@TempDir Path out) {
        try (Network trained = Network.load(run.resolve("model.descent"));
             Network other = Network.create(ModelDefinition.mlp().input(F).hidden(8).output(3).build())) {
            assertThatThrownBy(() -> LandscapePlan.builder().line(trained, -1, 11).train(blobs(1, 10)).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessage("range must be finite and > 0, was -1.0");
            assertThatThrownBy(() -> LandscapePlan.builder().plane(trained, 1, 1).train(blobs(1, 10)).build())
                    .hasMessage("grid must be >= 2, was 1");
            assertThatThrownBy(() -> LandscapePlan.builder().line(trained, 1, 11).build())
                    .hasMessageContaining("train(...)");
            assertThatThrownBy(() -> LandscapePlan.builder().line(trained, 1, 11).plane(trained, 1, 3))
                    .hasMessageContaining("line was already set");
            assertThatThrownBy(() -> LandscapePlan.builder().interpolation(trained, other, 0.5, 5)
                    .train(blobs(1, 10)).build()).hasMessageContaining("architecture");
            assertThatThrownBy(() -> LandscapePlan.builder().line(trained, 1, 11).train(blobs(1, 10)).evalBatch(0)
                    .build()).hasMessage("eval batch must be >= 1, was 0");
            assertThatThrownBy(() -> LandscapePlan.builder().evaluators(0))
                    .hasMessage("evaluators must be >= 1, was 0");
            assertThatThrownBy(() -> DirectionNorm.parse("diagonal"))
                    .hasMessage("unknown normalization 'diagonal'; expected filter, layer or none");
            assertThatThrownBy(() -> BatchNormMode.parse("eval")).hasMessageContaining("running or recompute");
            DataSource wide = DataSource.arrays("wide", new float[][] {new float[5]}, new int[] {0}, 3);
            assertThatThrownBy(() -> Descent.landscape(LandscapePlan.builder().line(trained, 1, 3).train(wide)
                    .build())).isInstanceOf(DescentException.class)
                    .hasMessage("wide has 5 features per example, the network expects 12");
            Path d = out.resolve("other.descentd");
            Descent.landscape(LandscapePlan.builder().line(other, 1, 3).train(blobs(1, 20)).saveDirections(d).build());
            assertThatThrownBy(() -> Descent.landscape(LandscapePlan.builder().line(trained, 1, 3)
                    .train(blobs(1, 20)).directionsFile(d).build())).isInstanceOf(DescentException.class)
                    .hasMessageContaining(d.toString()).hasMessageContaining("another architecture");
            assertThatThrownBy(() -> Descent.landscape(LandscapePlan.builder().plane(other, 1, 3)
                    .train(blobs(1, 20)).directionsFile(d).build())).isInstanceOf(DescentException.class)
                    .hasMessageContaining("1 direction(s) for this architecture, 2 needed");
            Path missing = out.resolve("missing.descentd");
            assertThatThrownBy(() -> Descent.landscape(LandscapePlan.builder().line(trained, 1, 3)
                    .train(blobs(1, 20)).directionsFile(missing).build())).isInstanceOf(DescentException.class)
                    .hasMessageContaining(missing.toString());
        }
    }
}
