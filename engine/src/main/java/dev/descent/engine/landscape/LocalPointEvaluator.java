package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;
import java.util.function.Supplier;

/**
 * A {@link PointEvaluator} on the thread that calls it (an evaluator actor's): its own model replica (own parameter slab, BatchNorm running
 * statistics copied from the source model) and its own activation workspace. Evaluating a point writes
 * {@code base + a·d1 + b·d2} into the replica's parameters (float32, in that order: the same bits whichever
 * evaluator computes it), then runs eval-mode forwards over the train and test subsets, one GEMM thread.
 */
public final class LocalPointEvaluator implements PointEvaluator {
    private final Model replica;
    private final LossProbe probe;
    private final KernelBackend kernels;
    private final MemorySegment base;
    private final MemorySegment d1;
    private final MemorySegment d2;
    private final Dataset train;
    private final Dataset test;
    private final long floats;

    /**
     * @param architecture builds a fresh, independent model of the source's architecture (e.g.
     *                     {@code () -> Model.fromSpec(source.spec())})
     * @param source       the model the landscape is drawn around (read only: its spec and BatchNorm statistics)
     * @param base         the centre point, parameter layout
     * @param d1           first direction, parameter layout
     * @param d2           second direction, or null for a line
     * @param test         may be null
     */
    public LocalPointEvaluator(Supplier<Model> architecture, Model source, MemorySegment base, MemorySegment d1,
                               MemorySegment d2, Dataset train, Dataset test, LossKind loss, int evalBatch, BnMode bn,
                               KernelBackend kernels) {
        Model m = architecture.get();
        try {
            if (!m.spec().equals(source.spec())) {
                throw new IllegalArgumentException("the architecture supplier builds another model:\n" + m.spec()
                        + "\nexpected:\n" + source.spec());
            }
            ModelState.copyBatchNormStatistics(source, m);
            this.probe = new LossProbe(m, kernels, loss, evalBatch, bn, false);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
        this.replica = m;
        this.kernels = kernels;
        this.base = base;
        this.d1 = d1;
        this.d2 = d2;
        this.train = train;
        this.test = test;
        this.floats = m.params().floatCount();
    }

    /** A factory of evaluators that all share the (read-only) base, directions and data. */
    public static PointEvaluator.Factory factory(Supplier<Model> architecture, Model source, MemorySegment base,
                                                 MemorySegment d1, MemorySegment d2, Dataset train, Dataset test,
                                                 LossKind loss, int evalBatch, BnMode bn, KernelBackend kernels) {
        return e -> new LocalPointEvaluator(architecture, source, base, d1, d2, train, test, loss, evalBatch, bn,
                kernels);
    }

    @Override
    public PointResult evaluate(int index, double a, double b) {
        writePoint(kernels, replica.params().segment(), 0, base, d1, d2, 0, floats, a, b);
        double trL = probe.evaluate(train);
        double trA = probe.lastAccuracy();
        double teL = Double.NaN;
        double teA = Double.NaN;
        if (test != null) {
            teL = probe.evaluate(test);
            teA = probe.lastAccuracy();
        }
        return new PointResult(index, a, b, trL, trA, teL, teA);
    }

    /**
     * Writes {@code base + a·d1 + b·d2} (floats [from, from + n) of the parameter layout) into {@code out} at
     * {@code outOff}: one fused pass, with the rounding of a copy and two axpys (a zero coefficient skips its
     * direction, as a skipped axpy would).
     */
    static void writePoint(KernelBackend kernels, MemorySegment out, long outOff, MemorySegment base,
                           MemorySegment d1, MemorySegment d2, long from, long n, double a, double b) {
        boolean useB = d2 != null && b != 0;
        if (a != 0) {
            kernels.combine(out, outOff, base, from, (float) a, d1, from, (float) b, useB ? d2 : null, from, n);
        } else if (useB) {
            kernels.combine(out, outOff, base, from, (float) b, d2, from, 0f, null, 0, n);
        } else {
            MemorySegment.copy(base, from * Float.BYTES, out, outOff * Float.BYTES, n * Float.BYTES);
        }
    }

    @Override
    public void close() {
        probe.close();
        replica.close();
    }
}
