package dev.descent.engine.landscape;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.CheckpointFile;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.train.GradientPass;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Multi-point optimization (Skorokhodov &amp; Burtsev 2019): a plane in weight space
 * w(a, b) = origin + a·u + b·v whose origin and both directions are trained together, so that the loss over the
 * plane takes a chosen shape — low at some grid cells ("low" cells), high at the others ("high" cells).
 *
 * <p>One {@link #step} takes one batch and a list of sampled cells. At each cell it writes w(a, b) into the model's
 * parameter slab, runs the engine's forward/backward ({@link GradientPass}) and adds the cell's share of the gradient
 * g = ∂L/∂w at that point to the plane's gradient by the chain rule: ∂/∂origin += c·g, ∂/∂u += c·a·g,
 * ∂/∂v += c·b·g. A low cell has c = +1/(low cells): its loss is minimized. A high cell has c = −1/(high cells) while
 * its batch loss is below {@code cap} and c = 0 above it: its loss is maximized up to the cap (the paper's
 * clamp(L, 0, cap) with a minus sign), so the high cells do not run away to infinite loss. Then the plane's
 * gradient is optionally clipped to a norm and one optimizer step updates [origin, u, v] as one flat slab.
 *
 * <p>The plane's three vectors live in one slab of 3·P floats (P = the model's parameter slab, padding included),
 * with one gradient slab and the optimizer's moment slabs in the same layout. The model passed in is a scratch
 * model: its parameters are overwritten at every cell. Models with buffers (BatchNorm running statistics) are
 * refused: their statistics would belong to one point of the plane, not to the whole plane.
 * Allocates nothing per step.
 */
public final class MultiPointPlane implements AutoCloseable {
    private static final String STATE_META = "meta";
    private static final String STATE_PLANE = "plan";
    private static final String STATE_MOMENTS = "mome";

    private final Model model;
    private final KernelBackend k;
    private final GradientPass pass;
    private final Optimizer optimizer;
    private final long n; // floats per vector (the model's slab)
    private final OffHeapBlock plane; // [3, n] origin, u, v
    private final OffHeapBlock grads; // [3, n] gradients of the plane objective
    private final OffHeapBlock moments; // [momentSlabs, 3n]
    private final double clipNorm;
    private long steps;
    // statistics of the last step
    private double lowLoss;
    private double highLoss;
    private double lowAccuracy;
    private double highAccuracy;
    private int cappedCells;
    private double gradientNorm;

    /**
     * @param model    a scratch model of the architecture (its parameters are overwritten; its initial parameters
     *                 are the origin until {@link #set} is called)
     * @param maxBatch largest batch passed to {@link #step}
     * @param clipNorm clip the plane's gradient to this L2 norm (0: no clipping)
     * @param threads  GEMM threads (1: deterministic)
     */
    public MultiPointPlane(Model model, KernelBackend kernels, LossKind loss, Optimizer optimizer, int maxBatch,
                           double clipNorm, int threads, long seed) {
        if (model.bufferFloats() > 0) {
            throw new IllegalArgumentException("multi-point optimization needs a model without buffers (BatchNorm "
                    + "running statistics belong to one point, not to a plane); the model has "
                    + model.bufferFloats() + " buffer floats");
        }
        if (!(clipNorm >= 0)) {
            throw new IllegalArgumentException("clip norm must be >= 0, was " + clipNorm);
        }
        this.model = model;
        this.k = kernels;
        this.optimizer = optimizer;
        this.clipNorm = clipNorm;
        this.n = model.layout().totalFloats();
        OffHeapBlock p = null;
        OffHeapBlock g = null;
        OffHeapBlock m = null;
        GradientPass gp = null;
        try {
            p = OffHeapBlock.allocateFloats(3 * n, Purpose.PARAMETERS);
            g = OffHeapBlock.allocateFloats(3 * n, Purpose.GRADIENTS);
            m = OffHeapBlock.allocateFloats(Math.max(1, optimizer.momentSlabs()) * 3 * n, Purpose.OPTIMIZER_STATE);
            gp = new GradientPass(model, kernels, loss, BackpropStrategy.VANILLA, maxBatch, threads, seed);
        } catch (RuntimeException | Error e) {
            for (AutoCloseable c : new AutoCloseable[] {p, g, m, gp}) {
                closeQuietly(c);
            }
            throw e;
        }
        this.plane = p;
        this.grads = g;
        this.moments = m;
        this.pass = gp;
        MemorySegment.copy(model.params().segment(), 0, plane.segment(), 0, n * Float.BYTES);
    }

    /** Sets the plane: origin, u and v (each a parameter slab of the model's layout); resets the optimizer. */
    public void set(MemorySegment origin, MemorySegment u, MemorySegment v) {
        MemorySegment s = plane.segment();
        MemorySegment.copy(origin, 0, s, 0, n * Float.BYTES);
        MemorySegment.copy(u, 0, s, n * Float.BYTES, n * Float.BYTES);
        MemorySegment.copy(v, 0, s, 2 * n * Float.BYTES, n * Float.BYTES);
        moments.segment().fill((byte) 0);
        steps = 0;
    }

    /** Floats per vector (the model's parameter slab, padding included). */
    public long floats() {
        return n;
    }

    /** The origin (a view of the plane slab: [n]). */
    public MemorySegment origin() {
        return plane.segment().asSlice(0, n * Float.BYTES);
    }

    /** The first direction u ([n]). */
    public MemorySegment u() {
        return plane.segment().asSlice(n * Float.BYTES, n * Float.BYTES);
    }

    /** The second direction v ([n]). */
    public MemorySegment v() {
        return plane.segment().asSlice(2 * n * Float.BYTES, n * Float.BYTES);
    }

    /** The plane objective's gradient of the last step, [origin, u, v] ([3n]; before clipping). */
    public MemorySegment gradients() {
        return grads.segment();
    }

    /** Writes w(a, b) = origin + a·u + b·v into {@code out} ([n]), rounded as a landscape evaluator does. */
    public MemorySegment point(double a, double b, MemorySegment out) {
        MemorySegment s = plane.segment();
        k.combine(out, 0, s, 0, (float) a, s, n, (float) b, s, 2 * n, n); // as a landscape evaluator writes it
        return out;
    }

    /**
     * Computes the plane objective's gradient on one batch at {@code count} cells (a[i], b[i]), low[i] saying
     * whether cell i is to have low loss, into {@link #gradients()}; no update. Returns the objective
     * mean(low losses) − mean(min(high losses, cap)).
     *
     * @param features [batch, inputSize]
     * @param labels   int32 [batch]
     * @param step     keys replayable randomness (Dropout)
     */
    public double gradient(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch,
                           double[] a, double[] b, boolean[] low, int count, double cap, long step) {
        int lows = 0;
        for (int i = 0; i < count; i++) {
            lows += low[i] ? 1 : 0;
        }
        int highs = count - lows;
        MemorySegment g = grads.segment();
        MemorySegment w = model.params().segment();
        MemorySegment mg = model.grads().segment();
        g.fill((byte) 0);
        double lowSum = 0;
        double highSum = 0;
        double lowCorrect = 0;
        double highCorrect = 0;
        int capped = 0;
        for (int i = 0; i < count; i++) {
            point(a[i], b[i], w);
            double l = pass.run(features, fOff, labels, lOff, batch, step);
            if (!Double.isFinite(l)) {
                throw new IllegalStateException("non-finite loss " + l + " at plane point (" + a[i] + ", " + b[i]
                        + ") in step " + step);
            }
            double c;
            if (low[i]) {
                lowSum += l;
                lowCorrect += pass.correct();
                c = 1.0 / lows;
            } else {
                highSum += Math.min(l, cap);
                highCorrect += pass.correct();
                c = l < cap ? -1.0 / highs : 0;
                capped += l < cap ? 0 : 1;
            }
            if (c != 0) {
                k.axpy(g, 0, (float) c, mg, 0, n);
                if (a[i] != 0) {
                    k.axpy(g, n, (float) (c * a[i]), mg, 0, n);
                }
                if (b[i] != 0) {
                    k.axpy(g, 2 * n, (float) (c * b[i]), mg, 0, n);
                }
            }
        }
        lowLoss = lows == 0 ? Double.NaN : lowSum / lows;
        highLoss = highs == 0 ? Double.NaN : highSum / highs;
        lowAccuracy = lows == 0 ? Double.NaN : lowCorrect / ((double) lows * batch);
        highAccuracy = highs == 0 ? Double.NaN : highCorrect / ((double) highs * batch);
        cappedCells = capped;
        gradientNorm = Math.sqrt(k.sumSquares(g, 0, 3 * n));
        return (lows == 0 ? 0 : lowLoss) - (highs == 0 ? 0 : highLoss);
    }

    /**
     * One training step of the plane: {@link #gradient} on the batch and cells, clipping, one optimizer update of
     * [origin, u, v] with learning rate {@code lr}. Returns the objective before the update.
     */
    public double step(MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch,
                       double[] a, double[] b, boolean[] low, int count, double cap, float lr) {
        double objective = gradient(features, fOff, labels, lOff, batch, a, b, low, count, cap, steps);
        MemorySegment g = grads.segment();
        if (clipNorm > 0 && gradientNorm > clipNorm) {
            k.scale(g, 0, (float) (clipNorm / gradientNorm), 3 * n);
        }
        steps++;
        optimizer.step(k, plane.segment(), g, moments.segment(), 3 * n, 3 * n, lr, steps);
        return objective;
    }

    /** Optimizer steps taken (including those restored). */
    public long steps() {
        return steps;
    }

    /** Mean batch loss of the low cells of the last step (NaN when there were none). */
    public double lowLoss() {
        return lowLoss;
    }

    /** Mean batch loss of the high cells of the last step, each capped (NaN when there were none). */
    public double highLoss() {
        return highLoss;
    }

    public double lowAccuracy() {
        return lowAccuracy;
    }

    public double highAccuracy() {
        return highAccuracy;
    }

    /** High cells of the last step whose loss was at or above the cap (they added no gradient). */
    public int cappedCells() {
        return cappedCells;
    }

    /** L2 norm of the last step's plane gradient, before clipping. */
    public double gradientNorm() {
        return gradientNorm;
    }

    /** Writes the plane, the optimizer moments, the step count and {@code meta} to one checkpoint file, atomically. */
    public void save(Path file, String meta) throws IOException {
        String head = "spec=" + model.spec().replace('\n', '|') + "\nsteps=" + steps + "\noptimizer="
                + optimizer.describe() + "\n" + meta;
        CheckpointFile.write(file, List.of(CheckpointFile.Section.ofText(STATE_META, head),
                new CheckpointFile.Section(STATE_PLANE, plane.segment()),
                new CheckpointFile.Section(STATE_MOMENTS, moments.segment())));
    }

    /**
     * Restores a state written by {@link #save} for the same architecture and optimizer; returns its {@code meta}.
     *
     * @throws CheckpointException when the file is unreadable, corrupt or of another architecture or optimizer
     */
    public String restore(Path file) throws CheckpointException {
        Map<String, byte[]> s = CheckpointFile.read(file);
        byte[] metaBytes = s.get(STATE_META);
        byte[] p = s.get(STATE_PLANE);
        byte[] m = s.get(STATE_MOMENTS);
        if (metaBytes == null || p == null || m == null) {
            throw new CheckpointException(file, "it is not a multi-point plane state (sections " + s.keySet() + ")");
        }
        String text = new String(metaBytes, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", 4);
        String spec = "spec=" + model.spec().replace('\n', '|');
        String opt = "optimizer=" + optimizer.describe();
        if (lines.length < 3 || !lines[0].equals(spec) || !lines[2].equals(opt)
                || p.length != plane.byteSize() || m.length != moments.byteSize()) {
            throw new CheckpointException(file, "it holds a plane of another architecture or optimizer");
        }
        MemorySegment.copy(MemorySegment.ofArray(p), 0, plane.segment(), 0, p.length);
        MemorySegment.copy(MemorySegment.ofArray(m), 0, moments.segment(), 0, m.length);
        steps = Long.parseLong(lines[1].substring("steps=".length()));
        return lines.length > 3 ? lines[3] : "";
    }

    @Override
    public void close() {
        closeQuietly(pass);
        plane.close();
        grads.close();
        moments.close();
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // freeing memory does not fail
            }
        }
    }
}
