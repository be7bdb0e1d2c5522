package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;

/**
 * An optimizer bound to a model: one {@link Purpose#OPTIMIZER_STATE} slab holding the moment copies (each with
 * the model's parameter layout) and the step counter. {@link #step} is one flat kernel call over the slabs.
 */
public final class OptimizerState implements AutoCloseable {
    private final Optimizer optimizer;
    private final Model model;
    private final OffHeapBlock moments; // [momentSlabs, layout.totalFloats()]
    private final long stride;
    private long t;

    public OptimizerState(Optimizer optimizer, Model model) {
        this.optimizer = optimizer;
        this.model = model;
        this.stride = model.layout().totalFloats();
        this.moments = OffHeapBlock.allocateFloats(Math.max(1, optimizer.momentSlabs()) * stride,
                Purpose.OPTIMIZER_STATE);
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The moment slab ([momentSlabs, totalFloats]). */
    public OffHeapBlock moments() {
        return moments;
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }

    /** Applies one update with learning rate {@code lr} to the model's parameters from its gradients. */
    public void step(KernelBackend k, float lr) {
        t++;
        optimizer.step(k, model.params().segment(), model.grads().segment(), moments.segment(), stride, stride, lr, t);
    }

    /** Resets the moments and the step counter. */
    public void reset() {
        moments.fill(0f);
        t = 0;
    }

    /** Restores the step counter (for resume). */
    public void steps(long steps) {
        this.t = steps;
    }

    @Override
    public void close() {
        moments.close();
    }
}
