package dev.descent.engine.train;

import dev.descent.engine.backprop.ActivationLedger;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
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
 * <p><b>Gradient accumulation.</b> With a micro-batch size {@code m} smaller than the batch, a pass runs forward and
 * backward on consecutive slices of at most {@code m} rows and accumulates g = Σ_k (rows_k / rows) · g_k in an
 * accumulation slab it owns, then leaves g in the model's gradient slab: the gradient of the whole batch's mean
 * loss, equal to one big pass up to float rounding (for models without BatchNorm, whose training statistics are
 * per micro-batch, and without Dropout, whose masks are drawn per micro-batch). The activation slab holds
 * {@code m} rows, so a batch larger than the memory of one pass still trains.
 *
 * <p><b>Gradient noise units.</b> When {@link #measureUnits(boolean) measuring}, a pass also records
 * Σ_k rows_k · ‖g_k‖² over its micro-batches ({@link #unitSquares()}) and their count ({@link #units()}): the
 * small-batch half of the gradient noise scale estimate ({@link GradientNoiseScale}).
 *
 * <p><b>SAM.</b> Built for a {@link Sam} optimizer, a pass is SAM's two passes: the gradient at w (accumulated over
 * micro-batches if asked), then (on a private probe model at w + ε, see {@link SamProbe}) the gradient of the whole
 * batch there, which is what the gradient slab holds afterwards. The loss and accuracy reported are those at w.
 */
public final class GradientPass implements AutoCloseable {
    private final Model model;
    private final KernelBackend kernels;
    private final BackpropExecutor executor;
    private final Loss loss;
    private final ExecutionContext ctx;
    private final int classes;
    private final int microBatch;
    private final OffHeapBlock accumulator; // [parameters] Σ (rows_k/rows) g_k; null without micro-batches
    private final SamProbe sam; // null unless the optimizer is SAM
    private int lastCorrect;
    private boolean measureUnits;
    private int lastUnits;
    private double lastUnitSquares;

    /**
     * @param threads GEMM threads (1 = fully deterministic)
     * @param seed    seed of replayable randomness (Dropout)
     */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed) {
        this(model, kernels, lossKind, strategy, maxBatch, threads, seed, 0, null);
    }

    /** A plain pass (no SAM) accumulating over micro-batches of {@code microBatch} rows. */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed, int microBatch) {
        this(model, kernels, lossKind, strategy, maxBatch, threads, seed, microBatch, null);
    }

    /** A pass for {@code optimizer}: SAM's two passes when it is a {@link Sam}, else the plain one. */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed, Optimizer optimizer) {
        this(model, kernels, lossKind, strategy, maxBatch, threads, seed, 0, optimizer);
    }

    /**
     * @param microBatch rows per forward/backward; a larger batch is accumulated over micro-batches
     *                   ({@code <= 0} or {@code >= maxBatch}: one pass per batch, no accumulation slab)
     * @param optimizer  the job's optimizer (SAM's second pass when it is a {@link Sam}); null: a plain pass
     */
    public GradientPass(Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy,
                        int maxBatch, int threads, long seed, int microBatch, Optimizer optimizer) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max batch must be >= 1, was " + maxBatch);
        }
        this.model = model;
        this.kernels = kernels;
        this.classes = model.outputSize();
        this.microBatch = microBatch <= 0 || microBatch >= maxBatch ? maxBatch : microBatch;
        this.ctx = new ExecutionContext(kernels).threads(threads).seed(seed).training(true);
        BackpropExecutor ex = new BackpropExecutor(model, strategy, this.microBatch);
        Loss l = null;
        OffHeapBlock acc = null;
        try {
            l = lossKind.create(this.microBatch, classes);
            acc = this.microBatch < maxBatch
                    ? OffHeapBlock.allocateFloats(model.layout().totalFloats(), Purpose.GRADIENTS) : null;
            this.sam = optimizer instanceof Sam s
                    ? new SamProbe(s, model, kernels, lossKind, strategy, maxBatch, threads, seed) : null;
        } catch (RuntimeException | Error e) {
            ex.close();
            if (l != null) {
                l.close();
            }
            if (acc != null) {
                acc.close();
            }
            throw e;
        }
        this.accumulator = acc;
        this.loss = l;
        this.executor = ex;
    }

    /** Rows per forward/backward (the batch itself when it is not split). */
    public int microBatch() {
        return microBatch;
    }

    /** Also record Σ rows_k‖g_k‖² over the micro-batches of each pass (one sum of squares per micro-batch). */
    public GradientPass measureUnits(boolean on) {
        this.measureUnits = on;
        return this;
    }

    /**
     * Forward and loss on {@code features[fOff]} ([batch, inputSize]) and {@code labels[lOff]} (int32 [batch]); when
     * the loss is finite, also backward, which overwrites the model's gradient slab with the gradient of the
     * batch's mean loss. Returns the mean loss (non-finite: no backward ran, gradients are stale).
     *
     * @param step optimizer step the pass belongs to (keys replayable randomness)
     */
    public double run(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch, long step) {
        double l = gradientAtW(features, fOff, labels, lOff, batch, step);
        if (sam != null && Double.isFinite(l)) {
            double perturbed = sam.run(model, features, fOff, labels, lOff, batch, step);
            if (!Double.isFinite(perturbed)) {
                return perturbed;
            }
        }
        return l;
    }

    private double gradientAtW(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch,
                               long step) {
        lastUnits = 0;
        lastUnitSquares = 0;
        if (batch <= microBatch) {
            double l = once(features, fOff, labels, lOff, batch, step);
            if (Double.isFinite(l) && measureUnits) {
                lastUnits = 1;
                lastUnitSquares = batch * kernels.sumSquares(model.grads().segment(), 0, model.layout().totalFloats());
            }
            return l;
        }
        MemorySegment g = model.grads().segment();
        MemorySegment acc = accumulator.segment();
        long n = model.layout().totalFloats();
        acc.fill((byte) 0);
        double lossSum = 0;
        int correct = 0;
        int inputSize = model.inputSize();
        for (int lo = 0; lo < batch; lo += microBatch) {
            int rows = Math.min(microBatch, batch - lo);
            double l = once(features, fOff + (long) lo * inputSize, labels, lOff + lo, rows, step);
            if (!Double.isFinite(l)) {
                return l;
            }
            lossSum += l * rows;
            correct += lastCorrect;
            if (measureUnits) {
                lastUnits++;
                lastUnitSquares += rows * kernels.sumSquares(g, 0, n);
            }
            kernels.axpy(acc, 0, (float) ((double) rows / batch), g, 0, n);
        }
        MemorySegment.copy(acc, 0, g, 0, n * Float.BYTES);
        lastCorrect = correct;
        return lossSum / batch;
    }

    private double once(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch, long step) {
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

    /** Micro-batches of the last pass whose gradient norms were recorded (0 when not measuring). */
    public int units() {
        return lastUnits;
    }

    /** Σ_k rows_k · ‖g_k‖² of the last pass's micro-batches (0 when not measuring). */
    public double unitSquares() {
        return lastUnitSquares;
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
        if (accumulator != null) {
            accumulator.close();
        }
        if (sam != null) {
            sam.close();
        }
    }
}
