package dev.descent.engine.actor;

import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.TrainingResult;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's epoch accounting: the position ({@link #applied()} steps), the running sums of the current epoch (loss,
 * correct, examples, time), the training totals and the {@link EpochReport} history. Plain state owned by the
 * {@link JobSupervisor} (one thread); {@link CheckpointMeta} saves and restores it, so a resumed job continues the
 * same sums in the same order.
 */
final class EpochLedger {
    final int perEpoch;
    long applied;
    double epochLossSum;
    long epochCorrect;
    long epochExamples;
    long epochNanos;
    long trainNanos;
    long trainExamples;
    final List<EpochReport> history = new ArrayList<>();
    private long mark;

    EpochLedger(int perEpoch) {
        this.perEpoch = perEpoch;
    }

    long applied() {
        return applied;
    }

    List<EpochReport> history() {
        return history;
    }

    /** Starts the clock (at the start, and after a barrier: barrier time is not training time). */
    void startClock(long nowNanos) {
        mark = nowNanos;
    }

    /**
     * Accounts step {@code step} (0-based) of {@code rows} examples, {@code correct} of them right, with mean loss
     * {@code loss}; returns the seconds since the previous step (or the clock's start).
     */
    double step(long step, double loss, int correct, int rows, long nowNanos) {
        double seconds = (nowNanos - mark) / 1e9;
        epochNanos += nowNanos - mark;
        mark = nowNanos;
        applied = step + 1;
        epochLossSum += loss * rows;
        epochCorrect += correct;
        epochExamples += rows;
        return seconds;
    }

    /** Whether {@link #applied()} is the last step of an epoch. */
    boolean atEpochEnd() {
        return applied % perEpoch == 0;
    }

    /** The 0-based epoch that ended last (-1 before the first). */
    int lastEpoch() {
        return (int) (applied / perEpoch) - 1;
    }

    /** Throughput of the current epoch so far, examples per second (0 before any time has passed). */
    double examplesPerSecond() {
        return epochNanos > 0 ? epochExamples / (epochNanos / 1e9) : 0;
    }

    /** Closes the current epoch's time and examples into the training totals. */
    void endEpoch() {
        trainNanos += epochNanos;
        trainExamples += epochExamples;
    }

    double epochLoss() {
        return epochLossSum / epochExamples;
    }

    double epochAccuracy() {
        return (double) epochCorrect / epochExamples;
    }

    double epochSeconds() {
        return epochNanos / 1e9;
    }

    double epochExamplesPerSecond() {
        return epochExamples / (epochNanos / 1e9);
    }

    /** Appends the ended epoch's report (test numbers NaN when there is no test set) and clears the epoch sums. */
    EpochReport record(double testLoss, double testAccuracy, double learningRate) {
        EpochReport r = new EpochReport(lastEpoch(), applied, epochLoss(), epochAccuracy(), testLoss, testAccuracy,
                learningRate, epochSeconds(), epochExamplesPerSecond());
        history.add(r);
        epochLossSum = 0;
        epochCorrect = 0;
        epochExamples = 0;
        epochNanos = 0;
        return r;
    }

    /** The job's result: the history and the training throughput over the time spent in steps. */
    TrainingResult result(double wallSeconds, long parameters, String parametersSha256) {
        double trainSeconds = trainNanos / 1e9;
        return new TrainingResult(history, trainSeconds > 0 ? trainExamples / trainSeconds : 0, trainSeconds,
                wallSeconds, applied, parameters, parametersSha256);
    }
}
