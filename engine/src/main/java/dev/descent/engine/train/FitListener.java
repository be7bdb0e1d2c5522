package dev.descent.engine.train;

/**
 * Callbacks of {@link Trainer#fit}: after every step and after every epoch, on the training thread (keep them
 * quick). Throwing from a callback stops training.
 */
public interface FitListener {
    FitListener NONE = new FitListener() {
    };

    /** Return true to receive per-layer gradient L2 norms in every {@link StepReport} (costs one pass). */
    default boolean wantsGradientNorms() {
        return false;
    }

    /**
     * Return N > 0 to receive {@link #onLayerStats} for steps 0, N, 2N, ...: per-layer gradient norms and update
     * ratios (costs a parameter snapshot before those steps and three passes over the parameters after them).
     */
    default int layerStatsEvery() {
        return 0;
    }

    /**
     * Gradient health of optimizer step {@code step} (0-based): for each parameter-owning layer ({@code layers},
     * e.g. {@code 0:linear}, first layer first) the L2 norm of its gradient (computed at the parameters before the
     * step, so step 0 shows the gradients at initialization) and ‖Δw‖/‖w‖ of the update it received;
     * {@code globalNorm} is the L2 norm of the whole gradient. Called after {@link #onStep} of that step; the arrays
     * are fresh (the listener may keep them).
     */
    default void onLayerStats(long step, java.util.List<String> layers, double[] gradientNorms, double[] updateRatios,
                              double globalNorm) {
    }

    /**
     * Return N > 0 to measure the gradient noise scale on steps N−1, 2N−1, ... (0-based: every N-th step) and
     * receive {@link #onNoiseScale} after each: from the step's micro-batches, or, when the batch is one
     * micro-batch, from an extra half-batch gradient ({@link GradientPass#measureUnits(boolean, boolean)}; costs
     * about half a step's compute per measurement, and leaves the update unchanged).
     */
    default int noiseScaleEvery() {
        return 0;
    }

    /**
     * The smoothed gradient noise scale after optimizer step {@code step} (1-based: steps taken), as
     * {@link GradientNoiseScale} estimates it from {@code units} parts of a batch of {@code batch} rows. Called
     * after {@link #onStep} of that step.
     */
    default void onNoiseScale(long step, double noiseScale, double traceCovariance, double gradientSquaredNorm,
                              int units, int batch) {
    }

    default void onStep(StepReport report) {
    }

    default void onEpoch(EpochReport report) {
    }
}
