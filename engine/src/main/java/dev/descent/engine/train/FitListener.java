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

    default void onStep(StepReport report) {
    }

    default void onEpoch(EpochReport report) {
    }
}
