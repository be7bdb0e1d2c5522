package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/**
 * An update rule applied to the whole parameter slab in one flat kernel call (parameters, gradients and the
 * optimizer's moment slabs share one layout). Immutable; the moments live in an {@link OptimizerState}.
 * Build instances with {@link Optimizers}.
 */
public sealed interface Optimizer permits Sgd, Adam, Sam {

    /** Base learning rate (used when no schedule is given). */
    double learningRate();

    /** Weight decay factor. */
    double weightDecay();

    /** True: decoupled decay p -= lr·wd·p (SGDW/AdamW); false: coupled L2, g += wd·p. */
    boolean decoupledWeightDecay();

    /** How many moment copies of the slab this rule keeps (SGD 0, momentum 1, Adam 2). */
    int momentSlabs();

    /** A copy with another base learning rate. */
    Optimizer withLearningRate(double lr);

    /** A copy with weight decay {@code wd}, coupled or decoupled. */
    Optimizer withWeightDecay(double wd, boolean decoupled);

    /**
     * Updates {@code n} floats of {@code params} from {@code grads}; {@code state} holds
     * {@link #momentSlabs()} copies of {@code stride} floats each. {@code t} is the 1-based step number.
     */
    default void step(KernelBackend k, MemorySegment params, MemorySegment grads, MemorySegment state, long stride,
                      long n, float lr, long t) {
        step(k, params, grads, state, stride, 0, n, lr, t);
    }

    /**
     * The same update on floats {@code [offset, offset + n)} of the slabs (moment copy j at
     * {@code j·stride + offset}): a block of a larger update, bit-identical to those floats of the whole-slab
     * update (every rule is elementwise).
     */
    void step(KernelBackend k, MemorySegment params, MemorySegment grads, MemorySegment state, long stride,
              long offset, long n, float lr, long t);

    /** E.g. {@code momentum(lr=0.01, mu=0.9)}. */
    String describe();
}
