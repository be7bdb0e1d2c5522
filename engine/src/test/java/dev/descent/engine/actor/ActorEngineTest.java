package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.MemoryAccounting;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.Trainer;
import dev.descent.engine.train.TrainingResult;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ActorEngineTest {
    private static ActorTestKit kit;
    private static Dataset train;
    private static Dataset test;

    @BeforeAll
    static void setUp() {
        kit = ActorTestKit.create();
        train = Fixtures.blobs("train", 600, 20, 3, 1);
        test = Fixtures.blobs("test", 230, 20, 3, 2);
    }

    @AfterAll
    static void tearDown() {
        kit.shutdownTestKit();
        train.close();
        test.close();
    }

    private static TrainingResult direct(Model m) {
        return Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY).optimizer(Optimizers.momentum(0.05, 0.9))
                .schedule(LrSchedule.cosine(0.05, 0.0, 0)).batchSize(64).evalBatchSize(50).epochs(3).seed(11)
                .build().fit(train, test, FitListener.NONE);
    }

    @Test
    void shouldMatchTheDirectTrainerBitForBitWithOneWorker() throws Exception {
        try (Model a = Fixtures.mlp(0.1); Model b = Fixtures.mlp(0.1)) {
            TrainingResult expected = direct(a);
            Fixtures.Recorder events = new Fixtures.Recorder();
            TrainingResult actual = Fixtures.run(kit, Fixtures.spec(b, train, test).workers(1).listener(events)
                    .gradientStatsEverySteps(5));
            assertThat(actual.parametersSha256()).isEqualTo(expected.parametersSha256());
            assertThat(actual.steps()).isEqualTo(expected.steps()).isEqualTo(30);
            for (int e = 0; e < 3; e++) {
                assertThat(actual.epochs().get(e).trainLoss()).isEqualTo(expected.epochs().get(e).trainLoss());
                assertThat(actual.epochs().get(e).testLoss()).isEqualTo(expected.epochs().get(e).testLoss());
                assertThat(actual.epochs().get(e).testAccuracy()).isEqualTo(expected.epochs().get(e).testAccuracy());
            }
            assertThat(events.of(TrainingEvent.StepCompleted.class)).hasSize(30);
            assertThat(events.of(TrainingEvent.StepCompleted.class).get(29).step()).isEqualTo(30);
            assertThat(events.of(TrainingEvent.EpochCompleted.class)).hasSize(3);
            assertThat(events.of(TrainingEvent.EvaluationCompleted.class)).hasSize(3);
            assertThat(events.of(TrainingEvent.GradientStats.class)).hasSize(6)
                    .allSatisfy(g -> assertThat(java.util.Arrays.stream(g.gradientNorms()).min().orElse(0)).isPositive());
            assertThat(events.of(TrainingEvent.BackpropMemory.class)).hasSize(1)
                    .allSatisfy(m -> assertThat(m.peakActivationBytes()).isPositive());
        }
    }

    @Test
    void shouldBeBitReproducibleWithTwoWorkersAndLearn() throws Exception {
        try (Model a = Fixtures.mlp(0.1); Model b = Fixtures.mlp(0.1); Model one = Fixtures.mlp(0.1)) {
            TrainingResult r1 = Fixtures.run(kit, Fixtures.spec(a, train, test).workers(2).evaluators(2));
            // statistics on every step: the summed gradient is written whole before each update, not block by block
            // inside it as in r1
            TrainingResult r2 = Fixtures.run(kit, Fixtures.spec(b, train, test).workers(2).evaluators(2)
                    .gradientStatsEverySteps(1));
            TrainingResult single = Fixtures.run(kit, Fixtures.spec(one, train, test).workers(1));
            assertThat(r1.parametersSha256()).isEqualTo(r2.parametersSha256());
            // another reduction order: not the same bits, but the same training
            assertThat(r1.parametersSha256()).isNotEqualTo(single.parametersSha256());
            assertThat(r1.last().testAccuracy()).isGreaterThan(0.9);
            assertThat(Math.abs(r1.last().testAccuracy() - single.last().testAccuracy())).isLessThan(0.05);
        }
    }

    @Test
    void shouldGiveTheSameBitsInBothUpdatePathsWhenAWorkerHasNoRows() throws Exception {
        // batches of 64, 64 and 1 rows: in the last one worker 0's shard is empty, so the sum starts from zeros
        Dataset odd = Fixtures.blobs("odd", 129, 20, 3, 5);
        try (Model a = Fixtures.mlp(0.1); Model b = Fixtures.mlp(0.1)) {
            TrainingResult blocks = Fixtures.run(kit, Fixtures.spec(a, odd, test).workers(2));
            TrainingResult whole = Fixtures.run(kit, Fixtures.spec(b, odd, test).workers(2).gradientStatsEverySteps(1));
            assertThat(blocks.steps()).isEqualTo(9);
            assertThat(blocks.parametersSha256()).isEqualTo(whole.parametersSha256());
            assertThat(blocks.last().trainLoss()).isFinite();
        } finally {
            odd.close();
        }
    }

    @Test
    void shouldRestartAFailedWorkerAndRetryItsStep() throws Exception {
        try (Model a = Fixtures.mlp(0.0); Model b = Fixtures.mlp(0.0)) {
            TrainingResult clean = Fixtures.run(kit, Fixtures.spec(a, train, test).workers(2));
            Fixtures.Recorder events = new Fixtures.Recorder();
            JobStatus status = new JobStatus();
            TrainingResult faulty = Fixtures.start(kit, Fixtures.spec(b, train, test).workers(2).listener(events)
                    .faults((w, step, attempt) -> {
                        if (w == 1 && step == 5 && attempt < 2) {
                            throw new IllegalStateException("injected fault " + attempt);
                        }
                    }), status).get(60, TimeUnit.SECONDS);
            assertThat(faulty.parametersSha256()).isEqualTo(clean.parametersSha256());
            assertThat(status.retries()).isEqualTo(2);
            assertThat(status.state()).isEqualTo(JobStatus.State.SUCCEEDED);
            assertThat(events.of(TrainingEvent.Anomaly.class)).hasSize(2)
                    .allSatisfy(an -> assertThat(an.message()).contains("worker 1", "step 5", "injected fault"));
        }
    }

    @Test
    void shouldFailTheJobWithTheCauseAfterBoundedRetriesAndFreeItsMemory() throws Exception {
        long before = MemoryAccounting.totalLiveBytes();
        try (Model m = Fixtures.mlp(0.0)) {
            long withModel = MemoryAccounting.totalLiveBytes();
            JobStatus status = new JobStatus();
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test).workers(2)
                    .maxRetries(2).faults((w, step, attempt) -> {
                        if (step == 3) {
                            throw new ArithmeticException("always broken");
                        }
                    }), status);
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(Worker.WorkerFailedException.class)
                    .hasMessageContaining("step 3").hasMessageContaining("3 times")
                    .cause().isInstanceOf(ArithmeticException.class).hasMessage("always broken");
            assertThat(status.state()).isEqualTo(JobStatus.State.FAILED);
            assertThat(status.step()).isEqualTo(3);
            assertThat(MemoryAccounting.totalLiveBytes()).isEqualTo(withModel);
        }
        assertThat(MemoryAccounting.totalLiveBytes()).isEqualTo(before);
    }

    @Test
    void shouldFailAStepThatNeverFinishesInsteadOfHanging() throws Exception {
        try (Model m = Fixtures.mlp(0.0)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test).workers(2)
                    .stepTimeout(Duration.ofMillis(300)).faults((w, step, attempt) -> {
                        if (step == 2 && w == 0) {
                            Thread.sleep(1500);
                        }
                    }), new JobStatus());
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(TimeoutException.class)
                    .hasMessageContaining("step 2").hasMessageContaining("1 of 2");
        }
    }

    @Test
    void shouldStopOnNonFiniteLossAndRestoreTheEpochStart() throws Exception {
        try (Model m = Fixtures.mlp(0.0)) {
            String initial = m.parametersSha256();
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, Fixtures.spec(m, train, test).workers(2)
                    .optimizer(Optimizers.sgd(1e12)).schedule(null), new JobStatus());
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(NonFiniteLossException.class)
                    .hasMessageContaining("learning rate");
            assertThat(m.parametersSha256()).isEqualTo(initial);
        }
    }

    @Test
    void shouldTrainAsynchronouslyWithBoundedStaleness() throws Exception {
        try (Model a = Fixtures.mlp(0.0); Model b = Fixtures.mlp(0.0)) {
            JobStatus status = new JobStatus();
            TrainingResult r = Fixtures.start(kit, Fixtures.spec(a, train, test).workers(2)
                    .mode(JobSpec.Mode.ASYNC).maxStaleness(1), status).get(60, TimeUnit.SECONDS);
            assertThat(r.steps()).isEqualTo(30);
            assertThat(r.last().testAccuracy()).isGreaterThan(0.85);
            JobStatus strict = new JobStatus();
            TrainingResult s = Fixtures.start(kit, Fixtures.spec(b, train, test).workers(2)
                    .mode(JobSpec.Mode.ASYNC).maxStaleness(0), strict).get(60, TimeUnit.SECONDS);
            assertThat(s.steps()).isEqualTo(30);
            assertThat(s.last().testAccuracy()).isGreaterThan(0.85);
        }
    }

    @Test
    void shouldKeepOtherJobsRunningWhenOneFails() throws Exception {
        try (Model good = Fixtures.mlp(0.0); Model bad = Fixtures.mlp(0.0); Model ref = Fixtures.mlp(0.0)) {
            CompletableFuture<TrainingResult> g = Fixtures.start(kit, Fixtures.spec(good, train, test).name("good")
                    .workers(2), new JobStatus());
            CompletableFuture<TrainingResult> b = Fixtures.start(kit, Fixtures.spec(bad, train, test).name("bad")
                    .workers(2).maxRetries(0).faults((w, step, attempt) -> {
                        throw new IllegalStateException("bad job");
                    }), new JobStatus());
            assertThatThrownBy(() -> b.get(30, TimeUnit.SECONDS)).hasRootCauseMessage("bad job");
            TrainingResult r = g.get(60, TimeUnit.SECONDS);
            assertThat(r.parametersSha256()).isEqualTo(Fixtures.run(kit, Fixtures.spec(ref, train, test)
                    .workers(2)).parametersSha256());
        }
    }

    @Test
    void shouldCancelARunningJob() throws Exception {
        try (Model m = Fixtures.mlp(0.0)) {
            CompletableFuture<TrainingResult> f = new CompletableFuture<>();
            JobStatus status = new JobStatus();
            var ref = kit.spawn(JobSupervisor.create(Fixtures.spec(m, train, test).epochs(1000).workers(2), status, f,
                    org.apache.pekko.actor.typed.DispatcherSelector.blocking()));
            while (status.step() < 5) {
                Thread.sleep(5);
            }
            ref.tell(JobSupervisor.Cancel.INSTANCE);
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause()
                    .isInstanceOf(java.util.concurrent.CancellationException.class);
            assertThat(status.state()).isEqualTo(JobStatus.State.CANCELLED);
        }
    }
}
