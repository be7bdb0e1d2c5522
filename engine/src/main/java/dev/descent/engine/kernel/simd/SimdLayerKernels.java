package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.scalar.ScalarLayerKernels;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API layer kernels. Overrides the arithmetic loops of {@link ScalarLayerKernels} (its oracle in the
 * tests): per-channel bias and sums, batch norm, layer norm, and the head-size dot products and axpys that
 * attention is made of, embedding gradients; im2col and col2im with stride 1 (each output row of a small image as
 * whole vectors plus one 8- and one 4-float vector of narrower species, not a per-row {@link MemorySegment#copy},
 * which costs more than the copy); 2x2 stride-2 max pooling ({@link SimdPooling}). The rest of the data movement
 * (strided unfold, other pooling, transposes, embedding lookup) is inherited.
 *
 * <p>Loops run whole vectors and finish the tail with narrower vectors and scalar code: no masked access at all,
 * since masked loads and stores (in a loop body, or on the 8-float heads of a small transformer) made C2 fall back
 * to boxed vectors that allocate on every call. Sums are accumulated lane-wise in float (the scalar reference
 * accumulates in double; the tests bound the difference).
 */
public final class SimdLayerKernels extends ScalarLayerKernels {
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

    @Override
    public String name() {
        return "simd";
    }

    // ---------------------------------------------------------------- BLAS-1 helpers used by attention

    @Override
    protected float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O)
                    .fma(FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O), acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; i < n; i++) {
            s += get(x, xOff + i) * get(y, yOff + i);
        }
        return s;
    }

    @Override
    protected void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O)
                    .fma(a, FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O))
                    .intoMemorySegment(y, (yOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(y, yOff + i, get(y, yOff + i) + alpha * get(x, xOff + i));
        }
    }

    /** Σ x[n] in float lanes. */
    private static float vsum(MemorySegment x, long off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.add(FloatVector.fromMemorySegment(S, x, (off + i) * Float.BYTES, O));
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; i < n; i++) {
            s += get(x, off + i);
        }
        return s;
    }

    // ---------------------------------------------------------------- direct stride-1 convolution (SimdConv)

    @Override
    public int convWidePlane(int oh, int wp, int k) {
        return SimdConv.widePlane(oh, wp, k);
    }

    @Override
    public void padPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                          int top, int left, int hp, int wp, int dstPlane, long tail) {
        checkPad(h, w, top, left, hp, wp, dstPlane);
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

    @Override
    public void unpadPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                            int wp, int srcPlane) {
        long d = dstOff;
        for (int ci = 0; ci < c; ci++) {
            long s = srcOff + (long) ci * srcPlane;
            for (int y = 0; y < h; y++, s += wp, d += w) {
                // a row may overrun into the next one (written next, in order) and read the wide row's garbage
                // columns; the very last row is copied exactly
                boolean last = ci + 1 == c && y + 1 == h;
                copyOver(dst, d, src, s, w, last ? 0 : Math.min(w, wp - w));
            }
        }
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

    @Override
    public void convWide(MemorySegment out, long outOff, long outStride, int oh, int qp, MemorySegment in, long inOff,
                         long inStride, int n, int cin, int plane, int wp, MemorySegment wT, long wTOff,
                         MemorySegment bias, long biasOff, int cout, int k, int threads) {
        SimdConv.convWide(out, outOff, outStride, oh, qp, in, inOff, inStride, n, cin, plane, wp, wT, wTOff, bias,
                biasOff, cout, k, threads);
    }

    @Override
    public void convWideWeightGrad(MemorySegment dw, long dwOff, MemorySegment dy, long dyOff, long dyStride, int oh,
                                   int ow, MemorySegment in, long inOff, long inStride, int n, int cin, int plane,
                                   int wp, int cout, int k, boolean accumulate, int threads) {
        SimdConv.convWideWeightGrad(dw, dwOff, dy, dyOff, dyStride, oh, ow, in, inOff, inStride, n, cin, plane, wp,
                cout, k, accumulate, threads);
    }

    // ---------------------------------------------------------------- im2col / col2im, stride 1

    @Override
    public void im2col(MemorySegment col, long colOff, int colStride, MemorySegment in, long inOff,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        if (stride != 1) {
            super.im2col(col, colOff, colStride, in, inOff, c, h, w, kh, kw, stride, pad, oh, ow);
            return;
        }
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
                        zero(col, dst, oxLo);
                        copyRow(col, dst + oxLo, in, src + oxLo, oxHi - oxLo);
                        zero(col, dst + oxHi, ow - oxHi);
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

    private static void copyRow(MemorySegment dst, long d, MemorySegment src, long s, long n) {
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

    @Override
    public void col2im(MemorySegment dIn, long dInOff, MemorySegment col, long colOff, int colStride,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        if (stride != 1) {
            super.col2im(dIn, dInOff, col, colOff, colStride, c, h, w, kh, kw, stride, pad, oh, ow);
            return;
        }
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

    private static void zeroRow(MemorySegment s, long off, long n) {
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
    private static void addRow(MemorySegment dst, long d, MemorySegment src, long s, int n) {
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

    // ---------------------------------------------------------------- 2x2 stride-2 max pooling (SimdPooling)

    @Override
    public void maxPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h,
                               int w, int k, int stride, int pad, int oh, int ow) {
        if (!SimdPooling.applies(h, w, k, stride, pad, oh, ow)) {
            super.maxPoolForward(out, outOff, in, inOff, planes, h, w, k, stride, pad, oh, ow);
            return;
        }
        SimdPooling.forward(out, outOff, in, inOff, planes, w, oh, ow);
    }

    @Override
    public void maxPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                                long inOff, int planes, int h, int w, int k, int stride, int pad, int oh, int ow) {
        if (!SimdPooling.applies(h, w, k, stride, pad, oh, ow)) {
            super.maxPoolBackward(dIn, dInOff, dOut, dOutOff, in, inOff, planes, h, w, k, stride, pad, oh, ow);
            return;
        }
        SimdPooling.backward(dIn, dInOff, dOut, dOutOff, in, inOff, planes, w, oh, ow);
    }

    // ---------------------------------------------------------------- convolution bias

    @Override
    public void channelBiasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int channels,
                               int p) {
        for (int ch = 0; ch < channels; ch++) {
            FloatVector bv = FloatVector.broadcast(S, get(bias, biasOff + ch));
            long o = outOff + (long) ch * p;
            int i = 0;
            for (; i <= p - L; i += L) {
                FloatVector.fromMemorySegment(S, out, (o + i) * Float.BYTES, O)
                        .add(bv).intoMemorySegment(out, (o + i) * Float.BYTES, O);
            }
            float b = get(bias, biasOff + ch);
            for (; i < p; i++) {
                set(out, o + i, get(out, o + i) + b);
            }
        }
    }

    @Override
    public void channelSum(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int channels,
                           int p, boolean accumulate) {
        for (int ch = 0; ch < channels; ch++) {
            float s = vsum(dOut, dOutOff + (long) ch * p, p);
            set(dBias, dBiasOff + ch, accumulate ? get(dBias, dBiasOff + ch) + s : s);
        }
    }

    // ---------------------------------------------------------------- batch norm
    // Every loop runs whole vectors and one masked tail (masked accesses in the body stop C2 from keeping the
    // vectors in registers: they allocate and run several times slower).

    @Override
    public void batchNormForward(MemorySegment out, long outOff, MemorySegment in, long inOff, MemorySegment mean,
                                 long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gamma, long gOff,
                                 MemorySegment beta, long betaOff, int n, int c, int s) {
        if (s == 1) {
            for (int i = 0; i < n; i++) {
                long o = (long) i * c;
                int j = 0;
                for (; j <= c - L; j += L) {
                    bn1dForward(out, outOff + o + j, in, inOff + o + j, mean, meanOff + j, rstd, rstdOff + j, gamma,
                            gOff + j, beta, betaOff + j);
                }
                for (; j < c; j++) {
                    float a = get(rstd, rstdOff + j) * get(gamma, gOff + j);
                    set(out, outOff + o + j, (get(in, inOff + o + j) - get(mean, meanOff + j)) * a + get(beta, betaOff + j));
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                float mu = get(mean, meanOff + ch);
                float a = get(rstd, rstdOff + ch) * get(gamma, gOff + ch);
                float bt = get(beta, betaOff + ch);
                long o = ((long) i * c + ch) * s;
                affine(out, outOff + o, in, inOff + o, mu, a, bt, s);
            }
        }
    }

    private static void bn1dForward(MemorySegment out, long o, MemorySegment in, long x, MemorySegment mean, long m,
                                    MemorySegment rstd, long r, MemorySegment g, long gi, MemorySegment beta, long b) {
        FloatVector a = FloatVector.fromMemorySegment(S, rstd, r * Float.BYTES, O)
                .mul(FloatVector.fromMemorySegment(S, g, gi * Float.BYTES, O));
        FloatVector.fromMemorySegment(S, in, x * Float.BYTES, O)
                .sub(FloatVector.fromMemorySegment(S, mean, m * Float.BYTES, O))
                .fma(a, FloatVector.fromMemorySegment(S, beta, b * Float.BYTES, O))
                .intoMemorySegment(out, o * Float.BYTES, O);
    }

    /** out[n] = (in[n] - mu) * a + b. */
    private static void affine(MemorySegment out, long o, MemorySegment in, long x, float mu, float a, float b, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector av = FloatVector.broadcast(S, a);
        FloatVector bv = FloatVector.broadcast(S, b);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O)
                    .sub(muv).fma(av, bv).intoMemorySegment(out, (o + j) * Float.BYTES, O);
        }
        for (; j < n; j++) {
            set(out, o + j, (get(in, x + j) - mu) * a + b);
        }
    }

    @Override
    public void batchNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gamma, long gOff, int n, int c, int s,
                                  boolean batchStats) {
        if (s < L) {
            // [n, c] and tiny planes: the reference loops (per-channel sums over rows do not vectorize along s)
            super.batchNormBackward(dIn, dInOff, dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff, in, inOff, mean,
                    meanOff, rstd, rstdOff, gamma, gOff, n, c, s, batchStats);
            return;
        }
        float count = (float) n * s;
        for (int ch = 0; ch < c; ch++) {
            float mu = get(mean, meanOff + ch);
            float r = get(rstd, rstdOff + ch);
            float sdy = 0f;
            float sdyx = 0f;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                sdy += vsum(dOut, dOutOff + o, s);
                sdyx += dotCentered(dOut, dOutOff + o, in, inOff + o, mu, s) * r;
            }
            set(dGamma, dGammaOff + ch, sdyx);
            set(dBeta, dBetaOff + ch, sdy);
            if (dIn == null) {
                continue;
            }
            float gr = get(gamma, gOff + ch) * r;
            float mdy = batchStats ? sdy / count : 0f;
            float mdyx = batchStats ? sdyx / count : 0f;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                normBackwardRow(dIn, dInOff + o, dOut, dOutOff + o, in, inOff + o, mu, r, gr, mdy, mdyx, s);
            }
        }
    }

    /** Σ dy[j] * (x[j] - mu). */
    private static float dotCentered(MemorySegment dy, long d, MemorySegment x, long xo, float mu, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= n - L; j += L) {
            acc = FloatVector.fromMemorySegment(S, dy, (d + j) * Float.BYTES, O)
                    .fma(FloatVector.fromMemorySegment(S, x, (xo + j) * Float.BYTES, O).sub(muv), acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < n; j++) {
            s += get(dy, d + j) * (get(x, xo + j) - mu);
        }
        return s;
    }

    /** dx[j] = gr * (dy[j] - mdy - (x[j] - mu) * r * mdyx). */
    private static void normBackwardRow(MemorySegment dx, long dxo, MemorySegment dy, long d, MemorySegment x, long xo,
                                        float mu, float r, float gr, float mdy, float mdyx, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector rv = FloatVector.broadcast(S, r);
        FloatVector grv = FloatVector.broadcast(S, gr);
        FloatVector mdyv = FloatVector.broadcast(S, mdy);
        FloatVector mdyxv = FloatVector.broadcast(S, mdyx);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector xh = FloatVector.fromMemorySegment(S, x, (xo + j) * Float.BYTES, O).sub(muv).mul(rv);
            FloatVector.fromMemorySegment(S, dy, (d + j) * Float.BYTES, O)
                    .sub(mdyv).sub(xh.mul(mdyxv)).mul(grv).intoMemorySegment(dx, (dxo + j) * Float.BYTES, O);
        }
        for (; j < n; j++) {
            float xh = (get(x, xo + j) - mu) * r;
            set(dx, dxo + j, gr * (get(dy, d + j) - mdy - xh * mdyx));
        }
    }

    // ---------------------------------------------------------------- layer norm

    @Override
    public void layerNormForward(MemorySegment out, long outOff, MemorySegment mean, long meanOff,
                                 MemorySegment rstd, long rstdOff, MemorySegment in, long inOff,
                                 MemorySegment gammaM1, long gOff, MemorySegment beta, long betaOff, int rows, int c,
                                 float eps) {
        for (int r = 0; r < rows; r++) {
            long o = inOff + (long) r * c;
            float m = vsum(in, o, c) / c;
            float sq = sumSquaredDeviations(in, o, m, c);
            float rs = (float) (1.0 / Math.sqrt(sq / c + eps));
            set(mean, meanOff + r, m);
            set(rstd, rstdOff + r, rs);
            long dst = outOff + (long) r * c;
            int j = 0;
            for (; j <= c - L; j += L) {
                lnForwardVector(out, dst + j, in, o + j, m, rs, gammaM1, gOff + j, beta, betaOff + j);
            }
            for (; j < c; j++) {
                float xh = (get(in, o + j) - m) * rs;
                set(out, dst + j, xh * (1f + get(gammaM1, gOff + j)) + get(beta, betaOff + j));
            }
        }
    }

    private static float sumSquaredDeviations(MemorySegment x, long o, float m, int n) {
        FloatVector mv = FloatVector.broadcast(S, m);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector d = FloatVector.fromMemorySegment(S, x, (o + j) * Float.BYTES, O).sub(mv);
            acc = d.fma(d, acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < n; j++) {
            float d = get(x, o + j) - m;
            s += d * d;
        }
        return s;
    }

    private static void lnForwardVector(MemorySegment out, long o, MemorySegment in, long x, float m, float rs,
                                        MemorySegment g, long gi, MemorySegment beta, long b) {
        FloatVector xh = FloatVector.fromMemorySegment(S, in, x * Float.BYTES, O).sub(m).mul(rs);
        FloatVector gamma = FloatVector.fromMemorySegment(S, g, gi * Float.BYTES, O).add(1f);
        xh.fma(gamma, FloatVector.fromMemorySegment(S, beta, b * Float.BYTES, O)).intoMemorySegment(out, o * Float.BYTES, O);
    }

    @Override
    public void layerNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gammaM1, long gOff, int rows, int c) {
        zero(dGamma, dGammaOff, c);
        zero(dBeta, dBetaOff, c);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * c;
            float m = get(mean, meanOff + r);
            float rs = get(rstd, rstdOff + r);
            // dGamma += dy * x̂, dBeta += dy; the two row sums of g = dy * γ come back through the scratch pair
            float sg = lnParamGradRow(dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff + o, in, inOff + o, gammaM1,
                    gOff, m, rs, c, false);
            float sgx = lnParamGradRow(dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff + o, in, inOff + o, gammaM1,
                    gOff, m, rs, c, true);
            if (dIn != null) {
                lnInputGradRow(dIn, dInOff + o, dOut, dOutOff + o, in, inOff + o, gammaM1, gOff, m, rs, sg / c,
                        sgx / c, c);
            }
        }
    }

    /**
     * One row of the LayerNorm parameter gradients. Called twice per row: first ({@code second} false) it
     * accumulates dGamma and dBeta and returns Σ g; then it returns Σ g·x̂ only. Two small loops keep C2 able to
     * hold every vector in registers (one big loop body made it box them).
     */
    private static float lnParamGradRow(MemorySegment dGamma, long dGammaOff, MemorySegment dBeta, long dBetaOff,
                                        MemorySegment dOut, long d, MemorySegment in, long x, MemorySegment gammaM1,
                                        long gOff, float m, float rs, int c, boolean second) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= c - L; j += L) {
            FloatVector dy = FloatVector.fromMemorySegment(S, dOut, (d + j) * Float.BYTES, O);
            FloatVector g = dy.mul(FloatVector.fromMemorySegment(S, gammaM1, (gOff + j) * Float.BYTES, O).add(1f));
            if (second) {
                acc = g.fma(FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs), acc);
            } else {
                FloatVector xh = FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs);
                dy.fma(xh, FloatVector.fromMemorySegment(S, dGamma, (dGammaOff + j) * Float.BYTES, O))
                        .intoMemorySegment(dGamma, (dGammaOff + j) * Float.BYTES, O);
                FloatVector.fromMemorySegment(S, dBeta, (dBetaOff + j) * Float.BYTES, O)
                        .add(dy).intoMemorySegment(dBeta, (dBetaOff + j) * Float.BYTES, O);
                acc = acc.add(g);
            }
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < c; j++) {
            float dy = get(dOut, d + j);
            float xh = (get(in, x + j) - m) * rs;
            float g = dy * (1f + get(gammaM1, gOff + j));
            if (second) {
                s += g * xh;
            } else {
                set(dGamma, dGammaOff + j, get(dGamma, dGammaOff + j) + dy * xh);
                set(dBeta, dBetaOff + j, get(dBeta, dBetaOff + j) + dy);
                s += g;
            }
        }
        return s;
    }

    /** dx = rstd * (g - mean(g) - x̂ * mean(g·x̂)) for one row. */
    private static void lnInputGradRow(MemorySegment dIn, long dx, MemorySegment dOut, long d, MemorySegment in,
                                       long x, MemorySegment gammaM1, long gOff, float m, float rs, float mg, float mgx,
                                       int c) {
        int j = 0;
        for (; j <= c - L; j += L) {
            FloatVector xh = FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs);
            FloatVector g = FloatVector.fromMemorySegment(S, dOut, (d + j) * Float.BYTES, O)
                    .mul(FloatVector.fromMemorySegment(S, gammaM1, (gOff + j) * Float.BYTES, O).add(1f));
            g.sub(mg).sub(xh.mul(mgx)).mul(rs).intoMemorySegment(dIn, (dx + j) * Float.BYTES, O);
        }
        for (; j < c; j++) {
            float xh = (get(in, x + j) - m) * rs;
            float g = get(dOut, d + j) * (1f + get(gammaM1, gOff + j));
            set(dIn, dx + j, rs * (g - mg - xh * mgx));
        }
    }

    // ---------------------------------------------------------------- embedding

    @Override
    public void embeddingBackward(MemorySegment dTok, long dTokOff, MemorySegment dPos, long dPosOff,
                                  MemorySegment dOut, long dOutOff, MemorySegment ids, long idsOff, int b, int t, int c,
                                  int vocab) {
        zeroRow(dTok, dTokOff, (long) vocab * c);
        zeroRow(dPos, dPosOff, (long) t * c);
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < t; i++) {
                long r = (long) bi * t + i;
                int id = tokenId(ids, idsOff + r, vocab);
                addRow(dTok, dTokOff + (long) id * c, dOut, dOutOff + r * c, c);
                addRow(dPos, dPosOff + (long) i * c, dOut, dOutOff + r * c, c);
            }
        }
    }
}
