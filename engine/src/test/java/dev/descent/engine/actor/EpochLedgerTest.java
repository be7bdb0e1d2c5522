package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.TrainingCheckpoint;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.EpochReport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Epoch accounting, its META form and the barrier rule, each without an actor. */
class EpochLedgerTest {

    private static EpochLedger twoEpochsAndAHalf() {
        EpochLedger l = new EpochLedger(4);
        l.startClock(1_000);
        long t = 1_000;
        for (int s = 0; s < 10; s++) {
            t += 500_000_000L + s;
            l.step(s, 0.1 * (s + 1) + 1e-17 * s, s % 3, 64, t);
            if (l.atEpochEnd()) {
                l.endEpoch();
                l.record(s == 3 ? Double.NaN : 0.3, s == 3 ? Double.NaN : 0.7, 0.05 / (s + 1));
            }
        }
        return l;
    }

    @Test
    void shouldAccountStepsEpochsAndTotals() {
        EpochLedger l = new EpochLedger(2);
        l.startClock(0);
        assertThat(l.step(0, 1.0, 3, 4, 1_000_000_000L)).isEqualTo(1.0);
        assertThat(l.atEpochEnd()).isFalse();
        assertThat(l.step(1, 0.5, 1, 2, 3_000_000_000L)).isEqualTo(2.0);
        assertThat(l.atEpochEnd()).isTrue();
        assertThat(l.lastEpoch()).isZero();
        l.endEpoch();
        assertThat(l.epochLoss()).isEqualTo((1.0 * 4 + 0.5 * 2) / 6);
        assertThat(l.epochAccuracy()).isEqualTo(4.0 / 6);
        assertThat(l.epochExamplesPerSecond()).isEqualTo(2.0);
        EpochReport r = l.record(0.25, 0.5, 0.01);
        assertThat(r).isEqualTo(new EpochReport(0, 2, 5.0 / 6, 4.0 / 6, 0.25, 0.5, 0.01, 3.0, 2.0));
        assertThat(l.history()).containsExactly(r);
        l.startClock(10_000_000_000L); // barrier time is not training time
        assertThat(l.step(2, 1.0, 0, 6, 11_000_000_000L)).isEqualTo(1.0);
        assertThat(l.epochLoss()).as("epoch sums start over").isEqualTo(1.0);
        assertThat(l.result(20, 123, "sha").trainSeconds()).isEqualTo(3.0);
        assertThat(l.result(20, 123, "sha").examplesPerSecond()).isEqualTo(2.0);
        assertThat(l.result(20, 123, "sha").steps()).isEqualTo(3);
    }

    private static TrainingCheckpoint.Loaded loaded(Map<String, String> meta) {
        return new TrainingCheckpoint.Loaded(Path.of("ck-10.ckpt"), meta, "", new byte[0], new byte[0], new byte[0]);
    }

    @Test
    void shouldRoundTripTheLedgerThroughMetaBitForBit() throws Exception {
        EpochLedger l = twoEpochsAndAHalf();
        try (Model m = Fixtures.mlp(0.0)) {
            JobSpec spec = Fixtures.spec(m, null, null).workers(2).batchSize(64);
            Map<String, String> meta = CheckpointMeta.write(l, spec);
            assertThat(meta).containsEntry("applied", "10").containsEntry("epoch", "2").containsEntry("batchInEpoch", "2")
                    .containsEntry("workers", "2").containsEntry("history", "2");
            CheckpointMeta.check(loaded(meta), spec, 4);
            EpochLedger back = new EpochLedger(4);
            back.history.add(new EpochReport(9, 9, 9, 9, 9, 9, 9, 9, 9)); // replaced, not appended to
            CheckpointMeta.read(loaded(meta), back);
            assertThat(CheckpointMeta.write(back, spec)).isEqualTo(meta);
            assertThat(back.history()).isEqualTo(l.history());
            assertThat(Double.doubleToRawLongBits(back.epochLossSum)).isEqualTo(Double.doubleToRawLongBits(l.epochLossSum));
            // the resumed ledger goes on exactly as the original
            l.startClock(0);
            back.startClock(0);
            l.step(10, 0.123, 1, 64, 7);
            back.step(10, 0.123, 1, 64, 7);
            assertThat(CheckpointMeta.write(back, spec)).isEqualTo(CheckpointMeta.write(l, spec));
        }
    }

    @Test
    void shouldRefuseOtherSettingsAndReportABadMeta() throws Exception {
        EpochLedger l = twoEpochsAndAHalf();
        try (Model m = Fixtures.mlp(0.0)) {
            JobSpec spec = Fixtures.spec(m, null, null);
            Map<String, String> meta = new LinkedHashMap<>(CheckpointMeta.write(l, spec));
            assertThatThrownBy(() -> CheckpointMeta.check(loaded(meta), spec.optimizer(Optimizers.sgd(0.1)), 4))
                    .isInstanceOf(CheckpointMeta.Mismatch.class).hasMessageContaining("optimizer");
            assertThatThrownBy(() -> CheckpointMeta.check(loaded(meta), spec, 5))
                    .isInstanceOf(CheckpointMeta.Mismatch.class).hasMessageContaining("stepsPerEpoch 4, this run has 5");
            meta.put("history.1", "1,8,not-a-number");
            assertThatThrownBy(() -> CheckpointMeta.read(loaded(meta), new EpochLedger(4)))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("META cannot be read");
            meta.remove("trainNanos");
            assertThatThrownBy(() -> CheckpointMeta.read(loaded(meta), new EpochLedger(4)))
                    .isInstanceOf(CheckpointException.class).hasMessageContaining("trainNanos");
        }
    }

    @Test
    void shouldPauseAtEpochEndsCheckpointStepsTheEndAndOnceOnRequest() {
        Barriers b = new Barriers(10, 35, 4);
        StringBuilder at = new StringBuilder();
        for (long s = 1; s <= 35; s++) {
            if (s == 17) {
                b.request();
            }
            if (b.isBarrier(s)) {
                at.append(s).append(' ');
            }
        }
        assertThat(at.toString().strip()).isEqualTo("4 8 10 12 16 17 20 24 28 30 32 35");
        assertThat(new Barriers(10, 35, 0).isBarrier(4)).isFalse();
    }
}
