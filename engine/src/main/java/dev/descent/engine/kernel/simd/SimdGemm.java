package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.KernelPool;
import dev.descent.engine.kernel.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Packed, register-blocked SGEMM on the Java Vector API (GotoBLAS/BLIS loop structure).
 *
 * <pre>
 * for jc in n step NC                       columns block
 *   for pc in k step kc ({@literal <=} KC, equal steps)  depth block
 *     pack B[pc:+kc, jc:+nc] into NR-wide panels  (k-major: bp[p*NR + j])
 *     for ic in m step MC                   rows block
 *       pack A[ic:+mc, pc:+kc] into MR-tall panels (k-major: ap[p*MR + i])
 *       for jr, ir: micro-kernel MR x NR over kc -> tile -> C (+)= tile
 * </pre>
 * The three layouts differ only in how they pack, so one micro-kernel serves all of them: NN and TN copy
 * vectors, NT (B) and NN/NT (A) transpose 16 x 16 blocks with two-vector permutes. Edges are handled by
 * zero-padding the packed panels: an edge tile is computed in full into a small tile buffer and a separate
 * small method writes its valid part with masked stores. The micro-kernel keeps its 2*MR accumulators in
 * registers and touches C only after its k loop (a kernel that loads/stores C inside the loop can push C1 out
 * of virtual registers, see MEASURED-FACTS). Vectors never cross a method boundary that might not be inlined
 * (they would be boxed). Packing buffers are per thread, grown on demand and reused: no allocation per call
 * in steady state on one thread (tested). With {@code threads > 1} the columns (or rows) are split in panel
 * units over {@link Kernels#pool()} through a reused per-thread task: no allocation per call there either.
 *
 * <p>Tuning knobs (system properties, read once): {@code descent.gemm.kc}, {@code descent.gemm.mc},
 * {@code descent.gemm.nc}.
 */
public final class SimdGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Lanes 0..7 and 8..15: the two 8-float halves that go to two A panels in the transposing pack. */
    private static final VectorMask<Float> LOW_HALF = VectorMask.fromLong(S, 0xFFL);
    private static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(S, 0xFF00L);
    /** The transposing pack moves 16 x 16 blocks when vectors hold 16 floats (and A panels are 8 wide). */
    private static final boolean TRANSPOSE_16 = L == 16;

    /** Micro-tile rows (broadcast side, from packed A). */
    static final int MR = 8;
    /** Micro-tile columns: two vectors (32 floats with 512-bit vectors). */
    static final int NR = 2 * L;
    /**
     * Largest depth of a block (k is cut into equal blocks no deeper than this). Measured: deep blocks win,
     * because every block ends with a pass over C (a read-modify-write that misses cache for big C); at 1024 the
     * kc x NR panel of B and the MR x kc panel of A are streamed from L2, which the prefetchers keep up with.
     */
    static final int KC = Integer.getInteger("descent.gemm.kc", 1024);
    /** Rows per block (a multiple of MR): the packed mc x kc block of A (512 KiB at kc = 1024) stays in L2. */
    static final int MC = roundUp(Integer.getInteger("descent.gemm.mc", 128), MR);
    /** Columns per block (a multiple of NR): the packed kc x nc block of B (4 MiB at most, L3). */
    static final int NC = roundUp(Integer.getInteger("descent.gemm.nc", 1024), NR);
    /** Below this many multiply-adds one thread is faster than handing work to the pool. */
    private static final long PARALLEL_MIN_FMAS = 1L << 21;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SimdGemm() {
    }

    /** Per-thread packing buffers, grown on demand. */
    private static final class Scratch {
        float[] a = new float[0];
        float[] b = new float[0];
        final float[] tile = new float[MR * NR];
        final float[] block = new float[16 * 16];
        final float[] perm = transposePermutations();
        /** The caller's reusable hand-off to the pool (run blocks until every part is done, so one per thread). */
        final Split split = new Split();

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] b(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }

    /** One threaded product cut into column (or row) panels, one part per pool thread; reused, so no allocation. */
    private static final class Split implements KernelPool.Task {
        private boolean aTrans;
        private boolean bTrans;
        private MemorySegment c;
        private long cOff;
        private MemorySegment a;
        private long aOff;
        private MemorySegment b;
        private long bOff;
        private int m;
        private int n;
        private int k;
        private boolean accumulate;
        private boolean splitCols;
        private int nPanels;
        private int mPanels;

        void set(boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
                 MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, boolean splitCols, int nPanels,
                 int mPanels) {
            this.aTrans = aTrans;
            this.bTrans = bTrans;
            this.c = c;
            this.cOff = cOff;
            this.a = a;
            this.aOff = aOff;
            this.b = b;
            this.bOff = bOff;
            this.m = m;
            this.n = n;
            this.k = k;
            this.accumulate = accumulate;
            this.splitCols = splitCols;
            this.nPanels = nPanels;
            this.mPanels = mPanels;
        }

        /** Drops the segment references, so a finished product does not keep its memory reachable. */
        void clear() {
            c = null;
            a = null;
            b = null;
        }

        @Override
        public void run(int part, int count) {
            if (splitCols) {
                int j0 = Math.min(n, (int) ((long) nPanels * part / count) * NR);
                int j1 = Math.min(n, (int) ((long) nPanels * (part + 1) / count) * NR);
                block(aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, 0, m, j0, j1);
            } else {
                int i0 = Math.min(m, (int) ((long) mPanels * part / count) * MR);
                int i1 = Math.min(m, (int) ((long) mPanels * (part + 1) / count) * MR);
                block(aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, i0, i1, 0, n);
            }
        }
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[k,n]. */
    public static void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(false, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[n,k]ᵀ. */
    public static void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(false, true, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[k,m]ᵀ · B[k,n]. */
    public static void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(true, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    // ------------------------------------------------------------------------------------------------ driver

    private static void gemm(boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
                             MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        checkArgs(c, cOff, a, aOff, b, bOff, m, n, k);
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (!accumulate) {
                c.asSlice(cOff * Float.BYTES, (long) m * n * Float.BYTES).fill((byte) 0);
            }
            return;
        }
        KernelPool pool = threads > 1 ? Kernels.pool() : null;
        int parts = pool == null || (long) m * n * k < PARALLEL_MIN_FMAS ? 1 : Math.min(threads, pool.size());
        int nPanels = (n + NR - 1) / NR;
        int mPanels = (m + MR - 1) / MR;
        // Splitting the columns makes every part pack all of A (m*k); splitting the rows, all of B (k*n).
        boolean splitCols = nPanels >= parts && (m <= n || mPanels < parts);
        parts = Math.min(parts, splitCols ? nPanels : mPanels);
        if (parts <= 1) {
            block(aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, 0, m, 0, n);
            return;
        }
        Split task = SCRATCH.get().split;
        task.set(aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, splitCols, nPanels, mPanels);
        try {
            pool.run(parts, task);
        } finally {
            task.clear();
        }
    }

    /** Computes the block C[i0:i1, j0:j1] on the calling thread. */
    private static void block(boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
                              MemorySegment b, long bOff, int m, int n, int k, boolean accumulate,
                              int i0, int i1, int j0, int j1) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        Scratch s = SCRATCH.get();
        // equal depth blocks (k = 1100 -> 2 x 550, not 1024 + 76), a multiple of 16 for the transposing pack
        int kBlocks = (k + KC - 1) / KC;
        int kcStep = Math.min(k, roundUp((k + kBlocks - 1) / kBlocks, 16));
        float[] ap = s.a(kcStep * Math.min(MC, roundUp(i1 - i0, MR)));
        float[] bp = s.b(kcStep * Math.min(NC, roundUp(j1 - j0, NR)));
        float[] tile = s.tile;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                if (bTrans) {   // B[n,k]: B(p, j) at j*k + p
                    packRows(bp, b, bOff + (long) jc * k + pc, k, nc, NR, kc, s);
                } else {        // B[k,n]: B(p, j) at p*n + j
                    packCols(bp, b, bOff + (long) pc * n + jc, n, nc, NR, kc);
                }
                boolean add = accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    if (aTrans) {   // A[k,m]: A(i, p) at p*m + i
                        packCols(ap, a, aOff + (long) pc * m + ic, m, mc, MR, kc);
                    } else {        // A[m,k]: A(i, p) at i*k + p
                        packRows(ap, a, aOff + (long) ic * k + pc, k, mc, MR, kc, s);
                    }
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            long cIdx = cOff + (long) (ic + ir) * n + jc + jr;
                            if (mr == MR && nr == NR) {
                                kernel(kc, ap, ir * kc, bp, jr * kc, c, cIdx * Float.BYTES,
                                        (long) n * Float.BYTES, add);
                            } else {
                                kernelTile(kc, ap, ir * kc, bp, jr * kc, tile);
                                storeTile(tile, c, cIdx, n, mr, nr, add);
                            }
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ micro-kernel

    /**
     * The micro-kernel for a full MR x NR tile: Σ_p ap[p, 0:MR]ᵀ ⊗ bp[p, 0:NR] over {@code kc} steps (per step two
     * vector loads of B, MR broadcasts of A, 2*MR fused multiply-adds into register accumulators), then, after
     * the loop, C (+)= the accumulators at byte offset {@code o}, rows {@code ldcBytes} apart.
     */
    private static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, MemorySegment c, long o,
                               long ldcBytes, boolean add) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = av.fma(b0, c70);
            c71 = av.fma(b1, c71);
        }
        long o1 = o + (long) L * Float.BYTES;
        if (add) {
            c00 = c00.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c01 = c01.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c00.intoMemorySegment(c, o, ORDER);
        c01.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c10 = c10.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c11 = c11.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c10.intoMemorySegment(c, o, ORDER);
        c11.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c20 = c20.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c21 = c21.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c20.intoMemorySegment(c, o, ORDER);
        c21.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c30 = c30.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c31 = c31.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c30.intoMemorySegment(c, o, ORDER);
        c31.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c40 = c40.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c41 = c41.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c40.intoMemorySegment(c, o, ORDER);
        c41.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c50 = c50.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c51 = c51.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c50.intoMemorySegment(c, o, ORDER);
        c51.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c60 = c60.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c61 = c61.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c60.intoMemorySegment(c, o, ORDER);
        c61.intoMemorySegment(c, o1, ORDER);
        o += ldcBytes;
        o1 += ldcBytes;
        if (add) {
            c70 = c70.add(FloatVector.fromMemorySegment(S, c, o, ORDER));
            c71 = c71.add(FloatVector.fromMemorySegment(S, c, o1, ORDER));
        }
        c70.intoMemorySegment(c, o, ORDER);
        c71.intoMemorySegment(c, o1, ORDER);
    }

    /** The same micro-kernel for an edge tile: writes the accumulators to {@code tile[MR, NR]}. */
    private static void kernelTile(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00);
            c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10);
            c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20);
            c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30);
            c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = av.fma(b0, c40);
            c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = av.fma(b0, c50);
            c51 = av.fma(b1, c51);
            av = FloatVector.broadcast(S, ap[ai + 6]);
            c60 = av.fma(b0, c60);
            c61 = av.fma(b1, c61);
            av = FloatVector.broadcast(S, ap[ai + 7]);
            c70 = av.fma(b0, c70);
            c71 = av.fma(b1, c71);
        }
        c00.intoArray(tile, 0 * NR);
        c01.intoArray(tile, 0 * NR + L);
        c10.intoArray(tile, 1 * NR);
        c11.intoArray(tile, 1 * NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        c60.intoArray(tile, 6 * NR);
        c61.intoArray(tile, 6 * NR + L);
        c70.intoArray(tile, 7 * NR);
        c71.intoArray(tile, 7 * NR + L);
    }

    /** C[mr, nr] at float index {@code cIdx} (row stride {@code ldc}) = (add ? C : 0) + tile[0:mr, 0:nr]. */
    private static void storeTile(float[] tile, MemorySegment c, long cIdx, int ldc, int mr, int nr, boolean add) {
        if (nr == NR) {
            for (int r = 0; r < mr; r++) {
                long off = (cIdx + (long) r * ldc) * Float.BYTES;
                FloatVector t0 = FloatVector.fromArray(S, tile, r * NR);
                FloatVector t1 = FloatVector.fromArray(S, tile, r * NR + L);
                if (add) {
                    t0 = t0.add(FloatVector.fromMemorySegment(S, c, off, ORDER));
                    t1 = t1.add(FloatVector.fromMemorySegment(S, c, off + (long) L * Float.BYTES, ORDER));
                }
                t0.intoMemorySegment(c, off, ORDER);
                t1.intoMemorySegment(c, off + (long) L * Float.BYTES, ORDER);
            }
        } else {
            VectorMask<Float> m0 = S.indexInRange(0, nr);
            VectorMask<Float> m1 = S.indexInRange(L, nr);
            for (int r = 0; r < mr; r++) {
                long off = (cIdx + (long) r * ldc) * Float.BYTES;
                long off1 = off + (long) L * Float.BYTES;
                FloatVector t0 = FloatVector.fromArray(S, tile, r * NR);
                if (add) {
                    t0 = t0.add(FloatVector.fromMemorySegment(S, c, off, ORDER, m0));
                }
                t0.intoMemorySegment(c, off, ORDER, m0);
                if (nr > L) {
                    FloatVector t1 = FloatVector.fromArray(S, tile, r * NR + L);
                    if (add) {
                        t1 = t1.add(FloatVector.fromMemorySegment(S, c, off1, ORDER, m1));
                    }
                    t1.intoMemorySegment(c, off1, ORDER, m1);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ packing

    /**
     * Packs a source whose panel lanes run along the contiguous direction: lane {@code j} (of {@code cols} valid,
     * in panels of {@code w}) at step {@code p} is {@code src[off + p*ld + j]}. Writes panels of {@code kc * w}
     * floats, {@code dst[panel*kc*w + p*w + lane]}, zero-padding the lanes past {@code cols}.
     */
    private static void packCols(float[] dst, MemorySegment src, long off, int ld, int cols, int w, int kc) {
        for (int j = 0; j < cols; j += w) {
            int valid = Math.min(w, cols - j);
            int base = j * kc;
            for (int t = 0; t < w; t += L) {
                int lanes = Math.min(L, w - t);          // lanes of this vector inside the panel
                VectorMask<Float> load = S.indexInRange(t, valid);
                VectorMask<Float> store = S.indexInRange(0, lanes);
                VectorMask<Float> both = load.and(store);
                long srcByte = (off + j + t) * Float.BYTES;
                int d = base + t;
                if (lanes == L && t + L <= valid) {
                    for (int p = 0; p < kc; p++, srcByte += (long) ld * Float.BYTES, d += w) {
                        FloatVector.fromMemorySegment(S, src, srcByte, ORDER).intoArray(dst, d);
                    }
                } else {
                    for (int p = 0; p < kc; p++, srcByte += (long) ld * Float.BYTES, d += w) {
                        FloatVector.fromMemorySegment(S, src, srcByte, ORDER, both).intoArray(dst, d, store);
                    }
                }
            }
        }
    }

    /**
     * Packs a source whose panel lanes are separate rows (a transposing pack): lane {@code i} (of {@code rows}
     * valid, in panels of {@code w}) at step {@code p} is {@code src[off + i*ld + p]}. With 16-lane vectors it
     * moves 16 x 16 blocks: 16 row vectors into {@code s.block}, a transpose there, then one vector per step
     * (or two halves for 8-wide panels) into the panels; the k tail, and every k on other vector sizes, is
     * copied element by element. Lanes past {@code rows} are zero-filled.
     */
    private static void packRows(float[] dst, MemorySegment src, long off, int ld, int rows, int w, int kc,
                                 Scratch s) {
        int kcVec = TRANSPOSE_16 ? kc - kc % 16 : 0;
        int rowsPadded = roundUp(rows, w);
        float[] t = s.block;
        for (int i0 = 0; i0 < rowsPadded; i0 += 16) {
            boolean second = i0 + 8 < rowsPadded;      // 8-wide panels: rows i0+8.. are another panel
            int validRows = Math.min(16, rows - i0);
            long rowByte = (off + (long) i0 * ld) * Float.BYTES;
            for (int p0 = 0; p0 < kcVec; p0 += 16) {
                long srcByte = rowByte + (long) p0 * Float.BYTES;
                for (int g = 0; g < 4; g++) {
                    transposeLoad(t, g, src, srcByte, (long) ld * Float.BYTES, validRows, s.perm);
                }
                for (int g = 0; g < 4; g++) {
                    if (w >= 16) {
                        transposeStore(t, g, dst, (i0 / w) * w * kc + i0 % w + (p0 + 4 * g) * w, w, -1, s.perm);
                    } else {
                        transposeStore(t, g, dst, i0 * kc + (p0 + 4 * g) * 8, 8,
                                second ? (i0 + 8) * kc + (p0 + 4 * g) * 8 : -1, s.perm);
                    }
                }
            }
            for (int row = i0; row < Math.min(i0 + 16, rowsPadded); row++) {
                int d = (row / w) * w * kc + row % w;
                long srcByte = (off + (long) row * ld) * Float.BYTES;
                for (int p = kcVec; p < kc; p++) {
                    dst[d + p * w] = row < rows ? src.get(F, srcByte + (long) p * Float.BYTES) : 0f;
                }
            }
        }
    }

    /**
     * First half of a 16 x 16 transpose (rows r = row index, lanes = step index): loads source rows g, g+4, g+8,
     * g+12 (zero past {@code validRows}), applies the butterfly stages d = 8 and 4 (swap the off-diagonal d x d
     * sub-blocks with two-vector permutes) and parks the four vectors in {@code t}.
     */
    private static void transposeLoad(float[] t, int g, MemorySegment src, long srcByte, long ldBytes,
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
     * step q of the 16 source rows, stored at {@code dst[d + (q - 4g) * w]}. For 8-wide panels the upper eight
     * lanes go to the next panel at {@code d1} (none when -1).
     */
    private static void transposeStore(float[] t, int g, float[] dst, int d, int w, int d1, float[] perm) {
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
        if (w >= 16) {
            px.selectFrom(y0, y1).intoArray(dst, d);
            py.selectFrom(y0, y1).intoArray(dst, d + w);
            px.selectFrom(y2, y3).intoArray(dst, d + 2 * w);
            py.selectFrom(y2, y3).intoArray(dst, d + 3 * w);
        } else {    // lanes 0..7 to this panel, lanes 8..15 to the next one (masked stores; d1 - 8 >= 0 here)
            FloatVector z0 = px.selectFrom(y0, y1);
            FloatVector z1 = py.selectFrom(y0, y1);
            FloatVector z2 = px.selectFrom(y2, y3);
            FloatVector z3 = py.selectFrom(y2, y3);
            z0.intoArray(dst, d, LOW_HALF);
            z1.intoArray(dst, d + 8, LOW_HALF);
            z2.intoArray(dst, d + 16, LOW_HALF);
            z3.intoArray(dst, d + 24, LOW_HALF);
            if (d1 >= 0) {
                z0.intoArray(dst, d1 - 8, HIGH_HALF);
                z1.intoArray(dst, d1, HIGH_HALF);
                z2.intoArray(dst, d1 + 8, HIGH_HALF);
                z3.intoArray(dst, d1 + 16, HIGH_HALF);
            }
        }
    }

    /** Index vectors of the transpose stages d = 8, 4, 2, 1: x'[l] = l has bit d ? y[l-d] : x[l]; y'[l] = l has bit d ? y[l] : x[l+d]. */
    private static float[] transposePermutations() {
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

    // ------------------------------------------------------------------------------------------------ checks

    private static int roundUp(int x, int multiple) {
        return (x + multiple - 1) / multiple * multiple;
    }

    private static void checkArgs(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                                  int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k);
        }
        checkRange("c", c, cOff, (long) m * n);
        checkRange("a", a, aOff, (long) m * k);
        checkRange("b", b, bOff, (long) k * n);
    }

    private static void checkRange(String name, MemorySegment s, long off, long floats) {
        if (off < 0 || (off + floats) * Float.BYTES > s.byteSize()) {
            throw new IndexOutOfBoundsException("gemm operand " + name + ": offset " + off + " + " + floats
                    + " floats exceeds the segment of " + s.byteSize() / Float.BYTES + " floats");
        }
    }
}
