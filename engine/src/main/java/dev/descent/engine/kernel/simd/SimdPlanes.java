package dev.descent.engine.kernel.simd;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The data movement of {@link SimdLayerKernels}' convolutions: the zero-padded planes of the direct convolution
 * ({@link SimdConv}) and the stride-1 unfold (im2col / col2im) of the others, plus the row copies, adds and zero
 * runs they and the embedding gradient are made of. Each short image row goes as whole vectors plus one 8- and one
 * 4-float vector of narrower species, not a per-row {@link MemorySegment#copy}, which costs more than the copy; no
 * masked access (see {@link SimdLayerKernels}).
 */
final class SimdPlanes {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();
    /** Narrower species for the tails of short rows (a 14-float row is 8 + 4 + 2 on AVX-512), no masks. */
    private static final VectorSpecies<Float> S8 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Float> S4 = FloatVector.SPECIES_128;
    /** Int lanes of the same widths: the column masks of the shifted unfold blocks ({@link #columnMasks}). */
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, S.vectorShape());
    private static final VectorSpecies<Integer> SI8 = IntVector.SPECIES_256;
    private static final VectorSpecies<Integer> SI4 = IntVector.SPECIES_128;
    /** Per-thread {@link #columnMasks}, kept for the last geometry (grown, never shrunk). */
    private static final ThreadLocal<ColumnMasks> MASKS = ThreadLocal.withInitial(ColumnMasks::new);

    /** The masks of one geometry; im2col runs once per sample, so a layer's samples share them. */
    private static final class ColumnMasks {
        int[] masks = new int[0];
        int kw = -1;
        int pad;
        int w;
        int oh;
        int ow;
    }

    private SimdPlanes() {
    }

    private static float get(MemorySegment s, long i) {
        return s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    private static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
    }

    // ---------------------------------------------------------------- zero-padded planes of the direct convolution

    static void padPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                          int top, int left, int hp, int wp, int dstPlane, long tail) {
        long d = dstOff;
        long s = srcOff;
        int right = wp - left - w;
        long after = (long) (hp - top - h) * wp + dstPlane - (long) hp * wp; // bottom rows and the plane's gap
        for (int ci = 0; ci < c; ci++) {
            // the top rows and the first row's left margin are one zero run, and so is each right margin with the
            // next row's left margin; a row may overrun into the run after it (zeroed next) and read on into the
            // next source row, so a 14-float row is one 16-float vector, not 8 + 4 + 2
            zeroRow(dst, d, (long) top * wp + left);
            d += (long) top * wp + left;
            for (int y = 0; y < h; y++, s += w) {
                boolean lastRow = y + 1 == h;
                long gap = lastRow ? right + after : right + left;
                boolean lastSource = lastRow && ci + 1 == c;
                copyOver(dst, d, src, s, w, lastSource ? 0 : (int) Math.min(gap, w));
                d += w;
                zeroRow(dst, d, gap);
                d += gap;
            }
        }
        zeroRow(dst, d, tail);
    }

    /**
     * Copies n floats and may write and read up to {@code over} floats past them: whole vectors, then the tail as one
     * whole or 8-float vector when its overrun fits in {@code over}, else exactly ({@link #copyRow}).
     */
    private static void copyOver(MemorySegment dst, long d, MemorySegment src, long s, int n, int over) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        }
        int r = n - i;
        if (r == 0) {
            return;
        }
        if (L - r <= over) {
            FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        } else if (L > 8 && r <= 8 && 8 - r <= over) {
            FloatVector.fromMemorySegment(S8, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        } else {
            copyRow(dst, d + i, src, s + i, r);
        }
    }

    // ---------------------------------------------------------------- im2col / col2im, stride 1

    static void im2col(MemorySegment col, long colOff, int colStride, MemorySegment in, long inOff,
                       int c, int h, int w, int kh, int kw, int pad, int oh, int ow) {
        long row = colOff;
        boolean same = ow == w; // stride 1, "same" width: a whole kernel row is one shifted block of the plane
        int[] masks = same ? columnMasks(kw, pad, w, oh, ow) : null;
        int span = oh * ow + L;
        for (int ci = 0; ci < c; ci++) {
            long plane = inOff + (long) ci * h * w;
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++, row += colStride) {
                    int oxLo = Math.max(0, pad - kx);
                    int oxHi = Math.min(ow, w + pad - kx);
                    if (same && oxLo < oxHi) {
                        shiftedBlock(col, row, in, plane, h, w, oh, ow, ky - pad, kx - pad, oxLo, oxHi, masks,
                                kx * span);
                        continue;
                    }
                    for (int oy = 0; oy < oh; oy++) {
                        long dst = row + (long) oy * ow;
                        int iy = oy - pad + ky;
                        if (iy < 0 || iy >= h || oxLo >= oxHi) {
                            zeroRow(col, dst, ow);
                            continue;
                        }
                        long src = plane + (long) iy * w - pad + kx; // input index of ox = 0
                        zeroRow(col, dst, oxLo);
                        copyRow(col, dst + oxLo, in, src + oxLo, oxHi - oxLo);
                        zeroRow(col, dst + oxHi, ow - oxHi);
                    }
                }
            }
        }
    }

    /**
     * One im2col row when ow == w: col[oy*ow + ox] = in[(oy+dy)*w + ox+dx] is a single shifted copy over the valid
     * rows (the source never leaves the plane: the copy starts and ends on valid pixels) in which the columns whose
     * source fell outside the image row (ox < oxLo or ox >= oxHi) are masked to +0.0 on the way (the masks from
     * {@code masks[m + d0]}, see {@link #columnMasks}); the rows outside the image are zeroed.
     */
    private static void shiftedBlock(MemorySegment col, long row, MemorySegment in, long plane, int h, int w, int oh,
                                     int ow, int dy, int dx, int oxLo, int oxHi, int[] masks, int m) {
        int oyLo = Math.max(0, -dy);
        int oyHi = Math.min(oh, h - dy);
        if (oyLo >= oyHi) {
            zeroRow(col, row, (long) oh * ow);
            return;
        }
        long d0 = (long) oyLo * ow + oxLo;
        long d1 = (long) (oyHi - 1) * ow + oxHi;
        long shift = plane + (long) dy * w + dx;
        zeroRow(col, row, d0);
        maskedCopy(col, row + d0, in, shift + d0, (int) (d1 - d0), masks, m + (int) d0);
        zeroRow(col, row + d1, (long) oh * ow - d1);
    }

    /**
     * For each kernel column kx, at {@code kx * (oh*ow + L)}: oh*ow + L ints, one per unfold position t of a kernel
     * offset's row (and L of slack), -1 where column t mod ow takes a pixel for that kernel column
     * (pad - kx <= ox < w + pad - kx) and 0 where its pixel lies left or right of the image row. The block copies and
     * adds read the mask of position t at index t: no modulo in their loops. 16 KiB for the default CNN's first
     * layer (5 x 28 x 28), in a per-thread array that only grows, rebuilt only when the geometry changes.
     */
    private static int[] columnMasks(int kw, int pad, int w, int oh, int ow) {
        ColumnMasks c = MASKS.get();
        if (c.kw == kw && c.pad == pad && c.w == w && c.oh == oh && c.ow == ow) {
            return c.masks;
        }
        int span = oh * ow + L;
        if (c.masks.length < kw * span) {
            c.masks = new int[kw * span];
        }
        c.kw = kw;
        c.pad = pad;
        c.w = w;
        c.oh = oh;
        c.ow = ow;
        int[] masks = c.masks;
        for (int kx = 0; kx < kw; kx++) {
            int oxLo = Math.max(0, pad - kx);
            int oxHi = Math.min(ow, w + pad - kx);
            for (int t = 0, ox = 0; t < span; t++, ox = ox + 1 == ow ? 0 : ox + 1) {
                masks[kx * span + t] = ox >= oxLo && ox < oxHi ? -1 : 0;
            }
        }
        return masks;
    }

    /**
     * dst[d + i] = src[s + i] where the column of block position i takes a pixel, else +0.0 (the bits ANDed with
     * the column mask {@code masks[m + i]}: no vector masks, no blends), i < n. Whole vectors, then one 8- and one
     * 4-float vector, then scalars, as {@link #copyRow}.
     */
    private static void maskedCopy(MemorySegment dst, long d, MemorySegment src, long s, int n, int[] masks, int m) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                    .and(IntVector.fromArray(SI, masks, m + i)).reinterpretAsFloats()
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        }
        if (L > 8 && i <= n - 8) {
            FloatVector.fromMemorySegment(S8, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                    .and(IntVector.fromArray(SI8, masks, m + i)).reinterpretAsFloats()
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 8;
        }
        if (L > 4 && i <= n - 4) {
            FloatVector.fromMemorySegment(S4, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                    .and(IntVector.fromArray(SI4, masks, m + i)).reinterpretAsFloats()
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 4;
        }
        for (; i < n; i++) {
            set(dst, d + i, masks[m + i] != 0 ? get(src, s + i) : 0f);
        }
    }

    static void copyRow(MemorySegment dst, long d, MemorySegment src, long s, long n) {
        long i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        }
        if (L > 8 && i <= n - 8) {
            FloatVector.fromMemorySegment(S8, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 8;
        }
        if (L > 4 && i <= n - 4) {
            FloatVector.fromMemorySegment(S4, src, (s + i) * Float.BYTES, O)
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 4;
        }
        for (; i < n; i++) {
            set(dst, d + i, get(src, s + i));
        }
    }

    static void col2im(MemorySegment dIn, long dInOff, MemorySegment col, long colOff, int colStride,
                       int c, int h, int w, int kh, int kw, int pad, int oh, int ow) {
        zeroRow(dIn, dInOff, (long) c * h * w);
        long row = colOff;
        boolean same = ow == w; // stride 1, "same" width: a kernel offset's rows are one shifted block of the plane
        int[] masks = same ? columnMasks(kw, pad, w, oh, ow) : null;
        int span = oh * ow + L;
        for (int ci = 0; ci < c; ci++) {
            long plane = dInOff + (long) ci * h * w;
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++, row += colStride) {
                    int oxLo = Math.max(0, pad - kx);
                    int oxHi = Math.min(ow, w + pad - kx);
                    if (oxLo >= oxHi) {
                        continue;
                    }
                    if (same) {
                        shiftedAdd(dIn, plane, col, row, h, w, oh, ow, ky - pad, kx - pad, oxLo, oxHi, masks,
                                kx * span);
                        continue;
                    }
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        long src = row + (long) oy * ow;
                        long dst = plane + (long) iy * w - pad + kx;
                        addRow(dIn, dst + oxLo, col, src + oxLo, oxHi - oxLo);
                    }
                }
            }
        }
    }

    /**
     * The adjoint of {@link #shiftedBlock}: dIn[(oy+dy)*w + ox+dx] += col[oy*ow + ox] over the valid pixels as one
     * shifted add over the block (instead of one short add per output row). The unfold's entries whose pixel lies
     * left or right of the image row belong to no pixel: they are masked to +0.0 on the way, so the block add puts
     * +0.0 on the pixels they wrap onto, which changes nothing: dIn starts at +0.0 and a sum of floats is -0.0 only
     * when both terms are, so it never holds -0.0 (and NaN or infinity plus 0 stay as they are). Each pixel still
     * receives its terms in the reference's order (channel, kernel row, kernel column).
     */
    private static void shiftedAdd(MemorySegment dIn, long plane, MemorySegment col, long row, int h, int w, int oh,
                                   int ow, int dy, int dx, int oxLo, int oxHi, int[] masks, int m) {
        int oyLo = Math.max(0, -dy);
        int oyHi = Math.min(oh, h - dy);
        if (oyLo >= oyHi) {
            return;
        }
        long d0 = (long) oyLo * ow + oxLo;
        long d1 = (long) (oyHi - 1) * ow + oxHi;
        maskedAdd(dIn, plane + (long) dy * w + dx + d0, col, row + d0, (int) (d1 - d0), masks, m + (int) d0);
    }

    /** dst[d + i] += (src[s + i] where the column of block position i takes a pixel, else +0.0): {@link #maskedCopy}'s add. */
    private static void maskedAdd(MemorySegment dst, long d, MemorySegment src, long s, int n, int[] masks, int m) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                            .and(IntVector.fromArray(SI, masks, m + i)).reinterpretAsFloats())
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        }
        if (L > 8 && i <= n - 8) {
            FloatVector.fromMemorySegment(S8, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S8, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                            .and(IntVector.fromArray(SI8, masks, m + i)).reinterpretAsFloats())
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 8;
        }
        if (L > 4 && i <= n - 4) {
            FloatVector.fromMemorySegment(S4, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S4, src, (s + i) * Float.BYTES, O).reinterpretAsInts()
                            .and(IntVector.fromArray(SI4, masks, m + i)).reinterpretAsFloats())
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 4;
        }
        for (; i < n; i++) {
            set(dst, d + i, get(dst, d + i) + (masks[m + i] != 0 ? get(src, s + i) : 0f));
        }
    }

    static void zeroRow(MemorySegment s, long off, long n) {
        FloatVector z = FloatVector.zero(S);
        long i = 0;
        for (; i <= n - L; i += L) {
            z.intoMemorySegment(s, (off + i) * Float.BYTES, O);
        }
        if (L > 8 && i <= n - 8) {
            FloatVector.zero(S8).intoMemorySegment(s, (off + i) * Float.BYTES, O);
            i += 8;
        }
        if (L > 4 && i <= n - 4) {
            FloatVector.zero(S4).intoMemorySegment(s, (off + i) * Float.BYTES, O);
            i += 4;
        }
        for (; i < n; i++) {
            set(s, off + i, 0f);
        }
    }

    /**
     * dst[d + i] += src[s + i], i < n: whole vectors, then one 8- and one 4-float vector when the preferred one is
     * wider (rows of small images are shorter than one 16-float vector), then scalars. Same sums as the scalar loop.
     */
    static void addRow(MemorySegment dst, long d, MemorySegment src, long s, int n) {
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S, src, (s + i) * Float.BYTES, O))
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
        }
        if (L > 8 && i <= n - 8) {
            FloatVector.fromMemorySegment(S8, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S8, src, (s + i) * Float.BYTES, O))
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 8;
        }
        if (L > 4 && i <= n - 4) {
            FloatVector.fromMemorySegment(S4, dst, (d + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S4, src, (s + i) * Float.BYTES, O))
                    .intoMemorySegment(dst, (d + i) * Float.BYTES, O);
            i += 4;
        }
        for (; i < n; i++) {
            set(dst, d + i, get(dst, d + i) + get(src, s + i));
        }
    }
}
