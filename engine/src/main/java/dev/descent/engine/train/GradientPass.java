package dev.descent.engine.train;

import dev.descent.engine.backprop.ActivationLedger;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Sam;
import java.lang.foreign.MemorySegment;

/**
 * The gradient half of a training step: forward (under a backprop strategy), loss, backward into the model's
 * gradient slab. No optimizer update: {@link TrainingStep} adds clipping and the update for the direct path, and
 * the actor engine's workers run one pass each on their shard of a batch (each with its own model replica and
 * gradient slab) while an aggregator applies the update. Owns its activation slab and loss workspace; allocates
 * nothing per call.
 *
 * <p>Built for a {@link Sam} optimizer, a pass is SAM's two passes: the gradient at w, then (on a private probe
 * model at w + ε, see {@link SamProbe}) the gradient there, which is what the gradient slab holds afterwards. The
 * loss and accuracy reported are those at w.
 */
public final class GradientPass implements AutoCloseable {
    private final Model model;
    private final KernelBackend kernels;
    private final BackpropExecutor executor;
    private final Loss loss;
    private final ExecutionContext ctx;
    private final int classes;
    private final SamProbe sam; // null unless the optimizer is SAM
    private int lastCorrect;

    /**
     * @param threads GEMM threads (1 = fully deterministic)
     * @param seed    seed of replayable randomness (Dropout)
     */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed) {
        this(model, kernels, lossKind, strategy, maxBatch, threads, seed, null);
    }

    /**
     * A pass for {@code optimizer}: SAM's two passes when it is a {@link Sam}, else the plain one.
     *
     * @param threads GEMM threads (1 = fully deterministic)
     * @param seed    seed of replayable randomness (Dropout)
     */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed, Optimizer optimizer) {
        this.model = model;
        this.kernels = kernels;
        this.classes = model.outputSize();
        this.ctx = new ExecutionContext(kernels).threads(threads).seed(seed).training(true);
        BackpropExecutor ex = new BackpropExecutor(model, strategy, maxBatch);
        Loss l = null;
        try {
            l = lossKind.create(maxBatch, classes);
            this.sam = optimizer instanceof Sam s
                    ? new SamProbe(s, model, kernels, lossKind, strategy, maxBatch, threads, seed) : null;
        } catch (RuntimeException | Error e) {
            ex.close();
            if (l != null) {
                l.close();
            }
            throw e;
        }
        this.loss = l;
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
        if (sam != null) {
            double perturbed = sam.run(model, features, fOff, labels, lOff, batch, step);
            if (!Double.isFinite(perturbed)) {
                return perturbed;
            }
        }
        return l;
    }

    /** SAM: the batch loss at w + ε of the last pass (NaN when the optimizer is not SAM). */
    public double perturbedLoss() {
        return sam == null ? Double.NaN : sam.perturbedLoss();
    }

    /** SAM: ‖ε‖ of the last pass (0 when the optimizer is not SAM). */
    public double perturbationNorm() {
        return sam == null ? 0 : sam.epsilonNorm();
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
        if (sam != null) {
            sam.close();
        }
    }
}
