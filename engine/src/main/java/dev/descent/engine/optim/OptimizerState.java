package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.KernelPool;
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
    // parallel step (chunks laid out on first use; the task is made once, so a step allocates nothing)
    private SlabChunks chunks;
    private KernelBackend curKernels;
    private float curLr;
    private final KernelPool.Task chunkStep = this::stepChunk;

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

    /**
     * The same update split into {@code parts} contiguous, 64-byte-aligned chunks of the slabs run on {@code pool}.
     * Every optimizer update is elementwise, so the result is bit-identical to {@link #step(KernelBackend, float)}.
     * No allocation once the chunks for a part count are laid out.
     */
    public void step(KernelBackend k, float lr, KernelPool pool, int parts) {
        if (parts <= 1) {
            step(k, lr);
            return;
        }
        t++;
        if (chunks == null || chunks.parts() != parts) {
            chunks = new SlabChunks(stride, parts, model.params().segment(), model.grads().segment(),
                    moments.segment());
        }
        curKernels = k;
        curLr = lr;
        pool.run(parts, chunkStep);
    }


    private void stepChunk(int part, int parts) {
        SlabChunks c = chunks;
        if (c.length(part) > 0) {
            optimizer.step(curKernels, c.slice(0, part), c.slice(1, part), c.slice(2, part), stride, c.length(part),
                    curLr, t);
        }
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
