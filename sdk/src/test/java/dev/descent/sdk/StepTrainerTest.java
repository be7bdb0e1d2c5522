package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** StepTrainer on a small modular-arithmetic table: learning, weight decay, checkpoints and exact resume. */
class StepTrainerTest {
    private static final ModularArithmetic TASK = ModularArithmetic.of(ModularArithmetic.Operation.ADD, 11, 0.6, 3);

    private static TrainingPlan.Builder plan(ModelDefinition model, double wd) {
        return TrainingPlan.builder().model(model).train(TASK.train()).test(TASK.validation())
                .optimizer(Optimizer.adamW(3e-3, 0.9, 0.98, 1e-8, wd)).schedule(Schedule.constant(3e-3).withWarmup(5))
                .batchSize(32).seed(2);
    }

    private static ModelDefinition mlp() {
        return ModelDefinition.embeddingMlp(TASK.vocabulary(), TASK.sequenceLength(), 8, new int[] {32},
                TASK.classes(), 1);
    }

    @Test
    void shouldDescribeTheTable() {
        assertThat(TASK.vocabulary()).isEqualTo(13);
        assertThat(TASK.pairs()).isEqualTo(121);
        assertThat(TASK.trainCount()).isEqualTo(73);
        assertThat(TASK.validationCount()).isEqualTo(48);
        assertThat(ModularArithmetic.Operation.DIV.apply(3, 2, 11)).isEqualTo(7); // 2 * 7 = 14 = 3 mod 11
    }

    @Test
    void shouldFitTheTrainingPairsAndShrinkWeightsUnderDecay() {
        try (StepTrainer t = StepTrainer.open(plan(mlp(), 0.0).build(), 300);
             StepTrainer decayed = StepTrainer.open(plan(mlp(), 1.0).build(), 300)) {
            double w0 = t.weightNorm();
            assertThat(decayed.weightNorm()).isEqualTo(w0); // same seed, same weights
            double before = t.evaluateTrain().loss();
            t.train(1000); // capped at the run length
            decayed.train(300);
            assertThat(t.step()).isEqualTo(300);
            assertThat(t.batchSize()).isEqualTo(32);
            assertThat(t.evaluateTrain().loss()).isLessThan(before / 2);
            assertThat(t.evaluateTrain().accuracy()).isGreaterThan(0.3); // chance: 1/11
            assertThat(t.evaluateTest().examples()).isEqualTo(48);
            assertThat(decayed.weightNorm()).isLessThan(t.weightNorm());
            assertThat(t.learningRate()).isEqualTo(3e-3, org.assertj.core.data.Offset.offset(1e-12));
        }
    }

    @Test
    void shouldResumeFromTheNewestCheckpointBitIdentically(@TempDir Path dir) throws Exception {
        ModelDefinition m = ModelDefinition.transformer(TASK.vocabulary(), TASK.sequenceLength(), 16, 2, 1,
                TASK.classes(), 4);
        String straight;
        try (StepTrainer t = StepTrainer.open(plan(m, 1.0).build(), 40)) {
            t.train(40);
            straight = t.evaluateTrain() + " " + t.weightNorm();
        }
        Path ck = dir.resolve("ck");
        try (StepTrainer t = StepTrainer.open(plan(m, 1.0).checkpointDir(ck).resume(true).build(), 40)) {
            assertThat(t.resumed()).isFalse();
            t.train(13); // mid-epoch (73 examples, batch 32: 3 batches per epoch)
            t.checkpoint(Map.of("note", "first"));
            t.train(5); // lost: the run is "interrupted" after these
        }
        assertThat(Files.list(ck).count()).isEqualTo(1);
        try (StepTrainer t = StepTrainer.open(plan(m, 1.0).checkpointDir(ck).resume(true).build(), 40)) {
            assertThat(t.resumed()).isTrue();
            assertThat(t.step()).isEqualTo(13);
            assertThat(t.resumedMeta()).containsEntry("note", "first").containsEntry("totalSteps", "40");
            t.train(100);
            assertThat(t.evaluateTrain() + " " + t.weightNorm()).isEqualTo(straight);
        }
    }

    @Test
    void shouldRejectAMismatchedModelOrMissingFolder(@TempDir Path dir) {
        ModelDefinition wrongInput = ModelDefinition.mlp().input(5).hidden(4).output(11).build();
        assertThatThrownBy(() -> StepTrainer.open(plan(wrongInput, 0).build(), 10))
                .hasMessageContaining("has 4 features per sample").hasMessageContaining("expects 5");
        assertThatThrownBy(() -> StepTrainer.open(plan(mlp(), 0).resume(true).build(), 10))
                .hasMessageContaining("needs checkpointDir");
        assertThatThrownBy(() -> StepTrainer.open(plan(mlp(), 0).build(), 0))
                .hasMessageContaining("total steps must be >= 1, was 0");
    }
}
