package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;

/**
 * What a {@link Module} needs to know about the pass it runs in: the kernels, the GEMM thread count, train or
 * eval mode, the optimizer step and seed (for replayable randomness such as Dropout masks), and whether this
 * forward is a recompute of one already run during this step (so that layers with running state, e.g.
 * BatchNorm, update it only once).
 *
 * <p>One mutable instance per executor, reused every step: setting fields allocates nothing.
 */
public final class ExecutionContext {
    private KernelBackend kernels;
    private int threads = 1;
    private boolean training = true;
    private boolean recompute;
    private long step;
    private long seed;

    public ExecutionContext() {
        this(Kernels.backend());
    }

    public ExecutionContext(KernelBackend kernels) {
        this.kernels = kernels;
    }

    public KernelBackend kernels() {
        return kernels;
    }

    public ExecutionContext kernels(KernelBackend kernels) {
        this.kernels = kernels;
        return this;
    }

    /** GEMM threads; 1 is fully deterministic. */
    public int threads() {
        return threads;
    }

    public ExecutionContext threads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.threads = threads;
        return this;
    }

    /** True in training mode (Dropout active), false in eval mode. */
    public boolean isTraining() {
        return training;
    }

    public ExecutionContext training(boolean training) {
        this.training = training;
        return this;
    }

    /**
     * True while a backprop strategy re-runs a forward it already ran in this step (to rebuild an activation it
     * did not keep). Outputs must be bit-identical to the first run; running statistics must not be updated.
     */
    public boolean isRecompute() {
        return recompute;
    }

    public ExecutionContext recompute(boolean recompute) {
        this.recompute = recompute;
        return this;
    }

    /** The optimizer step this pass belongs to (replayable randomness is keyed by it). */
    public long step() {
        return step;
    }

    public ExecutionContext step(long step) {
        this.step = step;
        return this;
    }

    /** The run's seed (replayable randomness is keyed by it). */
    public long seed() {
        return seed;
    }

    public ExecutionContext seed(long seed) {
        this.seed = seed;
        return this;
    }
}
