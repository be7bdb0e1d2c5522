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
 * small per-thread tile buffer and a separate small method adds its valid part into C (masked stores at the edges).
 * Keeping C out of the micro-kernel keeps it small enough for C1 (see {@link SimdMicroKernels}). Vectors never cross
 * a method boundary that might not be inlined (they would be boxed). Packing buffers are per thread, grown on demand
 * and reused: no allocation per call in steady state on one thread (tested). With {@code threads > 1} the columns (or
 * rows) are split in panel units over {@link Kernels#pool()} through a reused per-thread task: no allocation per call
 * there either.
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
        /** One source row of {@link #packCols}' whole panels (grown on demand). */
        float[] row = new float[DEFAULT.nc];
        final float[] perm = SimdTranspose.permutations();
        /** The caller's reusable hand-off to the pool (run blocks until every part is done, so one per thread). */
        final Split split = new Split();

        float[] a(int size) {
            if (a.length < size) {
                a = new float[size];
            }
            return a;
        }

        float[] row(int size) {
            if (row.length < size) {
                row = new float[size];
            }
            return row;
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
                    packCols(bp, b, bOff + (long) pc * n + jc, n, nc, nr, kc, s);
                }
                boolean add = accumulate || pc > 0;
                for (int ic = i0; ic < i1; ic += mcMax) {
                    int mc = Math.min(mcMax, i1 - ic);
                    if (aTrans) {   // A[k,m]: A(i, p) at p*m + i
                        packCols(ap, a, aOff + (long) pc * m + ic, m, mc, mr, kc, s);
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
    private static void packCols(float[] dst, MemorySegment src, long off, int ld, int cols, int w, int kc,
                                 Scratch s) {
        // whole panels row by row: each source row read once, in order (a strip per panel and step walks the source
        // 4*ld bytes apart, one cache line per load: 20% of an NN 128x512x512 product on an Intel Xeon, now ~10% less
        // time for the product); the last, partial panel strip by strip below.
        // The row goes through a heap copy: vectors loaded from the segment and stored straight into the panels were,
        // in about half the runs of a two-worker job, compiled by C2 with every vector boxed (~9 MB of garbage per
        // worker step, ~20% of the job's speed). C2 inlines a segment load late, so it typed the loaded vector by the
        // receiver profile of FloatVector.intoArray, one profile for every caller in the JVM, which in those runs
        // also held 256-bit vectors: two receiver types, a boxed vector. Array to array, the vectors' type is known
        // while C2 parses them (as in the micro-kernels, which never showed it).
        int full = 0;
        if (w % L == 0) {
            full = cols - cols % w;
            float[] row = s.row(full);
            for (int p = 0; p < kc; p++) {
                MemorySegment.copy(src, F, (off + (long) p * ld) * Float.BYTES, row, 0, full);
                for (int j = 0, d = p * w; j < full; j += w, d += kc * w) {
                    for (int t = 0; t < w; t += L) {
                        FloatVector.fromArray(S, row, j + t).intoArray(dst, d + t);
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
     * 512-bit tile's B) is transposed in registers ({@link SimdTranspose#transpose16}); any other block goes in two
     * halves through {@code s.block}, then one vector per step into the panels, or its lanes split with masked
     * stores over the panels the 16 rows fall into (any other width: 4, 6, 8, 12; and the last rows). With 8-lane
     * vectors (AVX2) a block of 8 valid rows in one panel goes through {@link SimdTranspose#transpose8}. The k tail,
     * the other blocks of 8-lane vectors and every k on other vector sizes are copied element by element. Lanes past
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
                        SimdTranspose.transpose16(dst, panelBase + p0 * w, w, 16, src, srcByte, (long) ld * Float.BYTES,
                                s.perm);
                        continue;
                    }
                    for (int g = 0; g < 4; g++) {
                        SimdTranspose.transposeLoad(t, g, src, srcByte, (long) ld * Float.BYTES, validRows, s.perm);
                    }
                    for (int g = 0; g < 4; g++) {
                        SimdTranspose.transposeStore(t, g, dst, i0, p0 + 4 * g, w, kc, rowsPadded, s.perm);
                    }
                }
            } else if (TRANSPOSE_8 && validRows == 8 && w % 8 == 0) { // 8 valid rows in one panel
                kcVec = kc - kc % 8;
                for (int p0 = 0; p0 < kcVec; p0 += 8) {
                    SimdTranspose.transpose8(dst, panelBase + p0 * w, w, src, rowByte + (long) p0 * Float.BYTES,
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
