package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.KernelPool;
import dev.descent.engine.kernel.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct stride-1 convolution over wide planes (see {@code LayerKernels.convWide}): no unfold. A zero-padded input
 * plane of width {@code wp} read at {@code q + ky*wp + kx} is the whole receptive field of output position {@code q}
 * of a plane of the same width, so a block of outputs is a run of contiguous vectors and one kernel offset
 * {@code (ci, ky, kx)} is one shifted vector load per vector of outputs. The columns {@code x >= ow} of a wide
 * output row are garbage that the caller drops.
 *
 * <p>Register tiles from the vector shape. Forward: 8 output channels x 2 vectors of positions with 16-float vectors
 * (AVX-512: 16 accumulators of 32 registers; per kernel offset 2 loads and 8 broadcasts per 16 FMAs, the GEMM
 * micro-kernel's ratio), 4 x 2 with 8-float or narrower ones (AVX2: 8 accumulators of 16 registers; 4 x 3 and 6 x 2,
 * 12 accumulators, ran 1.45-1.55x slower under {@code -XX:UseAVX=2}, 3 x 3 about the same as 4 x 2). Weight gradient:
 * 12 kernel offsets x 2 channel vectors (24 accumulators), 6 x 2 on narrow machines. Channels past the last full
 * tile run the same kernel on zero-padded weights (forward) or gradient rows (weight gradient) and only their rows
 * are stored; kernel offsets past the last tile read offset 0 and are dropped.
 *
 * <p>As the GEMM micro-kernels ({@link SimdMicroKernels}), the kernels read and write only float[] (each call copies
 * its input samples, its kernel and its dY, transposed, first: a small fraction of its work) and keep stores and
 * bias out of the kernel: a kernel with 16 segment stores inside was too big for C1 ("out of virtual registers in
 * LIR generator") and then stayed in a slow tier. No vector crosses a method boundary.
 *
 * <p>Every output is summed in one fixed order that depends on the vector length only, never on timing or the
 * thread count: forward parts split the samples, weight-gradient parts the kernel offsets, and each output is
 * written by one thread.
 */
final class SimdConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    /** Wide tiles (>= 16-float vectors) or narrow (4 x 3). */
    private static final boolean WIDE = L >= 16;
    /** Output channels per tile (forward and weight gradient). */
    static final int MR = WIDE ? 8 : 4;
    /** Vectors of output positions per forward tile. */
    private static final int NV = 2;
    /** Output positions per forward tile: the granularity of the wide planes. */
    private static final int TILE_Q = NV * L;
    /** Fewer FMAs than this run on the caller alone (as SimdGemm). */
    private static final long PARALLEL_MIN_FMAS = 1L << 21;

    /** Per-thread scratch: the kernel (or dWᵀ), input copies, transposed dY, kernel offsets, a tile, gather maps. */
    private static final class Scratch {
        float[] w = new float[0];
        float[] x = new float[0];
        float[] g = new float[0];
        final float[] tile = new float[Math.max(MR * TILE_Q, GE * GV * L)];
        /** Two geometries: a layer's backward alternates its forward geometry (dW) and its transposed one (dX). */
        final Shifts[] shifts = {new Shifts(), new Shifts()};
        int lastUsed;

        float[] w(int n) {
            if (w.length < n) {
                w = new float[n];
            }
            return w;
        }

        float[] x(long n) {
            if (x.length < n) {
                x = new float[Math.toIntExact(n)];
            }
            return x;
        }

        float[] rows = new float[0];
        int[] strides = new int[L];
        int[] strides2 = new int[L];
        int stride = -1;
        int stride2 = -1;

        /** {i * step} for the lanes i (a gather's index map), kept for the last step. */
        int[] strides(int step) {
            if (stride != step) {
                for (int i = 0; i < L; i++) {
                    strides[i] = i * step;
                }
                stride = step;
            }
            return strides;
        }

        /** A second index map (two are used in one call). */
        int[] strides2(int step) {
            if (stride2 != step) {
                for (int i = 0; i < L; i++) {
                    strides2[i] = i * step;
                }
                stride2 = step;
            }
            return strides2;
        }

        float[] rows(int n) {
            if (rows.length < n) {
                rows = new float[n];
            }
            return rows;
        }

        float[] g(long n) {
            if (g.length < n) {
                g = new float[Math.toIntExact(n)];
            }
            return g;
        }

        /**
         * shifts[(ci*k + ky)*k + kx] = ci*plane + ky*wp + kx, then 0 up to {@code length} (tiles past the last
         * offset read valid input and are dropped), kept for the last two geometries.
         */
        int[] shifts(int cin, int plane, int wp, int k, int length) {
            for (int i = 0; i < shifts.length; i++) {
                Shifts t = shifts[i];
                if (t.cin == cin && t.plane == plane && t.wp == wp && t.k == k && t.v.length >= length) {
                    lastUsed = i;
                    return t.v;
                }
            }
            lastUsed = 1 - lastUsed;
            Shifts t = shifts[lastUsed];
            int kk = k * k;
            if (t.v.length < Math.max(length, cin * kk)) {
                t.v = new int[Math.max(length, cin * kk)];
            }
            for (int e = 0; e < cin * kk; e++) {
                int ci = e / kk;
                int r = e - ci * kk;
                t.v[e] = ci * plane + r / k * wp + r % k;
            }
            java.util.Arrays.fill(t.v, cin * kk, t.v.length, 0);
            t.cin = cin;
            t.plane = plane;
            t.wp = wp;
            t.k = k;
            return t.v;
        }
    }

    private static final class Shifts {
        int[] v = new int[0];
        int cin = -1;
        int plane;
        int wp;
        int k;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SimdConv() {
    }

    private static int parts(int threads, long fmas, int units) {
        if (threads <= 1 || fmas < PARALLEL_MIN_FMAS) {
            return 1;
        }
        KernelPool pool = Kernels.pool();
        return Math.max(1, Math.min(Math.min(threads, pool.size()), units));
    }

    /** Floats of one input sample the kernels read: up to the last tile's last shifted vector. */
    private static long reach(int cin, int plane, int wp, int k, int qp) {
        return (long) (cin - 1) * plane + qp + (long) (k - 1) * (wp + 1);
    }

    // ---------------------------------------------------------------- forward
    //
    // Two ways to cover a wide plane with tiles of NV vectors. Flat: the vectors of a tile are consecutive, tiles
    // cover positions [0, oh*wp) rounded up to TILE_Q. By rows (when an output row fits in one vector, ow <= L, and
    // it computes fewer positions): vector j of a tile starts row r0 + j, so each row is one vector whose lanes past
    // ow are garbage. On the default CNN's second layer (14 x 14 outputs in rows of 18) flat computes 256 positions
    // per channel and by rows 224, for 196 real ones; on a 16 x 16 3x3 layer 288 and 256.

    /** Tiles by rows for this geometry (see above). */
    private static boolean byRows(int oh, int wp, int k) {
        int ow = wp - k + 1;
        return ow <= L && (long) roundUp(oh, NV) * L < roundUp(oh * wp, TILE_Q);
    }

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /** Floats of a wide output plane that {@link #convWide} writes: at least oh*wp. */
    static int widePlane(int oh, int wp, int k) {
        if (byRows(oh, wp, k)) {
            return Math.max(oh * wp, (roundUp(oh, NV) - 1) * wp + L);
        }
        return roundUp(oh * wp, TILE_Q);
    }

    static void convWide(MemorySegment out, long outOff, long outStride, int oh, int qp, MemorySegment in, long inOff,
                         long inStride, int n, int cin, int plane, int wp, MemorySegment wT, long wTOff,
                         MemorySegment bias, long biasOff, int cout, int k, int threads) {
        int need = widePlane(oh, wp, k);
        if (qp < need) {
            throw new IllegalArgumentException("convWide: planes of " + qp + " floats, need " + need + " for " + oh
                    + " rows of " + wp);
        }
        Scratch sc = SCRATCH.get();
        int ckk = cin * k * k;
        int blocks = (cout + MR - 1) / MR;
        int cp = blocks * MR;
        // the kernel as it is, [ckk, cout], rows padded with zeros to whole tiles: one bulk copy when cout fills them
        float[] w = sc.w(ckk * cp);
        if (cp == cout) {
            MemorySegment.copy(wT, F, wTOff * Float.BYTES, w, 0, ckk * cout);
        } else {
            for (int e = 0; e < ckk; e++) {
                MemorySegment.copy(wT, F, (wTOff + (long) e * cout) * Float.BYTES, w, e * cp, cout);
                java.util.Arrays.fill(w, e * cp + cout, (e + 1) * cp, 0f);
            }
        }
        int[] shifts = sc.shifts(cin, plane, wp, k, ckk);
        int reach = Math.toIntExact(reach(cin, plane, wp, k, need));
        boolean rows = byRows(oh, wp, k);
        int vs = rows ? wp : L;                      // floats from one vector of a tile to the next
        int step = rows ? NV * wp : TILE_Q;          // from one tile to the next
        int end = rows ? roundUp(oh, NV) * wp : need; // tiles start below this
        int parts = parts(threads, (long) n * cout * need * ckk, n);
        if (parts <= 1) {
            forwardSamples(out, outOff, outStride, qp, vs, step, end, in, inOff, inStride, 0, n, reach, w, blocks,
                    shifts, ckk, bias, biasOff, cout);
            return;
        }
        Kernels.pool().run(parts, (part, np) -> forwardSamples(out, outOff, outStride, qp, vs, step, end, in, inOff,
                inStride, n * part / np, n * (part + 1) / np, reach, w, blocks, shifts, ckk, bias, biasOff, cout));
    }

    private static void forwardSamples(MemorySegment out, long outOff, long outStride, int qp, int vs, int step,
                                       int end, MemorySegment in, long inOff, long inStride, int lo, int hi, int reach,
                                       float[] w, int blocks, int[] shifts, int ckk, MemorySegment bias, long biasOff,
                                       int cout) {
        Scratch sc = SCRATCH.get();
        float[] x = sc.x(reach);
        float[] tile = sc.tile;
        for (int s = lo; s < hi; s++) {
            MemorySegment.copy(in, F, (inOff + s * inStride) * Float.BYTES, x, 0, reach);
            long o = outOff + s * outStride;
            for (int b = 0; b < blocks; b++) {
                int co = b * MR;
                int rows = Math.min(MR, cout - co);
                for (int q = 0; q < end; q += step) {
                    if (WIDE) {
                        fwd8x2(tile, x, q, vs, shifts, ckk, w, co, blocks * MR);
                    } else {
                        fwd4x2(tile, x, q, vs, shifts, ckk, w, co, blocks * MR);
                    }
                    storeTile(out, o + (long) co * qp + q, qp, vs, tile, rows, bias, biasOff + co);
                }
            }
        }
    }

    /**
     * out[m*qp + j*vs + l] = tile[m*TILE_Q + j*L + l] + bias[m] for the first {@code rows} channels of a tile, its
     * vectors j {@code vs} floats apart.
     */
    private static void storeTile(MemorySegment out, long o, int qp, int vs, float[] tile, int rows,
                                  MemorySegment bias, long b) {
        for (int m = 0; m < rows; m++) {
            FloatVector bv = FloatVector.broadcast(S, bias == null ? 0f : bias.getAtIndex(F, b + m));
            long ob = (o + (long) m * qp) * Float.BYTES;
            for (int j = 0; j < NV; j++) {
                FloatVector.fromArray(S, tile, m * TILE_Q + j * L).add(bv)
                        .intoMemorySegment(out, ob + (long) j * vs * Float.BYTES, O);
            }
        }
    }

    // ---------------------------------------------------------------- weight gradient
    //
    // dWᵀ[e, co] = Σ_s Σ_q x_s[q + shift(e)] * dy_s[co, q]: with dy transposed to gT[q, co] by gathers (output channels
    // padded to a multiple of GV vectors, zeros in the garbage columns), each position q is a rank-1 update of a tile of
    // GE kernel offsets x GV channel vectors, as the forward's (broadcast one operand, load the other): no lane sums
    // and the same load/FMA ratio. A first version summed along q in the lanes (8 channels x 3 offsets of
    // dot products, then a sum of the lanes per weight) and ran at about half the forward's speed.

    /** Kernel offsets per weight-gradient tile. */
    private static final int GE = WIDE ? 12 : 6;
    /** Channel vectors per weight-gradient tile. */
    private static final int GV = 2;

    static void convWideWeightGrad(MemorySegment dw, long dwOff, MemorySegment dy, long dyOff, long dyStride, int oh,
                                   int ow, MemorySegment in, long inOff, long inStride, int n, int cin, int plane,
                                   int wp, int cout, int k, boolean accumulate, int threads) {
        Scratch sc = SCRATCH.get();
        int ckk = cin * k * k;
        int cp = (cout + GV * L - 1) / (GV * L) * (GV * L);
        int eTiles = (ckk + GE - 1) / GE;
        int qw = oh * wp; // wide positions: the rank-1 updates run over these (garbage columns carry 0)
        int p = oh * ow;
        int reach = Math.toIntExact(reach(cin, plane, wp, k, qw));
        long gs = (long) qw * cp;
        float[] g = sc.g(n * gs);
        float[] x = sc.x((long) n * reach);
        float[] rows = sc.rows(cout * p);
        int[] byChannel = sc.strides(p); // gathers channel co = i at i*p
        for (int s = 0; s < n; s++) {
            MemorySegment.copy(in, F, (inOff + s * inStride) * Float.BYTES, x, s * reach, reach);
            MemorySegment.copy(dy, F, (dyOff + s * dyStride) * Float.BYTES, rows, 0, cout * p);
            transposeWide(g, Math.toIntExact(s * gs), cp, rows, byChannel, cout, oh, ow, wp);
        }
        int[] shifts = sc.shifts(cin, plane, wp, k, eTiles * GE);
        float[] dwT = sc.w(eTiles * GE * cp);
        java.util.Arrays.fill(dwT, 0, eTiles * GE * cp, 0f);
        int parts = parts(threads, (long) n * cout * qw * ckk, eTiles);
        if (parts <= 1) {
            gradTiles(dwT, cp, g, gs, qw, x, reach, n, shifts, 0, eTiles);
        } else {
            Kernels.pool().run(parts, (part, np) -> gradTiles(dwT, cp, g, gs, qw, x, reach, n, shifts,
                    eTiles * part / np, eTiles * (part + 1) / np));
        }
        // dW[co, e] (+)= dWᵀ[e, co]: transposed by gathers into rows, then one bulk copy or a vector add
        int[] byOffset = sc.strides2(cp); // gathers offset e + i at (e + i)*cp
        float[] out = sc.rows(cout * ckk);
        for (int co = 0; co < cout; co++) {
            int e = 0;
            for (; e <= ckk - L; e += L) {
                FloatVector.fromArray(S, dwT, e * cp + co, byOffset, 0).intoArray(out, co * ckk + e);
            }
            for (; e < ckk; e++) {
                out[co * ckk + e] = dwT[e * cp + co];
            }
        }
        if (!accumulate) {
            MemorySegment.copy(out, 0, dw, F, dwOff * Float.BYTES, cout * ckk);
            return;
        }
        int i = 0;
        long base = dwOff * Float.BYTES;
        for (; i <= cout * ckk - L; i += L) {
            long at = base + (long) i * Float.BYTES;
            FloatVector.fromMemorySegment(S, dw, at, O).add(FloatVector.fromArray(S, out, i)).intoMemorySegment(dw, at, O);
        }
        for (; i < cout * ckk; i++) {
            dw.setAtIndex(F, dwOff + i, dw.getAtIndex(F, dwOff + i) + out[i]);
        }
    }

    /**
     * gT[q*cp + co] (from g0) = dy[co, oy, ox] for q = oy*wp + ox with ox < ow, else 0; channels past cout 0. Whole
     * vectors of channels are gathered ({@code byChannel[i] = i*oh*ow}), the rest copied one by one.
     */
    private static void transposeWide(float[] g, int g0, int cp, float[] rows, int[] byChannel, int cout, int oh,
                                      int ow, int wp) {
        int p = oh * ow;
        int whole = cout / L * L;
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < wp; ox++) {
                int gi = g0 + (oy * wp + ox) * cp;
                if (ox >= ow) {
                    java.util.Arrays.fill(g, gi, gi + cp, 0f);
                    continue;
                }
                int src = oy * ow + ox;
                for (int co = 0; co < whole; co += L) {
                    FloatVector.fromArray(S, rows, co * p + src, byChannel, 0).intoArray(g, gi + co);
                }
                for (int co = whole; co < cout; co++) {
                    g[gi + co] = rows[co * p + src];
                }
                for (int co = cout; co < cp; co++) {
                    g[gi + co] = 0f;
                }
            }
        }
    }

    /** dWᵀ rows of kernel-offset tiles [lo, hi), summed over the samples in order. */
    private static void gradTiles(float[] dwT, int cp, float[] g, long gs, int qp, float[] x, int xs, int n,
                                  int[] shifts, int lo, int hi) {
        float[] tile = SCRATCH.get().tile;
        for (int s = 0; s < n; s++) {
            int gi = Math.toIntExact(s * gs);
            for (int t = lo; t < hi; t++) {
                int e0 = t * GE;
                for (int cv = 0; cv < cp; cv += GV * L) {
                    if (WIDE) {
                        dwt12x2(tile, cp, e0, gi + cv, x, s * xs, g, qp, shifts);
                    } else {
                        dwt6x2(tile, cp, e0, gi + cv, x, s * xs, g, qp, shifts);
                    }
                    for (int i = 0; i < GE; i++) {
                        int at = (e0 + i) * cp + cv;
                        for (int j = 0; j < GV * L; j += L) {
                            FloatVector.fromArray(S, tile, i * GV * L + j).add(FloatVector.fromArray(S, dwT, at + j))
                                    .intoArray(dwT, at + j);
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------- tile kernels, written out (no templates in Java)

    /** 8 channels x 2 vectors of positions into {@code tile[8, 2L]}: Σ_e w[wi + e*ws + m] * x[xi + shifts[e] + j*vs]. */
    private static void fwd8x2(float[] tile, float[] x, int xi, int vs, int[] shifts, int ckk, float[] w,
                               int wi, int ws) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        FloatVector a40 = FloatVector.zero(S);
        FloatVector a41 = FloatVector.zero(S);
        FloatVector a50 = FloatVector.zero(S);
        FloatVector a51 = FloatVector.zero(S);
        FloatVector a60 = FloatVector.zero(S);
        FloatVector a61 = FloatVector.zero(S);
        FloatVector a70 = FloatVector.zero(S);
        FloatVector a71 = FloatVector.zero(S);
        for (int e = 0; e < ckk; e++, wi += ws) {
            int xo = xi + shifts[e];
            FloatVector x0 = FloatVector.fromArray(S, x, xo);
            FloatVector x1 = FloatVector.fromArray(S, x, xo + vs);
            FloatVector v = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(v, a00);
            a01 = x1.fma(v, a01);
            v = FloatVector.broadcast(S, w[wi + 1]);
            a10 = x0.fma(v, a10);
            a11 = x1.fma(v, a11);
            v = FloatVector.broadcast(S, w[wi + 2]);
            a20 = x0.fma(v, a20);
            a21 = x1.fma(v, a21);
            v = FloatVector.broadcast(S, w[wi + 3]);
            a30 = x0.fma(v, a30);
            a31 = x1.fma(v, a31);
            v = FloatVector.broadcast(S, w[wi + 4]);
            a40 = x0.fma(v, a40);
            a41 = x1.fma(v, a41);
            v = FloatVector.broadcast(S, w[wi + 5]);
            a50 = x0.fma(v, a50);
            a51 = x1.fma(v, a51);
            v = FloatVector.broadcast(S, w[wi + 6]);
            a60 = x0.fma(v, a60);
            a61 = x1.fma(v, a61);
            v = FloatVector.broadcast(S, w[wi + 7]);
            a70 = x0.fma(v, a70);
            a71 = x1.fma(v, a71);
        }
        a00.intoArray(tile, 0 * L);
        a01.intoArray(tile, 0 * L + 1 * L);
        a10.intoArray(tile, 2 * L);
        a11.intoArray(tile, 2 * L + 1 * L);
        a20.intoArray(tile, 4 * L);
        a21.intoArray(tile, 4 * L + 1 * L);
        a30.intoArray(tile, 6 * L);
        a31.intoArray(tile, 6 * L + 1 * L);
        a40.intoArray(tile, 8 * L);
        a41.intoArray(tile, 8 * L + 1 * L);
        a50.intoArray(tile, 10 * L);
        a51.intoArray(tile, 10 * L + 1 * L);
        a60.intoArray(tile, 12 * L);
        a61.intoArray(tile, 12 * L + 1 * L);
        a70.intoArray(tile, 14 * L);
        a71.intoArray(tile, 14 * L + 1 * L);
    }

    /**
     * tile[i, j*L ..] = Σ_q x[xi + q + shifts[e0 + i]] * gT[q*cp + cv + j*L ..] over q < qp for 12 kernel offsets
     * x 2 vectors of output channels: a rank-1 update per position (broadcasts of the input), no lane sums.
     */
    private static void dwt12x2(float[] tile, int cp, int e0, int cv, float[] x, int xi, float[] gT, int qp,
                                 int[] shifts) {
        int x0 = xi + shifts[e0 + 0];
        int x1 = xi + shifts[e0 + 1];
        int x2 = xi + shifts[e0 + 2];
        int x3 = xi + shifts[e0 + 3];
        int x4 = xi + shifts[e0 + 4];
        int x5 = xi + shifts[e0 + 5];
        int x6 = xi + shifts[e0 + 6];
        int x7 = xi + shifts[e0 + 7];
        int x8 = xi + shifts[e0 + 8];
        int x9 = xi + shifts[e0 + 9];
        int x10 = xi + shifts[e0 + 10];
        int x11 = xi + shifts[e0 + 11];
        FloatVector a0_0 = FloatVector.zero(S);
        FloatVector a0_1 = FloatVector.zero(S);
        FloatVector a1_0 = FloatVector.zero(S);
        FloatVector a1_1 = FloatVector.zero(S);
        FloatVector a2_0 = FloatVector.zero(S);
        FloatVector a2_1 = FloatVector.zero(S);
        FloatVector a3_0 = FloatVector.zero(S);
        FloatVector a3_1 = FloatVector.zero(S);
        FloatVector a4_0 = FloatVector.zero(S);
        FloatVector a4_1 = FloatVector.zero(S);
        FloatVector a5_0 = FloatVector.zero(S);
        FloatVector a5_1 = FloatVector.zero(S);
        FloatVector a6_0 = FloatVector.zero(S);
        FloatVector a6_1 = FloatVector.zero(S);
        FloatVector a7_0 = FloatVector.zero(S);
        FloatVector a7_1 = FloatVector.zero(S);
        FloatVector a8_0 = FloatVector.zero(S);
        FloatVector a8_1 = FloatVector.zero(S);
        FloatVector a9_0 = FloatVector.zero(S);
        FloatVector a9_1 = FloatVector.zero(S);
        FloatVector a10_0 = FloatVector.zero(S);
        FloatVector a10_1 = FloatVector.zero(S);
        FloatVector a11_0 = FloatVector.zero(S);
        FloatVector a11_1 = FloatVector.zero(S);
        for (int q = 0, gi = cv; q < qp; q++, gi += cp) {
            FloatVector g0 = FloatVector.fromArray(S, gT, gi);
            FloatVector g1 = FloatVector.fromArray(S, gT, gi + 1 * L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + q]);
            a0_0 = g0.fma(v, a0_0);
            a0_1 = g1.fma(v, a0_1);
            v = FloatVector.broadcast(S, x[x1 + q]);
            a1_0 = g0.fma(v, a1_0);
            a1_1 = g1.fma(v, a1_1);
            v = FloatVector.broadcast(S, x[x2 + q]);
            a2_0 = g0.fma(v, a2_0);
            a2_1 = g1.fma(v, a2_1);
            v = FloatVector.broadcast(S, x[x3 + q]);
            a3_0 = g0.fma(v, a3_0);
            a3_1 = g1.fma(v, a3_1);
            v = FloatVector.broadcast(S, x[x4 + q]);
            a4_0 = g0.fma(v, a4_0);
            a4_1 = g1.fma(v, a4_1);
            v = FloatVector.broadcast(S, x[x5 + q]);
            a5_0 = g0.fma(v, a5_0);
            a5_1 = g1.fma(v, a5_1);
            v = FloatVector.broadcast(S, x[x6 + q]);
            a6_0 = g0.fma(v, a6_0);
            a6_1 = g1.fma(v, a6_1);
            v = FloatVector.broadcast(S, x[x7 + q]);
            a7_0 = g0.fma(v, a7_0);
            a7_1 = g1.fma(v, a7_1);
            v = FloatVector.broadcast(S, x[x8 + q]);
            a8_0 = g0.fma(v, a8_0);
            a8_1 = g1.fma(v, a8_1);
            v = FloatVector.broadcast(S, x[x9 + q]);
            a9_0 = g0.fma(v, a9_0);
            a9_1 = g1.fma(v, a9_1);
            v = FloatVector.broadcast(S, x[x10 + q]);
            a10_0 = g0.fma(v, a10_0);
            a10_1 = g1.fma(v, a10_1);
            v = FloatVector.broadcast(S, x[x11 + q]);
            a11_0 = g0.fma(v, a11_0);
            a11_1 = g1.fma(v, a11_1);
        }
        a0_0.intoArray(tile, 0 * L);
        a0_1.intoArray(tile, 1 * L);
        a1_0.intoArray(tile, 2 * L);
        a1_1.intoArray(tile, 3 * L);
        a2_0.intoArray(tile, 4 * L);
        a2_1.intoArray(tile, 5 * L);
        a3_0.intoArray(tile, 6 * L);
        a3_1.intoArray(tile, 7 * L);
        a4_0.intoArray(tile, 8 * L);
        a4_1.intoArray(tile, 9 * L);
        a5_0.intoArray(tile, 10 * L);
        a5_1.intoArray(tile, 11 * L);
        a6_0.intoArray(tile, 12 * L);
        a6_1.intoArray(tile, 13 * L);
        a7_0.intoArray(tile, 14 * L);
        a7_1.intoArray(tile, 15 * L);
        a8_0.intoArray(tile, 16 * L);
        a8_1.intoArray(tile, 17 * L);
        a9_0.intoArray(tile, 18 * L);
        a9_1.intoArray(tile, 19 * L);
        a10_0.intoArray(tile, 20 * L);
        a10_1.intoArray(tile, 21 * L);
        a11_0.intoArray(tile, 22 * L);
        a11_1.intoArray(tile, 23 * L);
    }

    /**
     * tile[i, j*L ..] = Σ_q x[xi + q + shifts[e0 + i]] * gT[q*cp + cv + j*L ..] over q < qp for 6 kernel offsets
     * x 2 vectors of output channels: a rank-1 update per position (broadcasts of the input), no lane sums.
     */
    private static void dwt6x2(float[] tile, int cp, int e0, int cv, float[] x, int xi, float[] gT, int qp,
                                 int[] shifts) {
        int x0 = xi + shifts[e0 + 0];
        int x1 = xi + shifts[e0 + 1];
        int x2 = xi + shifts[e0 + 2];
        int x3 = xi + shifts[e0 + 3];
        int x4 = xi + shifts[e0 + 4];
        int x5 = xi + shifts[e0 + 5];
        FloatVector a0_0 = FloatVector.zero(S);
        FloatVector a0_1 = FloatVector.zero(S);
        FloatVector a1_0 = FloatVector.zero(S);
        FloatVector a1_1 = FloatVector.zero(S);
        FloatVector a2_0 = FloatVector.zero(S);
        FloatVector a2_1 = FloatVector.zero(S);
        FloatVector a3_0 = FloatVector.zero(S);
        FloatVector a3_1 = FloatVector.zero(S);
        FloatVector a4_0 = FloatVector.zero(S);
        FloatVector a4_1 = FloatVector.zero(S);
        FloatVector a5_0 = FloatVector.zero(S);
        FloatVector a5_1 = FloatVector.zero(S);
        for (int q = 0, gi = cv; q < qp; q++, gi += cp) {
            FloatVector g0 = FloatVector.fromArray(S, gT, gi);
            FloatVector g1 = FloatVector.fromArray(S, gT, gi + 1 * L);
            FloatVector v = FloatVector.broadcast(S, x[x0 + q]);
            a0_0 = g0.fma(v, a0_0);
            a0_1 = g1.fma(v, a0_1);
            v = FloatVector.broadcast(S, x[x1 + q]);
            a1_0 = g0.fma(v, a1_0);
            a1_1 = g1.fma(v, a1_1);
            v = FloatVector.broadcast(S, x[x2 + q]);
            a2_0 = g0.fma(v, a2_0);
            a2_1 = g1.fma(v, a2_1);
            v = FloatVector.broadcast(S, x[x3 + q]);
            a3_0 = g0.fma(v, a3_0);
            a3_1 = g1.fma(v, a3_1);
            v = FloatVector.broadcast(S, x[x4 + q]);
            a4_0 = g0.fma(v, a4_0);
            a4_1 = g1.fma(v, a4_1);
            v = FloatVector.broadcast(S, x[x5 + q]);
            a5_0 = g0.fma(v, a5_0);
            a5_1 = g1.fma(v, a5_1);
        }
        a0_0.intoArray(tile, 0 * L);
        a0_1.intoArray(tile, 1 * L);
        a1_0.intoArray(tile, 2 * L);
        a1_1.intoArray(tile, 3 * L);
        a2_0.intoArray(tile, 4 * L);
        a2_1.intoArray(tile, 5 * L);
        a3_0.intoArray(tile, 6 * L);
        a3_1.intoArray(tile, 7 * L);
        a4_0.intoArray(tile, 8 * L);
        a4_1.intoArray(tile, 9 * L);
        a5_0.intoArray(tile, 10 * L);
        a5_1.intoArray(tile, 11 * L);
    }

    /** 4 channels x 2 vectors of positions into {@code tile[4, 2L]}: Σ_e w[wi + e*4 + m] * x[xi + shifts[e] + j*L]. */
    private static void fwd4x2(float[] tile, float[] x, int xi, int vs, int[] shifts, int ckk, float[] w,
                               int wi, int ws) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = FloatVector.zero(S);
        FloatVector a10 = FloatVector.zero(S);
        FloatVector a11 = FloatVector.zero(S);
        FloatVector a20 = FloatVector.zero(S);
        FloatVector a21 = FloatVector.zero(S);
        FloatVector a30 = FloatVector.zero(S);
        FloatVector a31 = FloatVector.zero(S);
        for (int e = 0; e < ckk; e++, wi += ws) {
            int xo = xi + shifts[e];
            FloatVector x0 = FloatVector.fromArray(S, x, xo);
            FloatVector x1 = FloatVector.fromArray(S, x, xo + vs);
            FloatVector v = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(v, a00);
            a01 = x1.fma(v, a01);
            v = FloatVector.broadcast(S, w[wi + 1]);
            a10 = x0.fma(v, a10);
            a11 = x1.fma(v, a11);
            v = FloatVector.broadcast(S, w[wi + 2]);
            a20 = x0.fma(v, a20);
            a21 = x1.fma(v, a21);
            v = FloatVector.broadcast(S, w[wi + 3]);
            a30 = x0.fma(v, a30);
            a31 = x1.fma(v, a31);
        }
        a00.intoArray(tile, 0 * L);
        a01.intoArray(tile, 0 * L + 1 * L);
        a10.intoArray(tile, 2 * L);
        a11.intoArray(tile, 2 * L + 1 * L);
        a20.intoArray(tile, 4 * L);
        a21.intoArray(tile, 4 * L + 1 * L);
        a30.intoArray(tile, 6 * L);
        a31.intoArray(tile, 6 * L + 1 * L);
    }
}
