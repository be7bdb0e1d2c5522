package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A {@link PointEvaluator} for models that begin with a Linear layer, over {@link FirstLayerProducts} computed once
 * per run: a point's first layer is one fused pass over the shared products (biases folded in), and only the
 * rest of the model (the "tail", its own replica, parameter slab and activation workspace) runs a forward pass.
 * Owns the tail replica, its probe, the pre-activation buffers of the train and test subsets and a copy of their
 * labels; the products, base, directions and data are shared and read only.
 */
final class PrecomputedPointEvaluator implements PointEvaluator {
    private final Model tail;
    private final LossProbe probe;
    private final KernelBackend kernels;
    private final MemorySegment base;
    private final MemorySegment d1;
    private final MemorySegment d2;
    private final FirstLayerProducts trainProducts;
    private final FirstLayerProducts testProducts;
    private final long tailFrom;   // float offset in the full layout where the tail's parameters begin
    private final long tailFloats;
    private final Dataset zTrain;  // [count, out] pre-activations, overwritten per point
    private final Dataset zTest;

    /** @param testProducts null when there is no test subset */
    private PrecomputedPointEvaluator(Model source, int layer, MemorySegment base, MemorySegment d1, MemorySegment d2,
                                      FirstLayerProducts trainProducts, Dataset train,
                                      FirstLayerProducts testProducts, Dataset test, LossKind loss, int evalBatch,
                                      BnMode bn, KernelBackend kernels) {
        this.kernels = kernels;
        this.base = base;
        this.d1 = d1;
        this.d2 = d2;
        this.trainProducts = trainProducts;
        this.testProducts = testProducts;
        this.tailFrom = FirstLayerProducts.tailOffset(source, layer);
        Model t = Model.fromSpec(FirstLayerProducts.tailSpec(source, layer));
        Dataset zt = null;
        Dataset ze = null;
        LossProbe p = null;
        try {
            checkTailLayout(source, t, tailFrom);
            ModelState.copyBatchNormStatistics(source, t);
            zt = preActivationSet(train, trainProducts);
            ze = test == null ? null : preActivationSet(test, testProducts);
            p = new LossProbe(t, kernels, loss, evalBatch, bn, false);
        } catch (RuntimeException | Error e) {
            for (AutoCloseable c : new AutoCloseable[] {p, ze, zt, t}) {
                closeQuietly(c, e);
            }
            throw e;
        }
        this.tail = t;
        this.tailFloats = t.params().floatCount();
        this.zTrain = zt;
        this.zTest = ze;
        this.probe = p;
    }

    /** A factory of evaluators sharing the products, base, directions and data (all read only). */
    static PointEvaluator.Factory factory(Model source, int layer, MemorySegment base, MemorySegment d1,
                                         MemorySegment d2, FirstLayerProducts trainProducts, Dataset train,
                                         FirstLayerProducts testProducts, Dataset test, LossKind loss, int evalBatch,
                                         BnMode bn, KernelBackend kernels) {
        return e -> new PrecomputedPointEvaluator(source, layer, base, d1, d2, trainProducts, train, testProducts,
                test, loss, evalBatch, bn, kernels);
    }

    /** The tail's parameters must be the full layout's from {@code from} on, tensor by tensor. */
    private static void checkTailLayout(Model source, Model tail, long from) {
        List<ParameterLayout.Entry> full = source.layout().entries();
        List<ParameterLayout.Entry> part = tail.layout().entries();
        int skip = full.size() - part.size();
        boolean same = skip >= 0 && source.params().floatCount() - from == tail.params().floatCount();
        for (int i = 0; same && i < part.size(); i++) {
            ParameterLayout.Entry f = full.get(skip + i);
            ParameterLayout.Entry t = part.get(i);
            same = f.offset() - from == t.offset() && f.count() == t.count() && f.name().equals(t.name());
        }
        if (!same) {
            throw new IllegalStateException("the layers after the first Linear layer do not have the parameter "
                    + "layout of the full model from float " + from + ": " + part + " vs " + full);
        }
    }

    private static Dataset preActivationSet(Dataset data, FirstLayerProducts products) {
        OffHeapBlock f = OffHeapBlock.allocateFloats((long) products.count() * products.outFeatures(),
                Purpose.ACTIVATIONS);
        OffHeapBlock l = null;
        try {
            l = OffHeapBlock.allocate((long) data.count() * Integer.BYTES, Purpose.BATCHES);
            MemorySegment.copy(data.labels().segment(), 0, l.segment(), 0, l.byteSize());
            return new Dataset(data.name() + " after the first layer", f, l, data.count(),
                    new int[] {products.outFeatures()}, data.classes());
        } catch (RuntimeException | Error e) {
            f.close();
            if (l != null) {
                l.close();
            }
            throw e;
        }
    }

    private static void closeQuietly(AutoCloseable c, Throwable primary) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception | Error suppressed) {
            primary.addSuppressed(suppressed);
        }
    }

    @Override
    public PointResult evaluate(int index, double a, double b) {
        LocalPointEvaluator.writePoint(kernels, tail.params().segment(), 0, base, d1, d2, tailFrom, tailFloats, a, b);
        trainProducts.preActivations(kernels, zTrain.features().segment(), a, b);
        double trL = probe.evaluate(zTrain);
        double trA = probe.lastAccuracy();
        double teL = Double.NaN;
        double teA = Double.NaN;
        if (zTest != null) {
            testProducts.preActivations(kernels, zTest.features().segment(), a, b);
            teL = probe.evaluate(zTest);
            teA = probe.lastAccuracy();
        }
        return new PointResult(index, a, b, trL, trA, teL, teA);
    }

    @Override
    public void close() {
        probe.close();
        zTrain.close();
        if (zTest != null) {
            zTest.close();
        }
        tail.close();
    }
}
