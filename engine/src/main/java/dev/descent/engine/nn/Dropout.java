package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Inverted dropout: in training mode each element is kept with probability 1-p and scaled by 1/(1-p); in eval
 * mode (or p = 0) it is the identity.
 *
 * <p>The mask is not stored. Element {@code j} of the batch is kept iff a counter-based hash of
 * (seed, step, layer index, j) is >= p, so the backward pass and any recompute replay exactly the same mask
 * bit for bit, with zero workspace: a backprop strategy that drops this activation costs no mask memory.
 */
public final class Dropout implements Module {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private final float p;
    private final float keepScale;
    private final int threshold; // keep iff 24-bit uniform >= threshold
    private int layerIndex;
    private int size;

    public Dropout(double p) {
        if (!(p >= 0.0 && p < 1.0)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), was " + p);
        }
        this.p = (float) p;
        this.keepScale = (float) (1.0 / (1.0 - p));
        this.threshold = (int) Math.ceil(p * (1 << 24));
    }

    public float p() {
        return p;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        this.layerIndex = layerIndex;
        this.size = Module.size(inputShape);
        return inputShape.clone();
    }

    @Override
    public String spec() {
        return "dropout " + p;
    }

    @Override
    public String kind() {
        return "dropout";
    }

    /** True when element {@code j} of the batch is kept at (seed, step, layer). Exposed for tests. */
    public static boolean keep(long seed, long step, int layerIndex, long j, double p) {
        int threshold = (int) Math.ceil(p * (1 << 24));
        return uniform24(base(seed, step, layerIndex), j) >= threshold;
    }

    private static long base(long seed, long step, int layerIndex) {
        return mix(mix(seed ^ 0x5DEECE66DL) + mix(step + GOLDEN) + (long) layerIndex * 0xD1B54A32D192ED03L);
    }

    private static int uniform24(long base, long j) {
        return (int) (mix(base + j * GOLDEN) >>> 40);
    }

    /** SplitMix64 finalizer. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private boolean active(ExecutionContext ctx) {
        return ctx.isTraining() && threshold > 0;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        long n = (long) batch * size;
        if (!active(ctx)) {
            MemorySegment.copy(in, F, inOff * Float.BYTES, out, F, outOff * Float.BYTES, n);
            return;
        }
        applyMask(ctx, out, outOff, in, inOff, n);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (!needInputGrad) {
            return;
        }
        long n = (long) batch * size;
        if (!active(ctx)) {
            MemorySegment.copy(dOut, F, dOutOff * Float.BYTES, dIn, F, dInOff * Float.BYTES, n);
            return;
        }
        applyMask(ctx, dIn, dInOff, dOut, dOutOff, n);
    }

    /** dst[j] = keep(j) ? src[j] * scale : 0. */
    private void applyMask(ExecutionContext ctx, MemorySegment dst, long dstOff, MemorySegment src, long srcOff,
                           long n) {
        long b = base(ctx.seed(), ctx.step(), layerIndex);
        float scale = keepScale;
        int t = threshold;
        for (long j = 0; j < n; j++) {
            float v = uniform24(b, j) >= t ? src.getAtIndex(F, srcOff + j) * scale : 0f;
            dst.setAtIndex(F, dstOff + j, v);
        }
    }
}
