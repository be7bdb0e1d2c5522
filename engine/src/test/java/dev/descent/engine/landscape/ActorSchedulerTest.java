package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.actor.EvaluationFanOut;
import dev.descent.engine.actor.ProjectionEvaluator;
import dev.descent.engine.actor.RangeEvaluator;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Landscape points on {@link ProjectionEvaluator} actors: the same numbers as one evaluator called directly, whatever
 * the number of actors; failures of an evaluator (exception, error, failed start) or of the sink end the run cleanly,
 * with every evaluator closed and every finished point kept; an interrupted-by-failure run resumes to the same numbers.
 * The timeouts only turn a hang into a failure.
 */
@Timeout(120)
class ActorSchedulerTest {
    private static final int GRID = 5;
    private static final int POINTS = GRID * GRID;
    private static ActorTestKit kit;
    private Dataset train;
    private Dataset test;
    private Model model;
    private OffHeapBlock[] dirs;
    private Projection projection;

    @BeforeAll
    static void startKit() {
        kit = ActorTestKit.create();
    }

    @AfterAll
    static void stopKit() {
        kit.shutdownTestKit();
    }

    private static Dataset blobs(String name, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * 10];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < 10; f++) {
                x[i * 10 + f] = (float) (r.nextGaussian() * 0.7 + (f % 3 == y[i] ? 1.5 : 0));
            }
        }
        return Dataset.of(name, x, y, new int[] {10}, 3);
    }

    @BeforeEach
    void setUp() {
        train = blobs("train", 250, 11);
        test = blobs("test", 130, 12);
        model = Mlp.builder().input(10).hidden(12, 8).activation(Activation.RELU).output(3).init(Init.KAIMING_NORMAL)
                .seed(5).build();
        dirs = Directions.randomPair(model.layout(), model.params().segment(), DirectionSettings.defaults(9));
        projection = Projection.plane(0.8, GRID);
    }

    @AfterEach
    void tearDown() {
        dirs[0].close();
        dirs[1].close();
        model.close();
        train.close();
        test.close();
    }

    private PointEvaluator.Factory factory() {
        return LocalPointEvaluator.factory(() -> Model.fromSpec(model.spec()), model, model.params().segment(),
                dirs[0].segment(), dirs[1].segment(), train, test, LossKind.CROSS_ENTROPY, 48, BnMode.RUNNING,
                Kernels.backend());
    }

    /** Every point through one evaluator on this thread: the reference. */
    private PointResult[] direct() {
        PointResult[] out = new PointResult[POINTS];
        try (PointEvaluator ev = factory().create(0)) {
            for (int k = 0; k < POINTS; k++) {
                out[k] = ev.evaluate(k, projection.a(k), projection.b(k));
            }
        }
        return out;
    }

    private static int[] all() {
        int[] p = new int[POINTS];
        for (int k = 0; k < POINTS; k++) {
            p[k] = k;
        }
        return p;
    }

    /** Counts the evaluators created and closed, and lets a test make one misbehave. */
    private static final class Tracking implements PointEvaluator.Factory {
        final PointEvaluator.Factory inner;
        final AtomicInteger created = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger evaluated = new AtomicInteger();
        volatile int failAtPoint = -1;
        volatile boolean throwError;
        volatile int failCreating = -1;

        Tracking(PointEvaluator.Factory inner) {
            this.inner = inner;
        }

        @Override
        public PointEvaluator create(int e) {
            if (e == failCreating) {
                throw new IllegalStateException("no memory for evaluator " + e + " (injected)");
            }
            PointEvaluator ev = inner.create(e);
            created.incrementAndGet();
            return new PointEvaluator() {
                @Override
                public PointResult evaluate(int index, double a, double b) {
                    if (index == failAtPoint) {
                        if (throwError) {
                            throw new AssertionError("evaluator " + e + " broke at point " + index + " (injected)");
                        }
                        throw new IllegalArgumentException("bad point " + index + " (injected)");
                    }
                    PointResult r = ev.evaluate(index, a, b);
                    evaluated.incrementAndGet();
                    return r;
                }

                @Override
                public void close() {
                    ev.close();
                    closed.incrementAndGet();
                }
            };
        }
    }

    @Test
    void shouldGiveTheNumbersOfOneDirectEvaluatorOnAnyNumberOfActors() {
        PointResult[] reference = direct();
        for (int e : new int[] {1, 2, 3, 7}) {
            PointResult[] got = new PointResult[POINTS];
            Tracking f = new Tracking(factory());
            new ActorScheduler(f, e).run(projection, all(), r -> got[r.index()] = r, () -> false);
            assertThat(got).as("%d evaluators", e).containsExactly(reference);
            assertThat(f.created.get()).as("evaluators created").isEqualTo(e);
            assertThat(f.closed.get()).as("evaluators closed when run returns").isEqualTo(e);
        }
    }

    @Test
    void shouldLetOneEvaluatorTakeTheFirstPointAloneAndThenUseThemAll() {
        PointResult[] reference = direct();
        PointEvaluator.Factory inner = factory();
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        // evaluator 0's first point waits (at most 0.5 s) for another evaluator to start one: were they all dealt a
        // point at once, one would start meanwhile and show up before "end 0"
        CountDownLatch otherStarted = new CountDownLatch(1);
        AtomicInteger firstOfZero = new AtomicInteger();
        PointEvaluator.Factory logging = e -> {
            PointEvaluator ev = inner.create(e);
            return new PointEvaluator() {
                @Override
                public PointResult evaluate(int index, double a, double b) {
                    events.add("start " + e);
                    if (e != 0) {
                        otherStarted.countDown();
                    } else if (firstOfZero.getAndIncrement() == 0) {
                        try {
                            otherStarted.await(500, TimeUnit.MILLISECONDS);
                        } catch (InterruptedException ie) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    PointResult r = ev.evaluate(index, a, b);
                    events.add("end " + e);
                    return r;
                }

                @Override
                public void close() {
                    ev.close();
                }
            };
        };
        PointResult[] got = new PointResult[POINTS];
        new ActorScheduler(logging, 3).run(projection, all(), r -> got[r.index()] = r, () -> false);
        assertThat(got).containsExactly(reference);
        assertThat(events.subList(0, 2)).as("the first point runs alone, on evaluator 0")
                .containsExactly("start 0", "end 0");
        assertThat(events).as("then every evaluator works").contains("start 1", "start 2");
    }

    @Test
    void shouldRunInAnActorSystemTheCallerProvidesAndLeaveItRunning() {
        PointResult[] reference = direct();
        PointResult[] got = new PointResult[POINTS];
        Tracking f = new Tracking(factory());
        new ActorScheduler(f, 2, kit.system(), null).run(projection, all(), r -> got[r.index()] = r, () -> false);
        assertThat(got).containsExactly(reference);
        assertThat(f.closed.get()).isEqualTo(2);
        assertThat(kit.system().getWhenTerminated().toCompletableFuture().isDone()).isFalse();
    }

    @Test
    void shouldFailCleanlyWhenAnEvaluatorThrowsAndKeepEveryFinishedPoint(@TempDir Path dir) throws Exception {
        Tracking f = new Tracking(factory());
        f.failAtPoint = 9;
        Path partial = dir.resolve("p.partial.csv");
        LandscapeJob.Builder job = LandscapeJob.builder().kernels(Kernels.backend()).model(model)
                .directions(dirs[0].segment(), dirs[1].segment()).projection(projection).train(train).test(test)
                .evalBatch(48).precomputeFirstLayer(false).partial(partial, false);
        List<Integer> delivered = new ArrayList<>();
        assertThatThrownBy(() -> job.scheduler(x -> new ActorScheduler(f, 2))
                .listener((d, t, r) -> delivered.add(r.index())).build().run())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("failed at point 9").hasMessageContaining("bad point 9 (injected)")
                .hasRootCauseInstanceOf(IllegalArgumentException.class);
        assertThat(f.closed.get()).as("every evaluator closed").isEqualTo(f.created.get()).isEqualTo(2);
        assertThat(delivered).as("every point evaluated before the failure reached the sink")
                .hasSize(f.evaluated.get()).doesNotContain(9);

        // the partial file holds them, and a resumed run ends with exactly the numbers of one direct evaluator
        LandscapeResult resumed = job.scheduler(null).listener(null).evaluators(2).build().run();
        assertThat(resumed.resumed()).isEqualTo(delivered.size());
        assertThat(resumed.complete()).isTrue();
        assertThat(resumed.points()).containsExactly(direct());
    }

    @Test
    void shouldFailCleanlyWhenAnEvaluatorDiesOfAnError() {
        Tracking f = new Tracking(factory());
        f.failAtPoint = 4;
        f.throwError = true;
        AtomicInteger delivered = new AtomicInteger();
        assertThatThrownBy(() -> new ActorScheduler(f, 2).run(projection, all(), r -> delivered.incrementAndGet(),
                () -> false))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("evaluator")
                .hasMessageContaining("stopped").hasRootCauseInstanceOf(AssertionError.class);
        assertThat(f.closed.get()).isEqualTo(f.created.get()).isEqualTo(2);
        assertThat(delivered.get()).isLessThan(POINTS);
    }

    @Test
    void shouldFailCleanlyWhenAnEvaluatorCannotBeBuilt() {
        Tracking f = new Tracking(factory());
        f.failCreating = 1;
        assertThatThrownBy(() -> new ActorScheduler(f, 3).run(projection, all(), r -> { }, () -> false))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("landscape evaluator 1 stopped")
                .hasRootCauseMessage("no memory for evaluator 1 (injected)");
        assertThat(f.created.get()).isEqualTo(2);
        assertThat(f.closed.get()).as("the evaluators that were built are closed").isEqualTo(2);
    }

    @Test
    void shouldStopWhenTheSinkFailsAndRethrowItsException() {
        Tracking f = new Tracking(factory());
        AtomicInteger calls = new AtomicInteger();
        assertThatThrownBy(() -> new ActorScheduler(f, 2).run(projection, all(), r -> {
            if (calls.incrementAndGet() == 3) {
                throw new IllegalStateException("disk full (injected)");
            }
        }, () -> false)).isInstanceOf(IllegalStateException.class).hasMessage("disk full (injected)");
        assertThat(f.closed.get()).isEqualTo(2);
        assertThat(f.evaluated.get()).as("no point is dealt out after the failure").isLessThanOrEqualTo(4);
        assertThat(calls.get()).as("the broken sink is not called again").isEqualTo(3);
    }

    @Test
    void shouldStopDealingPointsOnceCancelled() {
        Tracking f = new Tracking(factory());
        AtomicInteger calls = new AtomicInteger();
        new ActorScheduler(f, 2).run(projection, all(), r -> calls.incrementAndGet(), () -> calls.get() >= 5);
        assertThat(calls.get()).as("points under way still arrive, no new ones start").isBetween(5, 6);
        assertThat(f.closed.get()).isEqualTo(2);
    }

    @Test
    void shouldAnswerLandscapePointsWithTheEvaluatorsIndex() {
        PointResult[] reference = direct();
        TestProbe<ProjectionEvaluator.PointEvaluated> points = kit.createTestProbe();
        ActorRef<ProjectionEvaluator.Command> landscape = kit.spawn(ProjectionEvaluator.forLandscape(3, factory()));
        landscape.tell(new ProjectionEvaluator.EvaluatePoint(17, 12, projection.a(12), projection.b(12),
                points.getRef()));
        ProjectionEvaluator.PointEvaluated r = points.receiveMessage();
        assertThat(r.requestId()).isEqualTo(17);
        assertThat(r.evaluator()).isEqualTo(3);
        assertThat(r.error()).isNull();
        assertThat(r.result()).isEqualTo(reference[12]);
        kit.stop(landscape);
    }

    @Test
    void shouldCarryNoFloatArraysInTheEvaluatorsMessages() {
        for (Class<?> actor : List.of(ProjectionEvaluator.class, RangeEvaluator.class, EvaluationFanOut.class)) {
            for (Class<?> c : actor.getDeclaredClasses()) {
                if (c.isRecord()) {
                    for (RecordComponent rc : c.getRecordComponents()) {
                        assertThat(rc.getType().isArray()).as(c.getSimpleName() + "." + rc.getName()).isFalse();
                    }
                }
            }
        }
    }
}
