package dev.descent.engine.landscape;

/**
 * Evaluates the loss at points of one projection. Each instance owns its own parameter buffer and activation
 * workspace, so E instances run inside E {@code ProjectionEvaluator} actors (on E threads) without sharing
 * anything mutable. Results must be a pure function of the point, never of which evaluator computed it or in what
 * order: that is what makes a resumed run identical to an uninterrupted one.
 */
public interface PointEvaluator extends AutoCloseable {

    /** Loss and accuracy at point {@code index} = {@code base + a·d1 + b·d2}. */
    PointResult evaluate(int index, double a, double b);

    @Override
    void close();

    /** Creates evaluator number {@code e} of a pool (each call a new, independent instance). */
    @FunctionalInterface
    interface Factory {
        PointEvaluator create(int e);
    }
}
