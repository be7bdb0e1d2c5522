package dev.descent.engine.train;

import dev.descent.engine.backprop.ActivationLedger;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;

/**
 * The gradient half of a training step: forward (under a backprop strategy), loss, backward into the model's
 * gradient slab. No optimizer update: {@link TrainingStep} adds clipping and the update for the direct path, and
 * the actor engine's workers run one pass each on their shard of a batch (each with its own model replica and
 * gradient slab) while an aggregator applies the update. Owns its activation slab and loss workspace; allocates
 * nothing per call.
 */
public final class GradientPass implements AutoCloseable {
    private final Model model;
    private final KernelBackend kernels;
    private final BackpropExecutor executor;
    private final Loss loss;
    private final ExecutionContext ctx;
    private final int classes;
    private int lastCorrect;

    /**
     * @param threads GEMM threads (1 = fully deterministic)
     * @param seed    seed of replayable randomness (Dropout)
     */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed) {
        this.model = model;
        this.kernels = kernels;
        this.classes = model.outputSize();
        this.ctx = new ExecutionContext(kernels).threads(threads).seed(seed).training(true);
        BackpropExecutor ex = new BackpropExecutor(model, strategy, maxBatch);
        try {
            this.loss = lossKind.create(maxBatch, classes);
        } catch (RuntimeException | Error e) {
            ex.close();
            throw e;
        }
        this.executor = ex;
    }

    /**
     * Forward and loss on {@code features[fOff]} ([batch, inputSize]) and {@code labels[lOff]} (int32 [batch]); when
     * the loss is finite, also backward, which overwrites the model's gradient slab with the gradient of the
     * batch's mean loss. Returns the mean loss (non-finite: no backward ran, gradients are stale).
     *
     * @param step optimizer step the pass belongs to (keys replayable randomness)
     */
    public double run(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch, long step) {
        ctx.step(step).training(true);
        executor.forward(ctx, features, fOff, batch);
        MemorySegment out = executor.segment();
        long outOff = executor.outputOffset();
        double l = loss.forward(kernels, out, outOff, labels, lOff, batch);
        if (!Double.isFinite(l)) {
            return l;
        }
        lastCorrect = Loss.correct(out, outOff, labels, lOff, batch, classes);
        loss.backward(kernels, executor.outputGradient(), executor.outputGradientOffset(), labels, lOff, batch);
        executor.backward(ctx);
        return l;
    }

    /** Correctly classified rows of the last pass (valid when its loss was finite). */
    public int correct() {
        return lastCorrect;
    }

    public Model model() {
        return model;
    }

    public ActivationLedger ledger() {
        return executor.ledger();
    }

    public BackpropExecutor executor() {
        return executor;
    }

    @Override
    public void close() {
        executor.close();
        loss.close();
    }
}
