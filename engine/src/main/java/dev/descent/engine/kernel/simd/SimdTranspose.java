package dev.descent.engine.kernel.simd;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Square blocks of floats transposed in vector registers, for the packing of {@link SimdGemm} (NT's B: a weight
 * matrix's rows become the panels' lanes) and {@link SimdConv}'s transpose of dY. 16 x 16 with 16-float vectors: four
 * butterfly stages of two-vector permutes ({@code selectFrom}: {@code vpermt2ps}), in one method
 * ({@link #transpose16}) or, for blocks with missing rows or split over panels, in two halves through a scratch block
 * ({@link #transposeLoad}, {@link #transposeStore}); 8 x 8 with 8-float vectors (AVX2, which has no two-source
 * permute): three stages of one-source lane moves and blends ({@link #transpose8}). Vectors stay inside each method
 * (passed between methods they would be boxed).
 */
final class SimdTranspose {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /**
     * {@link #transpose8}'s stages d = 4, 2, 1: lane l takes lane l - d ({@code DOWN}) or l + d ({@code UP}) mod 8,
     * and the lanes with bit d ({@code HIGH}). Separate constants, not arrays: C2 folds a static final field.
     */
    private static final VectorShuffle<Float> DOWN4 = stageShuffle(-4), DOWN2 = stageShuffle(-2),
            DOWN1 = stageShuffle(-1), UP4 = stageShuffle(4), UP2 = stageShuffle(2), UP1 = stageShuffle(1);
    private static final VectorMask<Float> HIGH4 = stageMask(4), HIGH2 = stageMask(2), HIGH1 = stageMask(1);

    private SimdTranspose() {
    }

    /**
     * An 8 x 8 block in registers (8-lane vectors, 8 valid rows, {@code w} a multiple of 8): loads source rows 0..7,
     * applies the butterfly stages d = 4, 2, 1 and stores vector r, step {@code r} of the 8 rows, at
     * {@code dst[d0 + r*w]}. Each stage swaps the off-diagonal d x d sub-blocks of the pairs (r, r + d) with one-source
     * lane moves and blends ({@code vpermps}, {@code vblendps} on AVX2, which has no two-source permute: the
     * {@code selectFrom} pair of {@link #transpose16} falls back to Java there).
     */
    static void transpose8(float[] dst, int d0, int w, MemorySegment src, long srcByte, long ldBytes) {
        FloatVector v0 = FloatVector.fromMemorySegment(S, src, srcByte, ORDER),
                v1 = FloatVector.fromMemorySegment(S, src, srcByte + 1 * ldBytes, ORDER),
                v2 = FloatVector.fromMemorySegment(S, src, srcByte + 2 * ldBytes, ORDER),
                v3 = FloatVector.fromMemorySegment(S, src, srcByte + 3 * ldBytes, ORDER),
                v4 = FloatVector.fromMemorySegment(S, src, srcByte + 4 * ldBytes, ORDER),
                v5 = FloatVector.fromMemorySegment(S, src, srcByte + 5 * ldBytes, ORDER),
                v6 = FloatVector.fromMemorySegment(S, src, srcByte + 6 * ldBytes, ORDER),
                v7 = FloatVector.fromMemorySegment(S, src, srcByte + 7 * ldBytes, ORDER);
        FloatVector a; // stage d: lanes with bit d take the partner's lane l - d (first) or keep their own (second)
        // d = 4
        a = v0.blend(v4.rearrange(DOWN4), HIGH4); v4 = v0.rearrange(UP4).blend(v4, HIGH4); v0 = a;
        a = v1.blend(v5.rearrange(DOWN4), HIGH4); v5 = v1.rearrange(UP4).blend(v5, HIGH4); v1 = a;
        a = v2.blend(v6.rearrange(DOWN4), HIGH4); v6 = v2.rearrange(UP4).blend(v6, HIGH4); v2 = a;
        a = v3.blend(v7.rearrange(DOWN4), HIGH4); v7 = v3.rearrange(UP4).blend(v7, HIGH4); v3 = a;
        // d = 2
        a = v0.blend(v2.rearrange(DOWN2), HIGH2); v2 = v0.rearrange(UP2).blend(v2, HIGH2); v0 = a;
        a = v1.blend(v3.rearrange(DOWN2), HIGH2); v3 = v1.rearrange(UP2).blend(v3, HIGH2); v1 = a;
        a = v4.blend(v6.rearrange(DOWN2), HIGH2); v6 = v4.rearrange(UP2).blend(v6, HIGH2); v4 = a;
        a = v5.blend(v7.rearrange(DOWN2), HIGH2); v7 = v5.rearrange(UP2).blend(v7, HIGH2); v5 = a;
        // d = 1
        a = v0.blend(v1.rearrange(DOWN1), HIGH1); v1 = v0.rearrange(UP1).blend(v1, HIGH1); v0 = a;
        a = v2.blend(v3.rearrange(DOWN1), HIGH1); v3 = v2.rearrange(UP1).blend(v3, HIGH1); v2 = a;
        a = v4.blend(v5.rearrange(DOWN1), HIGH1); v5 = v4.rearrange(UP1).blend(v5, HIGH1); v4 = a;
        a = v6.blend(v7.rearrange(DOWN1), HIGH1); v7 = v6.rearrange(UP1).blend(v7, HIGH1); v6 = a;
        v0.intoArray(dst, d0);
        v1.intoArray(dst, d0 + 1 * w);
        v2.intoArray(dst, d0 + 2 * w);
        v3.intoArray(dst, d0 + 3 * w);
        v4.intoArray(dst, d0 + 4 * w);
        v5.intoArray(dst, d0 + 5 * w);
        v6.intoArray(dst, d0 + 6 * w);
        v7.intoArray(dst, d0 + 7 * w);
    }

    /**
     * A 16 x 16 block in registers (16-lane vectors): loads source rows 0..15 ({@code src[srcByte + r*ldBytes]}, 16
     * floats each), applies the butterfly stages d = 8, 4, 2, 1 (pairs r, r+d for the r without bit d: the same
     * two-vector permutes as {@link #transposeLoad} and {@link #transposeStore}, in one method, so the block does not
     * round-trip through a scratch array and each stage's index vectors load once) and stores vector r (source column
     * r across the 16 rows) at {@code dst[d0 + r*w]} for r < {@code columns}. Same values as the two-phase path. Also
     * {@link SimdConv}'s transpose of dY (channel rows of a heap segment, the last block of a row partial).
     */
    static void transpose16(float[] dst, int d0, int w, int columns, MemorySegment src, long srcByte, long ldBytes,
                            float[] perm) {
        FloatVector v0 = FloatVector.fromMemorySegment(S, src, srcByte, ORDER),
                v1 = FloatVector.fromMemorySegment(S, src, srcByte + 1 * ldBytes, ORDER),
                v2 = FloatVector.fromMemorySegment(S, src, srcByte + 2 * ldBytes, ORDER),
                v3 = FloatVector.fromMemorySegment(S, src, srcByte + 3 * ldBytes, ORDER),
                v4 = FloatVector.fromMemorySegment(S, src, srcByte + 4 * ldBytes, ORDER),
                v5 = FloatVector.fromMemorySegment(S, src, srcByte + 5 * ldBytes, ORDER),
                v6 = FloatVector.fromMemorySegment(S, src, srcByte + 6 * ldBytes, ORDER),
                v7 = FloatVector.fromMemorySegment(S, src, srcByte + 7 * ldBytes, ORDER),
                v8 = FloatVector.fromMemorySegment(S, src, srcByte + 8 * ldBytes, ORDER),
                v9 = FloatVector.fromMemorySegment(S, src, srcByte + 9 * ldBytes, ORDER),
                v10 = FloatVector.fromMemorySegment(S, src, srcByte + 10 * ldBytes, ORDER),
                v11 = FloatVector.fromMemorySegment(S, src, srcByte + 11 * ldBytes, ORDER),
                v12 = FloatVector.fromMemorySegment(S, src, srcByte + 12 * ldBytes, ORDER),
                v13 = FloatVector.fromMemorySegment(S, src, srcByte + 13 * ldBytes, ORDER),
                v14 = FloatVector.fromMemorySegment(S, src, srcByte + 14 * ldBytes, ORDER),
                v15 = FloatVector.fromMemorySegment(S, src, srcByte + 15 * ldBytes, ORDER);
        FloatVector px, py, a; // stage d pairs (r, r + d) for each r without bit d
        px = FloatVector.fromArray(S, perm, 0);   // d = 8
        py = FloatVector.fromArray(S, perm, 16);
        a = px.selectFrom(v0, v8); v8 = py.selectFrom(v0, v8); v0 = a;
        a = px.selectFrom(v1, v9); v9 = py.selectFrom(v1, v9); v1 = a;
        a = px.selectFrom(v2, v10); v10 = py.selectFrom(v2, v10); v2 = a;
        a = px.selectFrom(v3, v11); v11 = py.selectFrom(v3, v11); v3 = a;
        a = px.selectFrom(v4, v12); v12 = py.selectFrom(v4, v12); v4 = a;
        a = px.selectFrom(v5, v13); v13 = py.selectFrom(v5, v13); v5 = a;
        a = px.selectFrom(v6, v14); v14 = py.selectFrom(v6, v14); v6 = a;
        a = px.selectFrom(v7, v15); v15 = py.selectFrom(v7, v15); v7 = a;
        px = FloatVector.fromArray(S, perm, 32);   // d = 4
        py = FloatVector.fromArray(S, perm, 48);
        a = px.selectFrom(v0, v4); v4 = py.selectFrom(v0, v4); v0 = a;
        a = px.selectFrom(v1, v5); v5 = py.selectFrom(v1, v5); v1 = a;
        a = px.selectFrom(v2, v6); v6 = py.selectFrom(v2, v6); v2 = a;
        a = px.selectFrom(v3, v7); v7 = py.selectFrom(v3, v7); v3 = a;
        a = px.selectFrom(v8, v12); v12 = py.selectFrom(v8, v12); v8 = a;
        a = px.selectFrom(v9, v13); v13 = py.selectFrom(v9, v13); v9 = a;
        a = px.selectFrom(v10, v14); v14 = py.selectFrom(v10, v14); v10 = a;
        a = px.selectFrom(v11, v15); v15 = py.selectFrom(v11, v15); v11 = a;
        px = FloatVector.fromArray(S, perm, 64);   // d = 2
        py = FloatVector.fromArray(S, perm, 80);
        a = px.selectFrom(v0, v2); v2 = py.selectFrom(v0, v2); v0 = a;
        a = px.selectFrom(v1, v3); v3 = py.selectFrom(v1, v3); v1 = a;
        a = px.selectFrom(v4, v6); v6 = py.selectFrom(v4, v6); v4 = a;
        a = px.selectFrom(v5, v7); v7 = py.selectFrom(v5, v7); v5 = a;
        a = px.selectFrom(v8, v10); v10 = py.selectFrom(v8, v10); v8 = a;
        a = px.selectFrom(v9, v11); v11 = py.selectFrom(v9, v11); v9 = a;
        a = px.selectFrom(v12, v14); v14 = py.selectFrom(v12, v14); v12 = a;
        a = px.selectFrom(v13, v15); v15 = py.selectFrom(v13, v15); v13 = a;
        px = FloatVector.fromArray(S, perm, 96);   // d = 1
        py = FloatVector.fromArray(S, perm, 112);
        a = px.selectFrom(v0, v1); v1 = py.selectFrom(v0, v1); v0 = a;
        a = px.selectFrom(v2, v3); v3 = py.selectFrom(v2, v3); v2 = a;
        a = px.selectFrom(v4, v5); v5 = py.selectFrom(v4, v5); v4 = a;
        a = px.selectFrom(v6, v7); v7 = py.selectFrom(v6, v7); v6 = a;
        a = px.selectFrom(v8, v9); v9 = py.selectFrom(v8, v9); v8 = a;
        a = px.selectFrom(v10, v11); v11 = py.selectFrom(v10, v11); v10 = a;
        a = px.selectFrom(v12, v13); v13 = py.selectFrom(v12, v13); v12 = a;
        a = px.selectFrom(v14, v15); v15 = py.selectFrom(v14, v15); v14 = a;
        v0.intoArray(dst, d0);
        if (columns > 1) {
            v1.intoArray(dst, d0 + 1 * w);
        }
        if (columns > 2) {
            v2.intoArray(dst, d0 + 2 * w);
        }
        if (columns > 3) {
            v3.intoArray(dst, d0 + 3 * w);
        }
        if (columns > 4) {
            v4.intoArray(dst, d0 + 4 * w);
        }
        if (columns > 5) {
            v5.intoArray(dst, d0 + 5 * w);
        }
        if (columns > 6) {
            v6.intoArray(dst, d0 + 6 * w);
        }
        if (columns > 7) {
            v7.intoArray(dst, d0 + 7 * w);
        }
        if (columns > 8) {
            v8.intoArray(dst, d0 + 8 * w);
        }
        if (columns > 9) {
            v9.intoArray(dst, d0 + 9 * w);
        }
        if (columns > 10) {
            v10.intoArray(dst, d0 + 10 * w);
        }
        if (columns > 11) {
            v11.intoArray(dst, d0 + 11 * w);
        }
        if (columns > 12) {
            v12.intoArray(dst, d0 + 12 * w);
        }
        if (columns > 13) {
            v13.intoArray(dst, d0 + 13 * w);
        }
        if (columns > 14) {
            v14.intoArray(dst, d0 + 14 * w);
        }
        if (columns > 15) {
            v15.intoArray(dst, d0 + 15 * w);
        }
    }


    /**
     * First half of a 16 x 16 transpose (rows r = row index, lanes = step index): loads source rows g, g+4, g+8,
     * g+12 (zero past {@code validRows}), applies the butterfly stages d = 8 and 4 (swap the off-diagonal d x d
     * sub-blocks with two-vector permutes) and parks the four vectors in {@code t}.
     */
    static void transposeLoad(float[] t, int g, MemorySegment src, long srcByte, long ldBytes,
                              int validRows, float[] perm) {
        FloatVector x0 = FloatVector.zero(S), x1 = x0, x2 = x0, x3 = x0;
        if (g < validRows) {
            x0 = FloatVector.fromMemorySegment(S, src, srcByte + g * ldBytes, ORDER);
        }
        if (g + 4 < validRows) {
            x1 = FloatVector.fromMemorySegment(S, src, srcByte + (g + 4) * ldBytes, ORDER);
        }
        if (g + 8 < validRows) {
            x2 = FloatVector.fromMemorySegment(S, src, srcByte + (g + 8) * ldBytes, ORDER);
        }
        if (g + 12 < validRows) {
            x3 = FloatVector.fromMemorySegment(S, src, srcByte + (g + 12) * ldBytes, ORDER);
        }
        FloatVector px = FloatVector.fromArray(S, perm, 0);
        FloatVector py = FloatVector.fromArray(S, perm, 16);
        FloatVector y0 = px.selectFrom(x0, x2);
        FloatVector y2 = py.selectFrom(x0, x2);
        FloatVector y1 = px.selectFrom(x1, x3);
        FloatVector y3 = py.selectFrom(x1, x3);
        px = FloatVector.fromArray(S, perm, 32);
        py = FloatVector.fromArray(S, perm, 48);
        px.selectFrom(y0, y1).intoArray(t, g * 16);
        py.selectFrom(y0, y1).intoArray(t, (g + 4) * 16);
        px.selectFrom(y2, y3).intoArray(t, (g + 8) * 16);
        py.selectFrom(y2, y3).intoArray(t, (g + 12) * 16);
    }

    /**
     * Second half of the transpose: rows 4g..4g+3 of {@code t} through the stages d = 2 and 1; row q is then
     * step {@code p + q - 4g} of the 16 source rows {@code i0..i0+15}, whose lane l goes to panel (i0+l)/w at
     * {@code dst[panel*w*kc + step*w + (i0+l)%w]}: one plain store per step when w is a multiple of 16, else one
     * masked store per panel the rows fall into (up to {@code rowsPadded}).
     */
    static void transposeStore(float[] t, int g, float[] dst, int i0, int p, int w, int kc, int rowsPadded,
                               float[] perm) {
        FloatVector x0 = FloatVector.fromArray(S, t, g * 64);
        FloatVector x1 = FloatVector.fromArray(S, t, g * 64 + 16);
        FloatVector x2 = FloatVector.fromArray(S, t, g * 64 + 32);
        FloatVector x3 = FloatVector.fromArray(S, t, g * 64 + 48);
        FloatVector px = FloatVector.fromArray(S, perm, 64);
        FloatVector py = FloatVector.fromArray(S, perm, 80);
        FloatVector y0 = px.selectFrom(x0, x2);
        FloatVector y2 = py.selectFrom(x0, x2);
        FloatVector y1 = px.selectFrom(x1, x3);
        FloatVector y3 = py.selectFrom(x1, x3);
        px = FloatVector.fromArray(S, perm, 96);
        py = FloatVector.fromArray(S, perm, 112);
        FloatVector z0 = px.selectFrom(y0, y1);
        FloatVector z1 = py.selectFrom(y0, y1);
        FloatVector z2 = px.selectFrom(y2, y3);
        FloatVector z3 = py.selectFrom(y2, y3);
        if (w % 16 == 0) {    // the 16 rows lie in one panel
            int d = (i0 / w) * w * kc + i0 % w + p * w;
            z0.intoArray(dst, d);
            z1.intoArray(dst, d + w);
            z2.intoArray(dst, d + 2 * w);
            z3.intoArray(dst, d + 3 * w);
            return;
        }
        int last = Math.min(i0 + 16, rowsPadded) - 1;
        for (int panel = i0 / w; panel <= last / w; panel++) {
            int lo = Math.max(0, panel * w - i0);                  // lanes lo..hi-1 belong to this panel
            int hi = Math.min(16, (panel + 1) * w - i0);
            VectorMask<Float> lanes = VectorMask.fromLong(S, (-1L >>> (64 - hi)) & (-1L << lo));
            int d = panel * w * kc + p * w + i0 - panel * w;       // lane l -> d + l (+ step * w)
            z0.intoArray(dst, d, lanes);
            z1.intoArray(dst, d + w, lanes);
            z2.intoArray(dst, d + 2 * w, lanes);
            z3.intoArray(dst, d + 3 * w, lanes);
        }
    }

    /** For 8-lane species the shuffle l -> (l + shift) mod 8; the identity for other widths (unused there). */
    private static VectorShuffle<Float> stageShuffle(int shift) {
        if (L != 8) {
            return VectorShuffle.iota(S, 0, 1, false);
        }
        int[] idx = new int[8];
        for (int l = 0; l < 8; l++) {
            idx[l] = (l + shift + 8) % 8;
        }
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /** For 8-lane species the lanes with bit {@code d}; no lanes for other widths (unused there). */
    private static VectorMask<Float> stageMask(int d) {
        long bits = 0;
        for (int l = 0; l < 8 && L == 8; l++) {
            if ((l & d) != 0) {
                bits |= 1L << l;
            }
        }
        return VectorMask.fromLong(S, bits);
    }

    /**
     * Index vectors of the transpose stages d = 8, 4, 2, 1: x'[l] = l has bit d ? y[l-d] : x[l]; y'[l] = l has bit d ?
     * y[l] : x[l+d]. Also {@link SimdConv}'s transpose of dY.
     */
    static float[] permutations() {
        float[] perm = new float[4 * 32];
        for (int stage = 0, d = 8; stage < 4; stage++, d >>= 1) {
            for (int l = 0; l < 16; l++) {
                boolean bit = (l & d) != 0;
                perm[stage * 32 + l] = bit ? 16 + l - d : l;
                perm[stage * 32 + 16 + l] = bit ? 16 + l : l + d;
            }
        }
        return perm;
    }
}
