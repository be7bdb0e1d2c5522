package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.Trainer;
import dev.descent.engine.train.TrainingResult;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SAM through the whole engine: the direct trainer and one actor worker agree bit for bit; every backprop strategy
 * gives the same SAM run; two sync workers (each perturbing with its own shard's gradient, m-sharpness) are
 * reproducible and learn; async workers learn; a SAM run killed mid-epoch resumes from its checkpoint to the
 * parameters of an uninterrupted run.
 */
class SamTrainingTest {
    private static final Optimizer SAM = Optimizers.sam(Optimizers.momentum(0.05, 0.9), 0.05);
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

    private static JobSpec sam(Model m) {
        return Fixtures.spec(m, train, test).optimizer(SAM);
    }

    private static TrainingResult direct(Model m, BackpropStrategy strategy) {
        return Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY).optimizer(SAM).strategy(strategy)
                .schedule(LrSchedule.cosine(0.05, 0.0, 0)).batchSize(64).evalBatchSize(50).epochs(3).seed(11)
                .build().fit(train, test, FitListener.NONE);
    }

    @Test
    void shouldMatchTheDirectTrainerWithOneWorkerUnderEveryStrategyAndDifferFromPlainMomentum() throws Exception {
        try (Model a = Fixtures.mlp(0.1); Model b = Fixtures.mlp(0.1); Model c = Fixtures.mlp(0.1);
             Model d = Fixtures.mlp(0.1); Model plain = Fixtures.mlp(0.1)) {
            TrainingResult expected = direct(a, BackpropStrategy.VANILLA);
            TrainingResult actor = Fixtures.run(kit, sam(b).workers(1));
            assertThat(actor.parametersSha256()).isEqualTo(expected.parametersSha256());
            assertThat(direct(c, BackpropStrategy.RECOMPUTE).parametersSha256()).isEqualTo(expected.parametersSha256());
            assertThat(direct(d, BackpropStrategy.checkpointed(2)).parametersSha256())
                    .isEqualTo(expected.parametersSha256());
            TrainingResult momentum = Fixtures.run(kit, Fixtures.spec(plain, train, test).workers(1));
            assertThat(momentum.parametersSha256()).isNotEqualTo(expected.parametersSha256());
            assertThat(expected.last().testAccuracy()).isGreaterThan(0.9);
        }
    }

    @Test
    void shouldTrainWithTwoSyncWorkersReproduciblyAndWithAsyncWorkers() throws Exception {
        try (Model a = Fixtures.mlp(0.1); Model b = Fixtures.mlp(0.1); Model one = Fixtures.mlp(0.1);
             Model async = Fixtures.mlp(0.0)) {
            TrainingResult r1 = Fixtures.run(kit, sam(a).workers(2));
            TrainingResult r2 = Fixtures.run(kit, sam(b).workers(2));
            TrainingResult single = Fixtures.run(kit, sam(one).workers(1));
            assertThat(r1.parametersSha256()).isEqualTo(r2.parametersSha256());
            // m-sharpness: each worker perturbs with its own half batch, so not the one-worker step
            assertThat(r1.parametersSha256()).isNotEqualTo(single.parametersSha256());
            assertThat(r1.last().testAccuracy()).isGreaterThan(0.9);
            assertThat(Math.abs(r1.last().testAccuracy() - single.last().testAccuracy())).isLessThan(0.05);
            TrainingResult r = Fixtures.start(kit, sam(async).workers(2).mode(JobSpec.Mode.ASYNC).maxStaleness(1),
                    new JobStatus()).get(60, TimeUnit.SECONDS);
            assertThat(r.steps()).isEqualTo(30);
            assertThat(r.last().testAccuracy()).isGreaterThan(0.85);
        }
    }

    @Test
    void shouldResumeASamRunFromItsCheckpoint(@TempDir Path dir) throws Exception {
        String uninterrupted;
        try (Model m = Fixtures.mlp(0.1)) {
            uninterrupted = Fixtures.run(kit, sam(m).workers(2)).parametersSha256();
        }
        try (Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<TrainingResult> f = Fixtures.start(kit, CheckpointResumeTest.checkpointed(sam(m), dir)
                    .maxRetries(0).faults((w, s, at) -> {
                        if (s == 20) {
                            throw new IllegalStateException("crash");
                        }
                    }), new JobStatus());
            assertThatThrownBy(() -> f.get(60, TimeUnit.SECONDS)).hasRootCauseMessage("crash");
        }
        try (Model m = Fixtures.mlp(0.1)) {
            TrainingResult r = Fixtures.run(kit, CheckpointResumeTest.checkpointed(sam(m), dir));
            assertThat(r.parametersSha256()).isEqualTo(uninterrupted);
            assertThat(r.steps()).isEqualTo(30);
        }
    }
}
