package dev.descent.sdk;

import dev.descent.engine.train.EpochReport;
import java.util.List;

/**
 * Outcome of a successful job.
 *
 * @param examplesPerSecond training examples per second over the run (evaluation excluded)
 * @param parametersSha256  SHA-256 of the final parameters (equal hashes = bit-identical models)
 */
public record TrainingResult(List<EpochSummary> epochs, double examplesPerSecond, double trainSeconds,
                             double wallSeconds, long steps, long parameters, String parametersSha256) {
    public TrainingResult {
        epochs = List.copyOf(epochs);
    }

    /** The last epoch, or null when none ran. */
    public EpochSummary last() {
        return epochs.isEmpty() ? null : epochs.getLast();
    }

    static TrainingResult of(dev.descent.engine.train.TrainingResult r) {
        List<EpochSummary> e = r.epochs().stream().map(TrainingResult::summary).toList();
        return new TrainingResult(e, r.examplesPerSecond(), r.trainSeconds(), r.wallSeconds(), r.steps(),
                r.parameters(), r.parametersSha256());
    }

    private static EpochSummary summary(EpochReport x) {
        return new EpochSummary(x.epoch(), x.steps(), x.trainLoss(), x.trainAccuracy(), x.testLoss(),
                x.testAccuracy(), x.learningRate(), x.seconds(), x.examplesPerSecond());
    }
}
