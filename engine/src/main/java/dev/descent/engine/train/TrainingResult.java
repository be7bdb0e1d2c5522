package dev.descent.engine.train;

import java.util.List;

/**
 * Outcome of {@link Trainer#fit}.
 *
 * @param epochs             one report per epoch, in order
 * @param examplesPerSecond  training examples per second over the whole run (evaluation excluded)
 * @param trainSeconds       seconds spent in training steps
 * @param wallSeconds        wall time of fit, evaluation included
 * @param steps              optimizer steps taken
 * @param parameters         trainable scalars
 * @param parametersSha256   SHA-256 of the final parameters ({@link dev.descent.engine.nn.Model#parametersSha256()})
 */
public record TrainingResult(List<EpochReport> epochs, double examplesPerSecond, double trainSeconds,
                             double wallSeconds, long steps, long parameters, String parametersSha256) {
    public TrainingResult {
        epochs = List.copyOf(epochs);
    }

    /** The last epoch's report, or null when no epoch ran. */
    public EpochReport last() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }
}
