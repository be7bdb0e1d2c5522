package dev.descent.engine.landscape;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Spreads the points of a projection over evaluators. {@link ActorScheduler} runs E {@link PointEvaluator}s inside E
 * {@code ProjectionEvaluator} actors; a test may wrap the evaluators or run them another way behind this seam.
 */
public interface PointScheduler {

    /**
     * Evaluates the points {@code pending} (indices into {@code projection}) and hands each result to {@code sink}
     * as it arrives, in any order, one call at a time. Returns when all are done, or soon after {@code cancelled}
     * turns true (points under way finish and are delivered; the rest are skipped). A failure of any evaluator stops
     * the others and is rethrown.
     */
    void run(Projection projection, int[] pending, Consumer<PointResult> sink, BooleanSupplier cancelled);

    /** Number of evaluators working in parallel. */
    int evaluators();
}
