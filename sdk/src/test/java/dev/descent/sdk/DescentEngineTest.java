package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.init.Init;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.MemoryAccounting;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension$;
import org.apache.pekko.stream.SystemMaterializer$;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DescentEngineTest {
    private static final int N = 512;
    private static final int F = 16;
    private static float[][] x;
    private static int[] y;
    private static DescentEngine engine;

    @BeforeAll
    static void setUp() {
        SplittableRandom r = new SplittableRandom(3);
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
                x[i][f] = centres[y[i]][f] + (float) (r.nextGaussian() * 0.6);
            }
        }
        engine = Descent.start(new DescentConfig().workers(2).systemName("sdk-test"));
    }

    @AfterAll
    static void tearDown() {
        engine.close();
    }

    private static ModelDefinition model() {
        return ModelDefinition.mlp().input(F).hidden(24).activation(Activation.RELU).output(4).init("kaiming-normal")
                .seed(5).build();
    }

    private static TrainingPlan.Builder plan() {
        return TrainingPlan.builder().model(model()).train(DataSource.arrays("blobs", x, y, 4))
                .test(DataSource.arrays("blobs-test", x, y, 4).limit(200)).optimizer(Optimizer.momentum(0.05, 0.9))
                .schedule(Schedule.cosine(0.05, 0)).batchSize(48).evalBatchSize(100).epochs(3).seed(9)
                .gradientStatsEvery(4);
    }

    @Test
    void shouldTrainOneWorkerBitIdenticallyToTheDirectTrainer() throws Exception {
        TrainingResult sdk = engine.submit(plan().workers(1).build()).await();
        try (Dataset train = Dataset.of("blobs", flat(), y, new int[]{F}, 4);
             Dataset test = Dataset.of("t", java.util.Arrays.copyOf(flat(), 200 * F), java.util.Arrays.copyOf(y, 200),
                     new int[]{F}, 4);
             Model m = Mlp.builder().input(F).hidden(24).output(4).init(Init.KAIMING_NORMAL).seed(5).build()) {
            var direct = Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY).optimizer(Optimizers.momentum(0.05, 0.9))
                    .schedule(LrSchedule.cosine(0.05, 0, 0)).batchSize(48).evalBatchSize(100).epochs(3).seed(9)
                    .build().fit(train, test, FitListener.NONE);
            assertThat(sdk.parametersSha256()).isEqualTo(direct.parametersSha256());
            assertThat(sdk.last().testAccuracy()).isEqualTo(direct.last().testAccuracy()).isGreaterThan(0.9);
        }
    }

    @Test
    void shouldRunJobsWithoutStartingPekkoSerializationOrStreams() throws Exception {
        // a local engine's system loads neither at start (LocalActorSystem), and a job does not need them
        engine.submit(plan().workers(2).epochs(1).build()).await();
        org.apache.pekko.actor.ActorSystem classic = Adapter.toClassic(engine.system());
        assertThat(classic.hasExtension(SerializationExtension$.MODULE$)).isFalse();
        assertThat(classic.hasExtension(SystemMaterializer$.MODULE$)).isFalse();
    }

    private static float[] flat() {
        float[] f = new float[N * F];
        for (int i = 0; i < N; i++) {
            System.arraycopy(x[i], 0, f, i * F, F);
        }
        return f;
    }

    @Test
    void shouldPublishEveryKindOfEventAndProgress(@TempDir Path dir) throws Exception {
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        TrainingJob job = engine.submit(plan().name("events").checkpointEvery(10).checkpointDir(dir)
                .listener(events::add).build());
        TrainingResult r = job.await();
        assertThat(r.steps()).isEqualTo(33);
        assertThat(job.state()).isEqualTo(JobState.SUCCEEDED);
        Progress p = job.progress();
        assertThat(p.step()).isEqualTo(33);
        assertThat(p.fraction()).isEqualTo(1.0);
        assertThat(p.testAccuracy()).isEqualTo(r.last().testAccuracy());
        assertThat(events).filteredOn(TrainingEvent.StepCompleted.class::isInstance).hasSize(33);
        assertThat(events).filteredOn(TrainingEvent.EpochCompleted.class::isInstance).hasSize(3);
        assertThat(events).filteredOn(TrainingEvent.EvaluationCompleted.class::isInstance).hasSize(3);
        assertThat(events).filteredOn(TrainingEvent.GradientStats.class::isInstance).hasSize(8);
        assertThat(events).filteredOn(TrainingEvent.BackpropMemory.class::isInstance).hasSize(1);
        assertThat(events).filteredOn(TrainingEvent.CheckpointWritten.class::isInstance).hasSize(3);
        assertThat(events).allMatch(e -> e.job().equals("events"));
        try (var files = Files.list(dir)) {
            assertThat(files.count()).isEqualTo(3);
        }
    }

    @Test
    void shouldRunJobsConcurrentlyAndKeepGoodJobsAliveWhenOneFails() throws Exception {
        TrainingJob bad = engine.submit(plan().name("bad").optimizer(Optimizer.sgd(1e12)).schedule(null).build());
        TrainingJob good = engine.submit(plan().name("good").epochs(6).build());
        assertThatThrownBy(bad::await).isInstanceOf(DivergedException.class)
                .hasCauseInstanceOf(NonFiniteLossException.class);
        assertThat(bad.state()).isEqualTo(JobState.FAILED);
        TrainingResult r = good.await();
        assertThat(r.steps()).isEqualTo(66);
        assertThat(good.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(engine.jobs()).contains(bad, good);
    }

    @Test
    void shouldCancelAJob() throws Exception {
        TrainingJob job = engine.submit(plan().name("long").epochs(5000).build());
        while (job.progress().step() < 3) {
            Thread.sleep(5);
        }
        job.cancel();
        assertThatThrownBy(() -> job.result().toCompletableFuture().get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(CancellationException.class);
        assertThat(job.state()).isEqualTo(JobState.CANCELLED);
    }

    @Test
    void shouldRefuseAPlanThatDoesNotFitItsDataOrTheBudget() {
        TrainingPlan wrongInput = plan().model(ModelDefinition.mlp().input(7).output(4).build()).build();
        assertThatThrownBy(() -> engine.submit(wrongInput)).isInstanceOf(DescentException.class)
                .hasMessageContaining("16 features").hasMessageContaining("expects 7");
        try (DescentEngine small = Descent.start(new DescentConfig().workers(1).systemName("tiny")
                .memoryBudgetBytes(1))) {
            assertThatThrownBy(() -> small.submit(plan().build())).isInstanceOf(DescentException.class)
                    .hasMessageContaining("memory budget");
        }
    }

    @Test
    void shouldReturnNativeMemoryWhenEnginesAndJobsClose() throws Exception {
        long before = MemoryAccounting.totalLiveBytes();
        for (int i = 0; i < 5; i++) {
            try (DescentEngine e = Descent.start(new DescentConfig().workers(2).systemName("leak" + i))) {
                e.submit(plan().epochs(1).build()).await();
                e.submit(plan().epochs(1000).build()); // still running at close: cancelled, memory freed
            }
        }
        assertThat(MemoryAccounting.totalLiveBytes()).isEqualTo(before);
    }

    @Test
    void shouldRunOnAHostActorSystemAndTrainFromAUserIterator() throws Exception {
        ActorSystem<Void> host = ActorSystem.create(Behaviors.empty(), "host");
        try (DescentEngine attached = Descent.attach(host, new DescentConfig().workers(2))) {
            List<Sample> samples = new java.util.ArrayList<>();
            for (int i = 0; i < N; i++) {
                samples.add(new Sample(x[i], y[i]));
            }
            TrainingResult r = attached.submit(plan().train(DataSource.fromIterator("mine", samples.iterator(), F, 4))
                    .build()).await();
            assertThat(r.last().testAccuracy()).isGreaterThan(0.9);
        } finally {
            host.terminate();
            host.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }
}
