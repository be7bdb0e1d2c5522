package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.GemmSelection;
import dev.descent.engine.kernel.GemmShape;
import dev.descent.engine.kernel.GemmTile;
import dev.descent.engine.kernel.KernelPool;
import dev.descent.engine.kernel.Kernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
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
 * The register tile MR x NR (and with it the micro-kernel) and the blocking KC/MC/NC come from a {@link GemmShape}
 * ({@link Plan}): by default the one {@link GemmSelection} picks for this machine at start-up (vector width,
 * register count, caches, the tuning file of {@code descent tune}); any other can be forced per backend instance
 * ({@link SimdKernels#SimdKernels(GemmShape)}), which is how the tests run every tile on one machine and the tuner
 * compares them. The micro-kernels are in {@link SimdMicroKernels}, one method per tile.
 * The three layouts differ only in how they pack, so one micro-kernel (in two variants) serves all of them: NN
 * and TN copy B's vectors, TN copies A's vectors into MR-wide k-major panels, NN and NT copy A's rows as they are
 * (the micro-kernel's {@code rows} variant broadcasts from MR row streams: a plain copy, no transpose), and NT
 * transposes B in 16 x 16 blocks with two-vector permutes (16-float native vectors), in 8 x 8 blocks with one-vector
 * permutes and blends (8-float vectors: AVX2), element by element otherwise. Packing uses the native vector width
 * whatever the tile's. Edges are handled by zero-padding the packed panels: every tile is computed in full into a
 * small per-thread tile buffer and a separate small method adds its valid part into C (masked stores at the edges). Keeping C out of the
 * micro-kernel keeps it small enough for C1 (see {@link SimdMicroKernels}). Vectors never cross a method boundary that
 * might not be inlined (they would be boxed). Packing buffers are per thread, grown on demand and reused: no allocation per call
 * in steady state on one thread (tested). With {@code threads > 1} the columns (or rows) are split in panel
 * units over {@link Kernels#pool()} through a reused per-thread task: no allocation per call there either.
 *
 * <p>Tuning knobs (system properties, read once): {@code descent.gemm.shape}, {@code descent.gemm.kc},
 * {@code descent.gemm.mc}, {@code descent.gemm.nc} (see {@link GemmSelection}).
 */
public final class SimdGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** The transposing pack moves 16 x 16 blocks when vectors hold 16 floats. */
    private static final boolean TRANSPOSE_16 = L == 16;
    /** The transposing pack moves 8 x 8 blocks when vectors hold 8 floats (AVX2). */
    private static final boolean TRANSPOSE_8 = L == 8;
    /**
     * {@link #transpose8}'s stages d = 4, 2, 1: lane l takes lane l - d ({@code DOWN}) or l + d ({@code UP}) mod 8,
     * and the lanes with bit d ({@code HIGH}). Separate constants, not arrays: C2 folds a static final field.
     */
    private static final VectorShuffle<Float> DOWN4 = stageShuffle(-4), DOWN2 = stageShuffle(-2),
            DOWN1 = stageShuffle(-1), UP4 = stageShuffle(4), UP2 = stageShuffle(2), UP1 = stageShuffle(1);
    private static final VectorMask<Float> HIGH4 = stageMask(4), HIGH2 = stageMask(2), HIGH1 = stageMask(1);
    /** Floats of the largest tile: the size of the per-thread edge-tile buffer. */
    private static final int MAX_TILE_FLOATS = maxTileFloats();

    /** The shape this JVM runs by default, chosen once ({@link GemmSelection}). */
    static final Plan DEFAULT = new Plan(GemmSelection.select(S.vectorBitSize()));
    /** Below this many multiply-adds one thread is faster than handing work to the pool. */
    private static final long PARALLEL_MIN_FMAS = 1L << 21;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private SimdGemm() {
    }

    /** The widest native vectors, in bits. */
    static int preferredBits() {
        return S.vectorBitSize();
    }

    /**
     * A {@link GemmShape} ready for the driver: the tile's sizes, the kernel id, and the blocking rounded to the
     * tile (mc to a multiple of MR, nc of NR). Immutable; one per backend instance.
     */
    static final class Plan {
        final GemmShape shape;
        final int kernel;
        /** Micro-tile rows (broadcast side, from packed A). */
        final int mr;
        /** Micro-tile columns (vector side, from packed B). */
        final int nr;
        /**
         * Largest depth of a block (k is cut into equal blocks no deeper than this). Measured: deep blocks win,
         * because every block ends with a pass over C (a read-modify-write that misses cache for big C).
         */
        final int kc;
        /** Rows per block (a multiple of MR): the packed mc x kc block of A stays in L2. */
        final int mc;
        /** Columns per block (a multiple of NR): the packed kc x nc block of B stays in L3. */
        final int nc;

        Plan(GemmShape shape) {
            this.shape = shape;
            GemmTile t = shape.tile();
            this.kernel = t.id();
            this.mr = t.rows();
            this.nr = t.cols();
            this.kc = shape.kc();
            this.mc = roundUp(shape.mc(), mr);
            this.nc = roundUp(shape.nc(), nr);
        }
    }

    /**
     * Per-thread packing buffers, sized for the largest blocks of the default plan from the start (512 KiB and 4 MiB
     * with kc=1024, mc=128, nc=1024) and grown on demand for other plans. Not grown per shape: C2 compiles
     * {@link #block} from the warm-up thread's profile, where the growth branch had long stopped being taken, so a
     * thread's first product with bigger blocks (each new worker thread's first product) hit an uncommon trap; the
     * whole compiled product was thrown away and that call ran on in the interpreter (a width-1024 worker's first
     * step then took ~0.4 s against ~25 ms).
     */
    private static final class Scratch {
        float[] a = new float[DEFAULT.kc * DEFAULT.mc];
        float[] b = new float[DEFAULT.kc * DEFAULT.nc];
        /** The micro-kernel's output, MR x NR (plus a vector of slack for storeTile's masked reads). */
        final float[] tile = new float[MAX_TILE_FLOATS + L];
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
        private Plan plan;
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

        void set(Plan plan, boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
                 MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, boolean splitCols, int nPanels,
                 int mPanels) {
            this.plan = plan;
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
            plan = null;
            c = null;
            a = null;
            b = null;
        }

        @Override
        public void run(int part, int count) {
            if (splitCols) {
                int j0 = Math.min(n, (int) ((long) nPanels * part / count) * plan.nr);
                int j1 = Math.min(n, (int) ((long) nPanels * (part + 1) / count) * plan.nr);
                block(plan, aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, 0, m, j0, j1);
            } else {
                int i0 = Math.min(m, (int) ((long) mPanels * part / count) * plan.mr);
                int i1 = Math.min(m, (int) ((long) mPanels * (part + 1) / count) * plan.mr);
                block(plan, aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, i0, i1, 0, n);
            }
        }
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[k,n]. */
    public static void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(DEFAULT, false, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[n,k]ᵀ. */
    public static void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(DEFAULT, false, true, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[k,m]ᵀ · B[k,n]. */
    public static void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        gemm(DEFAULT, true, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    // ------------------------------------------------------------------------------------------------ driver

    /** The product in the layout given by the two flags, with {@code plan}'s tile and blocking. */
    static void gemm(Plan plan, boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
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
        int nPanels = (n + plan.nr - 1) / plan.nr;
        int mPanels = (m + plan.mr - 1) / plan.mr;
        // Splitting the columns makes every part pack all of A (m*k); splitting the rows, all of B (k*n).
        boolean splitCols = nPanels >= parts && (m <= n || mPanels < parts);
        parts = Math.min(parts, splitCols ? nPanels : mPanels);
        if (parts <= 1) {
            block(plan, aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, 0, m, 0, n);
            return;
        }
        Split task = SCRATCH.get().split;
        task.set(plan, aTrans, bTrans, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, splitCols, nPanels, mPanels);
        try {
            pool.run(parts, task);
        } finally {
            task.clear();
        }
    }

    /** Computes the block C[i0:i1, j0:j1] on the calling thread. */
    private static void block(Plan plan, boolean aTrans, boolean bTrans, MemorySegment c, long cOff, MemorySegment a, long aOff,
                              MemorySegment b, long bOff, int m, int n, int k, boolean accumulate,
                              int i0, int i1, int j0, int j1) {
        if (i0 >= i1 || j0 >= j1) {
            return;
        }
        Scratch s = SCRATCH.get();
        final int mr = plan.mr, nr = plan.nr, mcMax = plan.mc, ncMax = plan.nc, id = plan.kernel;
        // equal depth blocks (k = 1100 -> 2 x 550, not 1024 + 76), a multiple of 16 for the transposing pack
        int kBlocks = (k + plan.kc - 1) / plan.kc;
        int kcStep = Math.min(k, roundUp((k + kBlocks - 1) / kBlocks, 16));
        float[] ap = s.a(kcStep * Math.min(mcMax, roundUp(i1 - i0, mr)));
        float[] bp = s.b(kcStep * Math.min(ncMax, roundUp(j1 - j0, nr)));
        float[] tile = s.tile;
        for (int jc = j0; jc < j1; jc += ncMax) {
            int nc = Math.min(ncMax, j1 - jc);
            for (int pc = 0; pc < k; pc += kcStep) {
                int kc = Math.min(kcStep, k - pc);
                if (bTrans) {   // B[n,k]: B(p, j) at j*k + p
                    packRows(bp, b, bOff + (long) jc * k + pc, k, nc, nr, kc, s);
                } else {        // B[k,n]: B(p, j) at p*n + j
                    packCols(bp, b, bOff + (long) pc * n + jc, n, nc, nr, kc);
                }
                boolean add = accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += mcMax) {
                    int mc = Math.min(mcMax, i1 - ic);
                    if (aTrans) {   // A[k,m]: A(i, p) at p*m + i
                        packCols(ap, a, aOff + (long) pc * m + ic, m, mc, mr, kc);
                    } else {        // A[m,k]: A(i, p) at i*k + p; rows copied as they are, no transpose
                        copyRows(ap, a, aOff + (long) ic * k + pc, k, mc, mr, kc);
                    }
                    for (int jr = 0; jr < nc; jr += nr) {
                        int cols = Math.min(nr, nc - jr);
                        for (int ir = 0; ir < mc; ir += mr) {
                            int rows = Math.min(mr, mc - ir);
                            long cIdx = cOff + (long) (ic + ir) * n + jc + jr;
                            if (aTrans) {
                                SimdMicroKernels.run(id, kc, ap, ir * kc, bp, jr * kc, tile);
                            } else {
                                SimdMicroKernels.runRows(id, kc, ap, ir * kc, kc, bp, jr * kc, tile);
                            }
                            storeTile(tile, nr, c, cIdx, n, rows, cols, add);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------ tile to C

    /**
     * C[rows, cols] at float index {@code cIdx} (row stride {@code ldc}) = (add ? C : 0) + tile[0:rows, 0:cols],
     * the tile's rows {@code nr} floats apart. Full tiles take the unmasked branch only; edge tiles mask the
     * last vector of each row (C's load and store; the tile is read whole).
     */
    private static void storeTile(float[] tile, int nr, MemorySegment c, long cIdx, int ldc, int rows, int cols,
                                  boolean add) {
        for (int r = 0; r < rows; r++) {
            long off = (cIdx + (long) r * ldc) * Float.BYTES;
            int t = r * nr;
            for (int j = 0; j < cols; j += L, off += (long) L * Float.BYTES, t += L) {
                if (j + L <= cols) {
                    FloatVector v = FloatVector.fromArray(S, tile, t);
                    if (add) {
                        v = v.add(FloatVector.fromMemorySegment(S, c, off, ORDER));
                    }
                    v.intoMemorySegment(c, off, ORDER);
                } else {
                    // the tile buffer has a vector of slack: an unmasked read (lanes past cols are never stored;
                    // a masked array read took the Vector API's slow lane-checking path here)
                    VectorMask<Float> mask = S.indexInRange(j, cols);
                    FloatVector v = FloatVector.fromArray(S, tile, t);
                    if (add) {
                        v = v.add(FloatVector.fromMemorySegment(S, c, off, ORDER, mask));
                    }
                    v.intoMemorySegment(c, off, ORDER, mask);
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
        // whole panels row by row: each source row read once, in order (a strip per panel and step walks the source
        // 4*ld bytes apart, one cache line per load: 20% of an NN 128x512x512 product on an Intel Xeon, now ~10% less
        // time for the product); the last, partial panel strip by strip below
        int full = 0;
        if (w % L == 0) {
            full = cols - cols % w;
            for (int p = 0; p < kc; p++) {
                long srcByte = (off + (long) p * ld) * Float.BYTES;
                for (int j = 0, d = p * w; j < full; j += w, d += kc * w) {
                    for (int t = 0; t < w; t += L) {
                        FloatVector.fromMemorySegment(S, src, srcByte + (long) (j + t) * Float.BYTES, ORDER)
                                .intoArray(dst, d + t);
                    }
                }
            }
        }
        for (int j = full; j < cols; j += w) {
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
     * Copies {@code rows} rows of {@code kc} floats ({@code src[off + i*ld + p]}) to {@code dst[i*kc + p]}, zero-filling
     * rows up to the next multiple of {@code w}: A for {@link SimdMicroKernels#runRows}, which broadcasts from each
     * row as it is (a plain copy instead of a transposing pack).
     */
    private static void copyRows(float[] dst, MemorySegment src, long off, int ld, int rows, int w, int kc) {
        for (int i = 0; i < rows; i++) {
            MemorySegment.copy(src, F, (off + (long) i * ld) * Float.BYTES, dst, i * kc, kc);
        }
        int padded = roundUp(rows, w);
        if (padded > rows) {
            Arrays.fill(dst, rows * kc, padded * kc, 0f);
        }
    }

    /**
     * Packs a source whose panel lanes are separate rows (a transposing pack): lane {@code i} (of {@code rows}
     * valid, in panels of {@code w}) at step {@code p} is {@code src[off + i*ld + p]}. With 16-lane vectors it
     * moves 16 x 16 blocks: a block of 16 valid rows in one panel ({@code w} a multiple of 16, as for every
     * 512-bit tile's B) is transposed in registers ({@link #transpose16}); any other block goes as 16 row vectors
     * into {@code s.block}, a transpose there, then one vector per step into the panels, or its lanes split with
     * masked stores over the panels the 16 rows fall into (any other width: 4, 6, 8, 12; and the last rows). With
     * 8-lane vectors (AVX2) a block of 8 valid rows in one panel goes through {@link #transpose8}. The k tail, the
     * other blocks of 8-lane vectors and every k on other vector sizes are copied element by element. Lanes past
     * {@code rows} are zero-filled.
     */
    private static void packRows(float[] dst, MemorySegment src, long off, int ld, int rows, int w, int kc,
                                 Scratch s) {
        int rowsPadded = roundUp(rows, w);
        float[] t = s.block;
        int height = TRANSPOSE_8 ? 8 : 16; // rows per block
        for (int i0 = 0; i0 < rowsPadded; i0 += height) {
            int validRows = Math.min(height, rows - i0);
            long rowByte = (off + (long) i0 * ld) * Float.BYTES;
            int panelBase = (i0 / w) * w * kc + i0 % w;
            int kcVec = 0; // steps moved by vectors; the rest element by element below
            if (TRANSPOSE_16) {
                kcVec = kc - kc % 16;
                boolean whole = validRows == 16 && w % 16 == 0; // the block lies in one panel: no masks, no zero rows
                for (int p0 = 0; p0 < kcVec; p0 += 16) {
                    long srcByte = rowByte + (long) p0 * Float.BYTES;
                    if (whole) {
                        transpose16(dst, panelBase + p0 * w, w, 16, src, srcByte, (long) ld * Float.BYTES, s.perm);
                        continue;
                    }
                    for (int g = 0; g < 4; g++) {
                        transposeLoad(t, g, src, srcByte, (long) ld * Float.BYTES, validRows, s.perm);
                    }
                    for (int g = 0; g < 4; g++) {
                        transposeStore(t, g, dst, i0, p0 + 4 * g, w, kc, rowsPadded, s.perm);
                    }
                }
            } else if (TRANSPOSE_8 && validRows == 8 && w % 8 == 0) { // 8 valid rows in one panel
                kcVec = kc - kc % 8;
                for (int p0 = 0; p0 < kcVec; p0 += 8) {
                    transpose8(dst, panelBase + p0 * w, w, src, rowByte + (long) p0 * Float.BYTES,
                            (long) ld * Float.BYTES);
                }
            }
            for (int row = i0; row < Math.min(i0 + height, rowsPadded); row++) {
                int d = (row / w) * w * kc + row % w;
                long srcByte = (off + (long) row * ld) * Float.BYTES;
                for (int p = kcVec; p < kc; p++) {
                    dst[d + p * w] = row < rows ? src.get(F, srcByte + (long) p * Float.BYTES) : 0f;
                }
            }
        }
    }

    /**
     * An 8 x 8 block in registers (8-lane vectors, 8 valid rows, {@code w} a multiple of 8): loads source rows 0..7,
     * applies the butterfly stages d = 4, 2, 1 and stores vector r, step {@code r} of the 8 rows, at
     * {@code dst[d0 + r*w]}. Each stage swaps the off-diagonal d x d sub-blocks of the pairs (r, r + d) with one-source
     * lane moves and blends ({@code vpermps}, {@code vblendps} on AVX2, which has no two-source permute: the
     * {@code selectFrom} pair of {@link #transpose16} falls back to Java there).
     */
    private static void transpose8(float[] dst, int d0, int w, MemorySegment src, long srcByte, long ldBytes) {
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
     * step {@code p + q - 4g} of the 16 source rows {@code i0..i0+15}, whose lane l goes to panel (i0+l)/w at
     * {@code dst[panel*w*kc + step*w + (i0+l)%w]}: one plain store per step when w is a multiple of 16, else one
     * masked store per panel the rows fall into (up to {@code rowsPadded}).
     */
    private static void transposeStore(float[] t, int g, float[] dst, int i0, int p, int w, int kc, int rowsPadded,
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
    static float[] transposePermutations() {
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

    private static int maxTileFloats() {
        int max = 0;
        for (GemmTile t : GemmTile.ALL) {
            max = Math.max(max, t.rows() * t.cols());
        }
        return max;
    }

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
