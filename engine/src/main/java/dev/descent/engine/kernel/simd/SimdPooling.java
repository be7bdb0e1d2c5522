package dev.descent.engine.kernel.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * 2x2 stride-2 max pooling for {@link SimdLayerKernels}: a straight pass over each pair of input rows (the reference
 * re-scans a general window per output), four windows at a time in 8-float vectors where the machine has them
 * natively, the rest with the reference's scalar scan. Bit for bit the reference's choices (first maximum, a first
 * NaN winning) and values.
 */
final class SimdPooling {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> S4 = FloatVector.SPECIES_128;

    private SimdPooling() {
    }

    private static float get(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    private static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    /** Whether the fast path applies: a 2x2 window, stride 2, no padding, even sizes (the windows tile the plane). */
    static boolean applies(int h, int w, int k, int stride, int pad, int oh, int ow) {
        return k == 2 && stride == 2 && pad == 0 && h == 2 * oh && w == 2 * ow;
    }

    /** Index 0..3 of the first maximum of (a, b, c, d), as the reference's scan: a larger value or a first NaN wins. */
    private static int first(float a, float b, float c, float d) {
        int at = 0;
        float bv = a;
        if (b > bv || (b != b && bv == bv)) {
            bv = b;
            at = 1;
        }
        if (c > bv || (c != c && bv == bv)) {
            bv = c;
            at = 2;
        }
        if (d > bv || (d != d && bv == bv)) {
            at = 3;
        }
        return at;
    }

    /** 2x2 stride-2 max pooling of {@code planes} planes of w columns into oh x ow outputs (see {@link #applies}). */
    static void forward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int w, int oh,
                        int ow) {
        for (int r = 0; r < planes * oh; r++) {           // output rows of all planes: input rows 2r, 2r+1
            long r0 = inOff + 2L * r * w;
            long r1 = r0 + w;
            long o = outOff + (long) r * ow;
            int ox = 0;
            if (POOL_VECTORS && ow >= POOL_GROUP) {
                for (; ox + POOL_GROUP <= ow; ox += POOL_GROUP) {
                    poolForward4(out, o + ox, in, r0 + 2L * ox, r1 + 2L * ox);
                }
                if (ox < ow) { // the last windows as one more group overlapping the previous: same values again
                    poolForward4(out, o + ow - POOL_GROUP, in, r0 + 2L * (ow - POOL_GROUP), r1 + 2L * (ow - POOL_GROUP));
                    ox = ow;
                }
            }
            for (; ox < ow; ox++) {
                long x = 2L * ox;
                float a = get(in, r0 + x);
                float b = get(in, r0 + x + 1);
                float c = get(in, r1 + x);
                float d = get(in, r1 + x + 1);
                int at = first(a, b, c, d);
                set(out, o + ox, at == 0 ? a : at == 1 ? b : at == 2 ? c : d);
            }
        }
    }

    /** Whether 2x2 pooling runs 4 windows at a time in 8-float vectors (natively available: x86 AVX2 and up). */
    private static final boolean POOL_VECTORS = L >= 8;
    private static final int POOL_GROUP = 4;
    /** Window lanes 0..3 from 8 pixels of one row: the left pixels (even lanes) and the right ones (odd lanes). */
    private static final VectorShuffle<Float> LEFT = VectorShuffle.fromValues(S8, 0, 2, 4, 6, 0, 2, 4, 6);
    private static final VectorShuffle<Float> RIGHT = VectorShuffle.fromValues(S8, 1, 3, 5, 7, 1, 3, 5, 7);
    /** Window lane j to pixel lanes 2j and 2j + 1. */
    private static final VectorShuffle<Float> SPREAD = VectorShuffle.fromValues(S8, 0, 0, 1, 1, 2, 2, 3, 3);
    private static final VectorMask<Float> ODD_LANES = VectorMask.fromValues(S8, false, true, false, true, false,
            true, false, true);

    /**
     * The reference's step "y replaces the running maximum m when larger, or when y is the first NaN", as three
     * blends whose masks come straight from compares: larger; y NaN; undone where m was already NaN (then y > m was
     * false too). No mask logic (or/and/not): C2 did not always intrinsify it here, and the boxed fallback then
     * took a third of the CNN's step.
     */
    private static FloatVector step(FloatVector m, FloatVector y) {
        return m.blend(y, y.compare(VectorOperators.GT, m))
                .blend(y, y.compare(VectorOperators.NE, y))
                .blend(m, m.compare(VectorOperators.NE, m));
    }

    /** {@link #step} for the index of the running maximum: {@code at} becomes {@code k} where y replaces m. */
    private static FloatVector stepIndex(FloatVector at, FloatVector m, FloatVector y, FloatVector k) {
        return at.blend(k, y.compare(VectorOperators.GT, m))
                .blend(k, y.compare(VectorOperators.NE, y))
                .blend(at, m.compare(VectorOperators.NE, m));
    }

    private static final FloatVector ONE = FloatVector.broadcast(S8, 1f);
    private static final FloatVector TWO = FloatVector.broadcast(S8, 2f);
    private static final FloatVector THREE = FloatVector.broadcast(S8, 3f);

    /**
     * Four 2x2 windows: pixels r0[x..x+8) and r1[x..x+8) (float indices), maxima to out[o..o+4). Each lane makes
     * the reference's choice (a, then b, c, d replacing it when larger or a first NaN) and copies the chosen value,
     * so the bits are the reference's.
     */
    private static void poolForward4(MemorySegment out, long o, MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S8, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S8, in, r1 * Float.BYTES, O);
        FloatVector m = step(top.rearrange(LEFT), top.rearrange(RIGHT));
        m = step(m, bottom.rearrange(LEFT));
        m = step(m, bottom.rearrange(RIGHT));
        ((FloatVector) m.reinterpretShape(S4, 0)).intoMemorySegment(out, o * Float.BYTES, O);
    }

    /**
     * Backward of {@link #poolForward4}: the gradients dOut[g..g+4) (plus 0, as the reference) go to each window's
     * chosen pixel in dIn rows r0/r1 at [x, x+8), zeros to the other pixels.
     */
    private static void poolBackward4(MemorySegment dIn, long d0, long d1, MemorySegment dOut, long g,
                                      MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S8, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S8, in, r1 * Float.BYTES, O);
        FloatVector zero = FloatVector.zero(S8);
        FloatVector m = top.rearrange(LEFT);
        FloatVector b = top.rearrange(RIGHT);
        FloatVector at = stepIndex(zero, m, b, ONE);
        m = step(m, b);
        FloatVector c = bottom.rearrange(LEFT);
        at = stepIndex(at, m, c, TWO);
        m = step(m, c);
        at = stepIndex(at, m, bottom.rearrange(RIGHT), THREE);
        FloatVector v = zero.add(((FloatVector) FloatVector.fromMemorySegment(S4, dOut, g * Float.BYTES, O)
                .reinterpretShape(S8, 0)));
        FloatVector pa = zero.blend(v, at.compare(VectorOperators.EQ, zero)).rearrange(SPREAD);
        FloatVector pb = zero.blend(v, at.compare(VectorOperators.EQ, ONE)).rearrange(SPREAD);
        FloatVector pc = zero.blend(v, at.compare(VectorOperators.EQ, TWO)).rearrange(SPREAD);
        FloatVector pd = zero.blend(v, at.compare(VectorOperators.EQ, THREE)).rearrange(SPREAD);
        pa.blend(pb, ODD_LANES).intoMemorySegment(dIn, d0 * Float.BYTES, O);
        pc.blend(pd, ODD_LANES).intoMemorySegment(dIn, d1 * Float.BYTES, O);
    }

    /** The gradient of {@link #forward}: each window's output gradient to its first maximum, 0 elsewhere. */
    static void backward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                         long inOff, int planes, int w, int oh, int ow) {
        // the windows tile the plane: every input pixel is written once (0 + the gradient at the maximum, as the
        // reference's zero-then-add; 0 elsewhere), no zeroing pass
        for (int r = 0; r < planes * oh; r++) {
            long r0 = 2L * r * w;
            long r1 = r0 + w;
            long gRow = dOutOff + (long) r * ow;
            int ox = 0;
            if (POOL_VECTORS && ow >= POOL_GROUP) {
                for (; ox + POOL_GROUP <= ow; ox += POOL_GROUP) {
                    poolBackward4(dIn, dInOff + r0 + 2L * ox, dInOff + r1 + 2L * ox, dOut, gRow + ox, in,
                            inOff + r0 + 2L * ox, inOff + r1 + 2L * ox);
                }
                if (ox < ow) { // overlapping last group: writes the same values again
                    long x = 2L * (ow - POOL_GROUP);
                    poolBackward4(dIn, dInOff + r0 + x, dInOff + r1 + x, dOut, gRow + ow - POOL_GROUP, in,
                            inOff + r0 + x, inOff + r1 + x);
                    ox = ow;
                }
            }
            for (long g = gRow + ox; ox < ow; ox++, g++) {
                long x = 2L * ox;
                int at = first(get(in, inOff + r0 + x), get(in, inOff + r0 + x + 1), get(in, inOff + r1 + x),
                        get(in, inOff + r1 + x + 1));
                float v = 0f + get(dOut, g);
                set(dIn, dInOff + r0 + x, at == 0 ? v : 0f);
                set(dIn, dInOff + r0 + x + 1, at == 1 ? v : 0f);
                set(dIn, dInOff + r1 + x, at == 2 ? v : 0f);
                set(dIn, dInOff + r1 + x + 1, at == 3 ? v : 0f);
            }
        }
    }
}
