package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Flatten;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import dev.descent.engine.nn.ParameterLayout;
import java.lang.foreign.MemorySegment;

/**
 * The first layer of a landscape, multiplied out once. When a model begins with a {@link Linear} layer (after
 * {@link Flatten}s only), its pre-activation at the point {@code w + a·d1 + b·d2} is linear in the point:
 * <pre>
 *   Z(a, b) = X·(W + a·D1 + b·D2)ᵀ + (c + a·c1 + b·c2) = (X·Wᵀ + c) + a·(X·D1ᵀ + c1) + b·(X·D2ᵀ + c2)
 * </pre>
 * (c, c1, c2: the bias of the base point and of the directions).
 * The three products of a dataset X are the same at every point: computed here once (three GEMMs, the cost of
 * about one and a half points), each point's first layer is then one fused pass {@link #preActivations} instead of
 * a {@code [count, in] x [in, out]} GEMM, which for an MLP on images is most of the arithmetic. The numbers equal
 * those of the direct evaluation up to float32 rounding (the sum is distributed differently), and are the same
 * whichever evaluator computes a point, so determinism and resuming are unaffected.
 *
 * <p>Read-only once built, shared by all evaluators of a run; owns its blocks ([count, out] floats per product).
 */
final class FirstLayerProducts implements AutoCloseable {
    private final int count;
    private final int out;
    private final OffHeapBlock[] products; // [directions + 1] x [count, out]: X·Wᵀ + c, X·D1ᵀ + c1, (X·D2ᵀ + c2)

    /**
     * @param layer the first Linear layer's index ({@link #firstLinear}); {@code d2} null for a line
     */
    FirstLayerProducts(Dataset data, Model model, int layer, MemorySegment base, MemorySegment d1, MemorySegment d2,
                       KernelBackend kernels) {
        Linear lin = (Linear) model.layer(layer);
        if (data.featureSize() != lin.inFeatures()) {
            throw new IllegalArgumentException("dataset " + data.name() + " has " + data.featureSize()
                    + " features per sample, the first layer expects " + lin.inFeatures());
        }
        this.count = data.count();
        this.out = lin.outFeatures();
        long wOff = weightOffset(model, layer);
        long bOff = biasOffset(model, layer);
        MemorySegment[] dirs = d2 == null ? new MemorySegment[] {base, d1} : new MemorySegment[] {base, d1, d2};
        this.products = new OffHeapBlock[dirs.length];
        try {
            for (int t = 0; t < dirs.length; t++) {
                products[t] = OffHeapBlock.allocateFloats((long) count * out, Purpose.ACTIVATIONS);
                // one thread: the same bits on any machine, whatever its core count
                kernels.gemmNT(products[t].segment(), 0, data.features().segment(), 0, dirs[t], wOff, count, out,
                        lin.inFeatures(), false, 1);
                kernels.biasAdd(products[t].segment(), 0, dirs[t], bOff, count, out);
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Index of the model's first layer if it is a {@link Linear} with a bias preceded only by {@link Flatten}s and followed by
     * at least one more layer; -1 otherwise (the direct evaluation applies).
     */
    static int firstLinear(Model model) {
        for (int i = 0; i < model.layerCount() - 1; i++) {
            Module m = model.layer(i);
            if (m instanceof Linear l) {
                return l.hasBias() ? i : -1; // a bias-less first layer takes the direct path
            }
            if (!(m instanceof Flatten)) {
                return -1;
            }
        }
        return -1;
    }

    /** Bytes the products of {@code samples} samples take for a model whose first Linear layer is {@code layer}. */
    static long bytes(Model model, int layer, long samples, int directions) {
        return (directions + 1L) * samples * ((Linear) model.layer(layer)).outFeatures() * Float.BYTES;
    }

    /** The spec of the layers after {@code layer}, as a model whose input is that layer's output. */
    static String tailSpec(Model model, int layer) {
        StringBuilder s = new StringBuilder(Model.SPEC_HEADER).append('\n').append("input ")
                .append(((Linear) model.layer(layer)).outFeatures()).append('\n');
        for (int i = layer + 1; i < model.layerCount(); i++) {
            s.append(model.layer(i).spec()).append('\n');
        }
        return s.toString();
    }

    /** Float offset in the model's layout of the first parameter after {@code layer} (where the tail's begin). */
    static long tailOffset(Model model, int layer) {
        long end = 0;
        for (ParameterLayout.Entry e : model.layout().entries()) {
            if (e.layerIndex() <= layer) {
                end = Math.max(end, e.offset() + (e.count() + ParameterLayout.ALIGN_FLOATS - 1)
                        / ParameterLayout.ALIGN_FLOATS * ParameterLayout.ALIGN_FLOATS);
            }
        }
        return end;
    }

    static long weightOffset(Model model, int layer) {
        return entry(model, layer, "weight").offset();
    }

    static long biasOffset(Model model, int layer) {
        return entry(model, layer, "bias").offset();
    }

    private static ParameterLayout.Entry entry(Model model, int layer, String name) {
        for (ParameterLayout.Entry e : model.layout().entries()) {
            if (e.layerIndex() == layer && e.name().equals(name)) {
                return e;
            }
        }
        throw new IllegalStateException("layer " + layer + " of the model has no parameter '" + name + "'");
    }

    int count() {
        return count;
    }

    int outFeatures() {
        return out;
    }

    /**
     * Writes the first layer's pre-activations at {@code (a, b)} into {@code z} ([count, out]) in one pass:
     * {@code (X·Wᵀ + bias) + a·(X·D1ᵀ + bias1) + b·(X·D2ᵀ + bias2)}.
     */
    void preActivations(KernelBackend kernels, MemorySegment z, double a, double b) {
        LocalPointEvaluator.writePoint(kernels, z, 0, products[0].segment(), products[1].segment(),
                products.length > 2 ? products[2].segment() : null, 0, (long) count * out, a, b);
    }

    @Override
    public void close() {
        for (OffHeapBlock p : products) {
            if (p != null) {
                p.close();
            }
        }
    }
}
