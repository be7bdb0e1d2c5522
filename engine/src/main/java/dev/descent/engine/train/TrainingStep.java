package dev.descent.engine.train;

import dev.descent.engine.backprop.ActivationLedger;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.OptimizerState;
import java.lang.foreign.MemorySegment;

/**
 * One optimizer step on one batch — forward, loss, backward (under a backprop strategy), optional gradient
 * clipping by global norm, optimizer update — reusable by the direct {@link Trainer} and by a future actor
 * worker. Owns its activation slab, loss workspace and optimizer moments; allocates nothing per step.
 *
 * <p>{@link #run} leaves its results in this object (read {@link #loss()}, {@link #correct()} ...) rather than
 * returning a fresh object, so a step is allocation-free. A non-finite loss throws
 * {@link NonFiniteLossException} before the update (parameters untouched by that step).
 */
public final class TrainingStep implements AutoCloseable {
    private final Model model;
    private final KernelBackend kernels;
    private final GradientPass pass;
    private final OptimizerState optimizer;
    private final LrSchedule schedule;
    private final double clipNorm;

    private long step;
    private double lastLoss;
    private int lastCorrect;
    private int lastBatch;
    private double lastLr;
    private double lastGradNorm = Double.NaN;
    private boolean measureGradNorm;

    /**
     * @param schedule  learning rate per step, already resolved to the run length
     * @param clipNorm  clip the global gradient L2 norm to this value; {@code <= 0} disables clipping
     * @param threads   GEMM threads (1 = fully deterministic)
     * @param seed      seed of replayable randomness (Dropout)
     */
    public TrainingStep(Model model, KernelBackend kernels, LossKind lossKind, Optimizer optimizer,
                        LrSchedule schedule, BackpropStrategy strategy, int maxBatch, double clipNorm, int threads,
                        long seed) {
        this(model, kernels, lossKind, optimizer, schedule, strategy, maxBatch, clipNorm, threads, seed, 0);
    }

    /**
     * @param microBatch rows per forward/backward; larger batches accumulate gradients over micro-batches
     *                   ({@code <= 0}: never split)
     */
    public TrainingStep(Model model, KernelBackend kernels, LossKind lossKind, Optimizer optimizer,
                        LrSchedule schedule, BackpropStrategy strategy, int maxBatch, double clipNorm, int threads,
                        long seed, int microBatch) {
        this.model = model;
        this.kernels = kernels;
        this.schedule = schedule;
        this.clipNorm = clipNorm;
        GradientPass p = new GradientPass(model, kernels, lossKind, strategy, maxBatch, threads, seed, microBatch,
                optimizer);
        try {
            this.optimizer = new OptimizerState(optimizer, model);
        } catch (RuntimeException | Error e) {
            p.close();
            throw e;
        }
        this.pass = p;
    }

    /** Also compute the global gradient norm each step even without clipping (for reporting). */
    public TrainingStep measureGradientNorm(boolean on) {
        this.measureGradNorm = on;
        return this;
    }

    /**
     * Runs one step on {@code features[fOff]} ([batch, inputSize]) and {@code labels[lOff]} (int32 [batch]).
     *
     * @param epoch only used in the error message of a non-finite loss
     */
    public void run(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch, int epoch) {
        update(pass.run(features, fOff, labels, lOff, batch, step), batch, epoch);
    }

    /**
     * Runs one step on a batch that is never materialized: its micro-batches are read from {@code source} into
     * {@code features}/{@code labels} (buffers of {@link GradientPass#microBatch()} rows) one at a time
     * ({@link GradientPass#run(GradientPass.Rows, MemorySegment, MemorySegment, int, long)}); the same update as
     * {@link #run(MemorySegment, long, MemorySegment, long, int, int)} on the whole batch, bit for bit.
     */
    public void run(GradientPass.Rows source, MemorySegment features, MemorySegment labels, int batch, int epoch) {
        update(pass.run(source, features, labels, batch, step), batch, epoch);
    }

    private void update(double l, int batch, int epoch) {
        if (!Double.isFinite(l)) {
            throw new NonFiniteLossException(step, epoch, l, -1, hint());
        }
        lastCorrect = pass.correct();
        double norm = clipGradients(kernels, model.grads().segment(), model.layout().totalFloats(), clipNorm,
                measureGradNorm);
        if (!Double.isNaN(norm)) {
            lastGradNorm = norm;
        }
        double lr = schedule.lr(step);
        optimizer.step(kernels, (float) lr);
        lastLoss = l;
        lastBatch = batch;
        lastLr = lr;
        step++;
    }

    /**
     * Measures the global L2 norm of {@code total} gradient floats when clipping or {@code measure}, and scales the
     * gradients down to {@code clipNorm} when it is exceeded ({@code clipNorm <= 0}: never). Returns the norm before
     * clipping, or NaN when nothing was measured. Shared by the direct path and the actor engine's aggregator.
     */
    public static double clipGradients(KernelBackend kernels, MemorySegment g, long total, double clipNorm,
                                       boolean measure) {
        if (clipNorm > 0 || measure) {
            double norm = Math.sqrt(kernels.sumSquares(g, 0, total));
            if (clipNorm > 0 && norm > clipNorm) {
                kernels.scale(g, 0, (float) (clipNorm / norm), total);
            }
            return norm;
        }
        return Double.NaN;
    }

    /** Advice for a non-finite loss at the current step. */
    public String hint() {
        return "the learning rate (" + schedule.lr(step) + ") is probably too high for " + optimizer.optimizer().describe()
                + " — lower it, add warmup, or clip gradients (clipNorm)";
    }

    /** Mean loss of the last step's batch (before its update). */
    public double loss() {
        return lastLoss;
    }

    /** Correctly classified rows of the last step's batch. */
    public int correct() {
        return lastCorrect;
    }

    public int batch() {
        return lastBatch;
    }

    /** Learning rate used by the last step. */
    public double learningRate() {
        return lastLr;
    }

    /** Global gradient L2 norm of the last step before clipping (NaN unless clipping or measuring). */
    public double gradientNorm() {
        return lastGradNorm;
    }

    /** Steps completed (= the 0-based index of the next step). */
    public long steps() {
        return step;
    }

    /** Sets the step counter (resume); the optimizer's bias-correction counter follows. */
    public void steps(long steps) {
        this.step = steps;
        optimizer.steps(steps);
    }

    /** The gradient half of the step (micro-batches, noise-scale units of the last step). */
    public GradientPass pass() {
        return pass;
    }

    public ActivationLedger ledger() {
        return pass.ledger();
    }

    public BackpropExecutor executor() {
        return pass.executor();
    }

    public OptimizerState optimizerState() {
        return optimizer;
    }

    public KernelBackend kernels() {
        return kernels;
    }

    @Override
    public void close() {
        pass.close();
        optimizer.close();
    }
}
