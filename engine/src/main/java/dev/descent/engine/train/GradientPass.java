package dev.descent.engine.train;

import dev.descent.engine.backprop.ActivationLedger;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.CompositeModule;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Sam;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

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
 * small-batch half of the gradient noise scale estimate ({@link GradientNoiseScale}), and ‖g‖² of the whole
 * batch ({@link #batchSquares()}), the big-batch half. A batch that fits one micro-batch is one unit; with
 * {@link #measureUnits(boolean, boolean) probeHalf} the pass then also computes, after the batch's gradient, the
 * gradient g₁ of its first h = ⌈rows/2⌉ rows (an extra forward and backward of half the batch, with BatchNorm
 * running statistics left alone), takes the second half's as the one the batch gradient implies,
 * g₂ = (B·g − h·g₁)/(B − h), records the two as the units, and restores the batch's gradient: the update is the same
 * as without measuring. For models without BatchNorm g is exactly the rows-weighted mean of g₁ and g₂, so this is
 * the two-halves estimate at the cost of one half. With BatchNorm each half normalizes with its own statistics, g is
 * not that mean, and the implied g₂ would carry the difference as noise; there the probe computes the second half
 * too (a whole extra batch of compute per measurement) and reports the halves' mean as the big batch
 * ({@link #batchSquares()} = ‖(h·g₁ + (B − h)·g₂)/B‖², not the batch gradient's norm), as two workers would. The implied g₂ keeps the estimate of tr(Σ) non-negative and low-variance:
 * B·(S_small − S_big) = h(B − h)/B·‖g₁ − g₂‖² = B·h/(B − h)·‖g₁ − g‖² (using ‖g₁‖² alone against ‖g‖² is unbiased
 * too, but its cross term g·(g₁ − g) swamps tr(Σ)/B when the gradient is large). That gives a complete estimate from
 * one pass, for single-process training and single-worker or asynchronous jobs.
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
    private boolean probeHalf;
    private OffHeapBlock probeSave; // [parameters] the batch gradient while the half-batch probe runs; lazily
    private OffHeapBlock probeFirst; // [parameters] the first half's gradient (models with BatchNorm); lazily
    private List<BatchNorm> norms; // lazily: frozen during the probe
    private boolean[] normsFrozen; // their own frozen flags, restored after the probe
    private int lastUnits;
    private double lastUnitSquares;
    private double lastBatchSquares;

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

    /**
     * Where a streamed pass ({@link #run(Rows, MemorySegment, MemorySegment, int, long)}) reads its batch: copies rows
     * [lo, lo + rows) of the current batch into the given buffers at offset 0.
     */
    @FunctionalInterface
    public interface Rows {
        void fill(int lo, int rows, MemorySegment features, MemorySegment labels);
    }

    /** Rows per forward/backward (the batch itself when it is not split). */
    public int microBatch() {
        return microBatch;
    }

    /** Also record Σ rows_k‖g_k‖² over the micro-batches of each pass (one sum of squares per micro-batch). */
    public GradientPass measureUnits(boolean on) {
        return measureUnits(on, false);
    }

    /**
     * Also record the noise units of each pass; with {@code probeHalf}, a batch that fits one micro-batch is measured
     * as two units by an extra half-batch gradient (see the class comment), so the pass alone gives an estimate.
     */
    public GradientPass measureUnits(boolean on, boolean probeHalf) {
        this.measureUnits = on;
        this.probeHalf = probeHalf;
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

    /**
     * The same pass as {@link #run(MemorySegment, long, MemorySegment, long, int, long)}, but the batch is never
     * materialized: each micro-batch is read from {@code source} into {@code features}/{@code labels}, buffers of
     * {@link #microBatch()} rows, just before its forward. The micro-batches, their order and the arithmetic are
     * those of the materialized pass, so the gradient is bit-identical to it. Not for SAM (its second pass needs the
     * whole batch).
     */
    public double run(Rows source, MemorySegment features, MemorySegment labels, int batch, long step) {
        if (sam != null) {
            throw new IllegalStateException("SAM needs the whole batch: use the materialized run(...)");
        }
        if (batch <= microBatch) {
            source.fill(0, batch, features, labels);
            return gradientAtW(features, 0, labels, 0, batch, step);
        }
        lastUnits = 0;
        lastUnitSquares = 0;
        lastBatchSquares = 0;
        MemorySegment g = model.grads().segment();
        MemorySegment acc = accumulator.segment();
        long n = model.layout().totalFloats();
        acc.fill((byte) 0);
        double lossSum = 0;
        int correct = 0;
        for (int lo = 0; lo < batch; lo += microBatch) {
            int rows = Math.min(microBatch, batch - lo);
            source.fill(lo, rows, features, labels);
            double l = once(features, 0, labels, 0, rows, step);
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
        if (measureUnits) {
            lastBatchSquares = kernels.sumSquares(g, 0, n);
        }
        lastCorrect = correct;
        return lossSum / batch;
    }

    /** True when this pass can stream its micro-batches (a plain pass, not SAM). */
    public boolean streams() {
        return sam == null;
    }

    private double gradientAtW(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch,
                               long step) {
        lastUnits = 0;
        lastUnitSquares = 0;
        lastBatchSquares = 0;
        if (batch <= microBatch) {
            double l = once(features, fOff, labels, lOff, batch, step);
            if (Double.isFinite(l) && measureUnits) {
                lastBatchSquares = kernels.sumSquares(model.grads().segment(), 0, model.layout().totalFloats());
                lastUnits = 1;
                lastUnitSquares = batch * lastBatchSquares;
                if (probeHalf && batch >= 2) {
                    probeHalfBatch(features, fOff, labels, lOff, batch, step);
                }
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
        if (measureUnits) {
            lastBatchSquares = kernels.sumSquares(g, 0, n);
        }
        lastCorrect = correct;
        return lossSum / batch;
    }

    /**
     * The half-batch probe: saves the batch gradient, computes the gradient of the first ⌈rows/2⌉ rows (BatchNorm
     * running statistics frozen, so the model's state is untouched), records it as two half-batch units and restores
     * the batch gradient and correct count. A non-finite probe loss leaves the one-unit measurement.
     */
    private void probeHalfBatch(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch,
                                long step) {
        MemorySegment g = model.grads().segment();
        long n = model.layout().totalFloats();
        if (probeSave == null) {
            probeSave = accumulator != null ? accumulator
                    : OffHeapBlock.allocateFloats(n, Purpose.GRADIENTS);
        }
        if (norms == null) {
            norms = new ArrayList<>();
            for (Module m : model.layers()) {
                collectNorms(m, norms);
            }
            normsFrozen = new boolean[norms.size()];
        }
        MemorySegment save = probeSave.segment();
        MemorySegment.copy(g, 0, save, 0, n * Float.BYTES);
        int correct = lastCorrect;
        boolean[] wasFrozen = normsFrozen;
        for (int i = 0; i < wasFrozen.length; i++) {
            wasFrozen[i] = norms.get(i).statisticsFrozen();
            norms.get(i).freezeStatistics(true);
        }
        try {
            int h = (batch + 1) / 2;
            int rest = batch - h;
            double l = once(features, fOff, labels, lOff, h, step);
            if (Double.isFinite(l) && !norms.isEmpty()) {
                // BatchNorm: the batch gradient is not the mean of the halves' (each half normalizes with its own
                // statistics), so compute the second half too and measure against the halves' mean, as two
                // workers would: B·(S_small − S_big) = h(B − h)/B·‖g₁ − g₂‖² ≥ 0
                if (probeFirst == null) {
                    probeFirst = OffHeapBlock.allocateFloats(n, Purpose.GRADIENTS);
                }
                MemorySegment first = probeFirst.segment();
                MemorySegment.copy(g, 0, first, 0, n * Float.BYTES);
                double s1 = kernels.sumSquares(g, 0, n);
                double l2 = once(features, fOff + (long) h * model.inputSize(), labels, lOff + h, rest, step);
                if (Double.isFinite(l2)) {
                    double s2 = kernels.sumSquares(g, 0, n);
                    double cross = kernels.dot(first, 0, g, 0, n);
                    double b = batch;
                    lastUnits = 2;
                    lastUnitSquares = h * s1 + rest * s2;
                    lastBatchSquares = ((double) h * h * s1 + 2.0 * h * rest * cross + (double) rest * rest * s2)
                            / (b * b);
                }
            } else if (Double.isFinite(l)) {
                // g₂ = (B·g − h·g₁)/(B − h): ‖g₂‖² from ‖g‖², ‖g₁‖² and g·g₁ without materializing it
                double s1 = kernels.sumSquares(g, 0, n);
                double cross = kernels.dot(save, 0, g, 0, n);
                double b = batch;
                double s2 = (b * b * lastBatchSquares - 2 * b * h * cross + (double) h * h * s1) / ((double) rest * rest);
                lastUnits = 2;
                lastUnitSquares = h * s1 + rest * Math.max(0, s2);
            }
        } finally {
            for (int i = 0; i < wasFrozen.length; i++) {
                norms.get(i).freezeStatistics(wasFrozen[i]);
            }
            MemorySegment.copy(save, 0, g, 0, n * Float.BYTES);
            lastCorrect = correct;
        }
    }

    private static void collectNorms(Module m, List<BatchNorm> out) {
        if (m instanceof BatchNorm bn) {
            out.add(bn);
        } else if (m instanceof CompositeModule c) {
            for (Module child : c.children()) {
                collectNorms(child, out);
            }
        }
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

    /** ‖g‖² of the last pass's whole-batch gradient, before clipping (0 when not measuring). */
    public double batchSquares() {
        return lastBatchSquares;
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
        if (probeSave != null && probeSave != accumulator) {
            probeSave.close();
        }
        if (probeFirst != null) {
            probeFirst.close();
        }
        if (sam != null) {
            sam.close();
        }
    }
}
