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
 * re-scans a general window per output), eight windows at a time in 16-float vectors where the machine has them
 * natively (AVX-512), four at a time in 8-float vectors (AVX2 and up, and rows of 4-7 windows), the rest with the
 * reference's scalar scan. Bit for bit the reference's choices (first maximum, a first NaN winning) and values.
 *
 * <p>A group of windows whose pixels hold no NaN (the rule, checked with one add and one compare) takes the short
 * form of the reference's step, "a larger value replaces the running maximum": one compare and one blend. A group
 * with a NaN (or an infinity next to its opposite, whose sum is NaN) takes the full rule, three compares and three
 * blends per step.
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
            if (POOL_WIDE && ow >= WIDE_GROUP) {
                for (; ox + WIDE_GROUP <= ow; ox += WIDE_GROUP) {
                    poolForward8(out, o + ox, in, r0 + 2L * ox, r1 + 2L * ox);
                }
                if (ox < ow) { // the last windows as one more group overlapping the previous: same values again
                    poolForward8(out, o + ow - WIDE_GROUP, in, r0 + 2L * (ow - WIDE_GROUP), r1 + 2L * (ow - WIDE_GROUP));
                    ox = ow;
                }
            } else if (POOL_VECTORS && ow >= POOL_GROUP) {
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
    /** Whether 2x2 pooling runs 8 windows at a time in 16-float vectors (natively available: AVX-512). */
    private static final boolean POOL_WIDE = L >= 16;
    private static final int WIDE_GROUP = 8;
    private static final VectorSpecies<Float> S16 = FloatVector.SPECIES_512;

    /** Window lanes 0..3 from 8 pixels of one row: the left pixels (even lanes) and the right ones (odd lanes). */
    private static final VectorShuffle<Float> LEFT = VectorShuffle.fromValues(S8, 0, 2, 4, 6, 0, 2, 4, 6);
    private static final VectorShuffle<Float> RIGHT = VectorShuffle.fromValues(S8, 1, 3, 5, 7, 1, 3, 5, 7);
    /** Window lane j to pixel lanes 2j and 2j + 1. */
    private static final VectorShuffle<Float> SPREAD = VectorShuffle.fromValues(S8, 0, 0, 1, 1, 2, 2, 3, 3);
    /** The window index (0..3, in the reference's scan order) each pixel lane of a top / bottom row stands for. */
    private static final FloatVector TOP_AT = FloatVector.fromArray(S8, new float[] {0, 1, 0, 1, 0, 1, 0, 1}, 0);
    private static final FloatVector BOTTOM_AT = FloatVector.fromArray(S8, new float[] {2, 3, 2, 3, 2, 3, 2, 3}, 0);
    private static final FloatVector ONE = FloatVector.broadcast(S8, 1f);
    private static final FloatVector TWO = FloatVector.broadcast(S8, 2f);
    private static final FloatVector THREE = FloatVector.broadcast(S8, 3f);

    /** The same for 8 windows from the 16 pixels of one row in a 16-float vector (lanes 8..15 repeat 0..7). */
    private static final VectorShuffle<Float> LEFT16 = VectorShuffle.fromValues(S16,
            0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
    private static final VectorShuffle<Float> RIGHT16 = VectorShuffle.fromValues(S16,
            1, 3, 5, 7, 9, 11, 13, 15, 1, 3, 5, 7, 9, 11, 13, 15);
    private static final VectorShuffle<Float> SPREAD16 = VectorShuffle.fromValues(S16,
            0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    private static final FloatVector TOP_AT16 = FloatVector.fromArray(S16,
            new float[] {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, 0);
    private static final FloatVector BOTTOM_AT16 = FloatVector.fromArray(S16,
            new float[] {2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3}, 0);
    private static final FloatVector ONE16 = FloatVector.broadcast(S16, 1f);
    private static final FloatVector TWO16 = FloatVector.broadcast(S16, 2f);
    private static final FloatVector THREE16 = FloatVector.broadcast(S16, 3f);

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

    /** Whether the pixels of a group (two rows) may hold a NaN: their sum does (a NaN, or +inf beside -inf). */
    private static boolean mayHoldNaN(FloatVector top, FloatVector bottom) {
        FloatVector sum = top.add(bottom);
        return sum.compare(VectorOperators.NE, sum).anyTrue();
    }

    /**
     * Four 2x2 windows: pixels r0[x..x+8) and r1[x..x+8) (float indices), maxima to out[o..o+4). Each lane makes
     * the reference's choice (a, then b, c, d replacing it when larger or a first NaN) and copies the chosen value,
     * so the bits are the reference's.
     */
    private static void poolForward4(MemorySegment out, long o, MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S8, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S8, in, r1 * Float.BYTES, O);
        FloatVector m = top.rearrange(LEFT);
        FloatVector b = top.rearrange(RIGHT);
        FloatVector c = bottom.rearrange(LEFT);
        FloatVector d = bottom.rearrange(RIGHT);
        if (mayHoldNaN(top, bottom)) {
            m = step(step(step(m, b), c), d);
        } else {
            m = m.blend(b, b.compare(VectorOperators.GT, m));
            m = m.blend(c, c.compare(VectorOperators.GT, m));
            m = m.blend(d, d.compare(VectorOperators.GT, m));
        }
        ((FloatVector) m.reinterpretShape(S4, 0)).intoMemorySegment(out, o * Float.BYTES, O);
    }

    /** {@link #poolForward4} for eight windows: pixels r0[x..x+16) and r1[x..x+16), maxima to out[o..o+8). */
    private static void poolForward8(MemorySegment out, long o, MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S16, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S16, in, r1 * Float.BYTES, O);
        FloatVector m = top.rearrange(LEFT16);
        FloatVector b = top.rearrange(RIGHT16);
        FloatVector c = bottom.rearrange(LEFT16);
        FloatVector d = bottom.rearrange(RIGHT16);
        if (mayHoldNaN(top, bottom)) {
            m = step(step(step(m, b), c), d);
        } else {
            m = m.blend(b, b.compare(VectorOperators.GT, m));
            m = m.blend(c, c.compare(VectorOperators.GT, m));
            m = m.blend(d, d.compare(VectorOperators.GT, m));
        }
        ((FloatVector) m.reinterpretShape(S8, 0)).intoMemorySegment(out, o * Float.BYTES, O);
    }

    /**
     * Backward of {@link #poolForward4}: the gradients dOut[g..g+4) (plus 0, as the reference) go to each window's
     * chosen pixel in dIn rows r0/r1 at [x, x+8), zeros to the other pixels: the chosen index and the gradient are
     * spread to the window's two pixel lanes of each row, and a pixel keeps the gradient where the index is its own.
     */
    private static void poolBackward4(MemorySegment dIn, long d0, long d1, MemorySegment dOut, long g,
                                      MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S8, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S8, in, r1 * Float.BYTES, O);
        FloatVector zero = FloatVector.zero(S8);
        FloatVector m = top.rearrange(LEFT);
        FloatVector b = top.rearrange(RIGHT);
        FloatVector c = bottom.rearrange(LEFT);
        FloatVector d = bottom.rearrange(RIGHT);
        FloatVector at;
        if (mayHoldNaN(top, bottom)) {
            at = stepIndex(zero, m, b, ONE);
            m = step(m, b);
            at = stepIndex(at, m, c, TWO);
            m = step(m, c);
            at = stepIndex(at, m, d, THREE);
        } else {
            VectorMask<Float> gt = b.compare(VectorOperators.GT, m);
            at = zero.blend(ONE, gt);
            m = m.blend(b, gt);
            gt = c.compare(VectorOperators.GT, m);
            at = at.blend(TWO, gt);
            m = m.blend(c, gt);
            at = at.blend(THREE, d.compare(VectorOperators.GT, m));
        }
        FloatVector v = zero.add(((FloatVector) FloatVector.fromMemorySegment(S4, dOut, g * Float.BYTES, O)
                .reinterpretShape(S8, 0))).rearrange(SPREAD);
        at = at.rearrange(SPREAD);
        zero.blend(v, at.compare(VectorOperators.EQ, TOP_AT)).intoMemorySegment(dIn, d0 * Float.BYTES, O);
        zero.blend(v, at.compare(VectorOperators.EQ, BOTTOM_AT)).intoMemorySegment(dIn, d1 * Float.BYTES, O);
    }

    /** {@link #poolBackward4} for eight windows: dOut[g..g+8) to dIn rows r0/r1 at [x, x+16). */
    private static void poolBackward8(MemorySegment dIn, long d0, long d1, MemorySegment dOut, long g,
                                      MemorySegment in, long r0, long r1) {
        FloatVector top = FloatVector.fromMemorySegment(S16, in, r0 * Float.BYTES, O);
        FloatVector bottom = FloatVector.fromMemorySegment(S16, in, r1 * Float.BYTES, O);
        FloatVector zero = FloatVector.zero(S16);
        FloatVector m = top.rearrange(LEFT16);
        FloatVector b = top.rearrange(RIGHT16);
        FloatVector c = bottom.rearrange(LEFT16);
        FloatVector d = bottom.rearrange(RIGHT16);
        FloatVector at;
        if (mayHoldNaN(top, bottom)) {
            at = stepIndex(zero, m, b, ONE16);
            m = step(m, b);
            at = stepIndex(at, m, c, TWO16);
            m = step(m, c);
            at = stepIndex(at, m, d, THREE16);
        } else {
            VectorMask<Float> gt = b.compare(VectorOperators.GT, m);
            at = zero.blend(ONE16, gt);
            m = m.blend(b, gt);
            gt = c.compare(VectorOperators.GT, m);
            at = at.blend(TWO16, gt);
            m = m.blend(c, gt);
            at = at.blend(THREE16, d.compare(VectorOperators.GT, m));
        }
        FloatVector v = zero.add(((FloatVector) FloatVector.fromMemorySegment(S8, dOut, g * Float.BYTES, O)
                .reinterpretShape(S16, 0))).rearrange(SPREAD16);
        at = at.rearrange(SPREAD16);
        zero.blend(v, at.compare(VectorOperators.EQ, TOP_AT16)).intoMemorySegment(dIn, d0 * Float.BYTES, O);
        zero.blend(v, at.compare(VectorOperators.EQ, BOTTOM_AT16)).intoMemorySegment(dIn, d1 * Float.BYTES, O);
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
            if (POOL_WIDE && ow >= WIDE_GROUP) {
                for (; ox + WIDE_GROUP <= ow; ox += WIDE_GROUP) {
                    poolBackward8(dIn, dInOff + r0 + 2L * ox, dInOff + r1 + 2L * ox, dOut, gRow + ox, in,
                            inOff + r0 + 2L * ox, inOff + r1 + 2L * ox);
                }
                if (ox < ow) { // overlapping last group: writes the same values again
                    long x = 2L * (ow - WIDE_GROUP);
                    poolBackward8(dIn, dInOff + r0 + x, dInOff + r1 + x, dOut, gRow + ow - WIDE_GROUP, in,
                            inOff + r0 + x, inOff + r1 + x);
                    ox = ow;
                }
            } else if (POOL_VECTORS && ow >= POOL_GROUP) {
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
