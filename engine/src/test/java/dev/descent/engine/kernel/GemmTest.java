package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The SIMD GEMM against the scalar reference, in the three layouts, with and without accumulate, on one and
 * two threads, at nonzero offsets and at sizes that hit every edge of the packing and the micro-tile.
 *
 * <p>Tolerance. The reference sums in double, so it is the exact result rounded once; the SIMD kernel sums
 * k products in float (fused multiply-adds, in kc-long blocks, then adds blocks into C). Each rounding error
 * is at most eps/2 times a partial sum, and every partial sum is bounded by S = |C0| + Σ_p |A(i,p)||B(p,j)|,
 * so the worst case is about k*eps*S; independent roundings add up like a random walk, ~sqrt(k)*eps*S. We
 * allow 2*(sqrt(k)+1)*eps*S + eps*S (the final rounding). That is far above what a correct kernel reaches
 * (its partial sums are much smaller than S), and far below the effect of any indexing bug: dropping or
 * duplicating a single product changes the result by about S/k, and 3*sqrt(k)*eps*S < S/k for every k here
 * (k <= 2100: 3*46*1.2e-7 = 1.7e-5 vs 1/2100 = 4.8e-4).
 */
class GemmTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final float EPS = Math.ulp(1.0f);

    enum Layout { NN, NT, TN }

    static Stream<Arguments> shapes() {
        int[][] mnk = {
                {1, 1, 1}, {7, 7, 7}, {17, 17, 17}, {33, 33, 33}, {65, 65, 65}, {129, 129, 129},
                {1, 1023, 7}, {1023, 1, 17}, {7, 17, 1023}, {17, 33, 65}, {65, 129, 33}, {129, 7, 300},
                {8, 32, 256}, {16, 64, 257}, {9, 31, 513}, {130, 300, 20}, {40, 1023, 3}, {300, 70, 129},
                {128, 10, 128}, {2, 3, 1}, {5, 40, 2100}, {33, 70, 1100}, {3, 1100, 20}, {9, 2049, 5}
        };
        Stream.Builder<Arguments> out = Stream.builder();
        int seed = 0;
        for (int[] s : mnk) {
            for (Layout layout : Layout.values()) {
                out.add(Arguments.of(layout, s[0], s[1], s[2], seed % 2 == 0, 1 + seed % 3 % 2, seed));
                seed++;
            }
        }
        return out.build();
    }

    @ParameterizedTest(name = "{0} m={1} n={2} k={3} accumulate={4} threads={5}")
    @MethodSource("shapes")
    void simdShouldMatchScalarReference(Layout layout, int m, int n, int k, boolean accumulate, int threads,
                                        int seed) {
        compare(layout, m, n, k, accumulate, threads, seed);
        compare(layout, m, n, k, !accumulate, 3 - threads, seed + 1000);
    }

    @Test
    void simdShouldMatchScalarOnLargeSquareTwoThreads() {
        for (Layout layout : Layout.values()) {
            compare(layout, 257, 1023, 300, true, 2, 77);
            compare(layout, 200, 130, 1500, false, 2, 78);   // several row blocks, two depth blocks
        }
    }

    /**
     * A product split over two threads (by columns, or by rows when m is the larger side; two column blocks and two
     * depth blocks in the first shape, odd edges) gives exactly the bits of one thread: the split never changes how
     * an element is summed.
     */
    @Test
    void twoThreadsShouldGiveTheBitsOfOne() {
        int seed = 90;
        for (Layout layout : Layout.values()) {
            for (int[] s : new int[][] {{259, 1100, 1100}, {1000, 90, 1000}, {130, 700, 740}}) {
                assertTwoThreadsGiveTheBitsOfOne(Kernels.simd(), layout, s[0], s[1], s[2], seed++);
            }
        }
    }

    /** C (+)= A·B on two threads and on one, from the same random C, A and B: the results must be identical. */
    static void assertTwoThreadsGiveTheBitsOfOne(KernelBackend simd, Layout layout, int m, int n, int k, int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c1 = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE);
             OffHeapBlock c2 = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            random(a.segment(), 0, (long) m * k, rnd);
            random(b.segment(), 0, (long) k * n, rnd);
            random(c1.segment(), 0, (long) m * n, rnd);
            MemorySegment.copy(c1.segment(), 0, c2.segment(), 0, (long) m * n * Float.BYTES);
            boolean accumulate = seed % 2 == 0;
            gemm(simd, layout, c1.segment(), 0, a.segment(), 0, b.segment(), 0, m, n, k, accumulate, 1);
            gemm(simd, layout, c2.segment(), 0, a.segment(), 0, b.segment(), 0, m, n, k, accumulate, 2);
            assertThat(c2.segment().mismatch(c1.segment()))
                    .as("%s %s m=%d n=%d k=%d accumulate=%s: first byte that differs",
                            simd.gemmShape().map(GemmShape::describe).orElse(simd.name()), layout, m, n, k, accumulate)
                    .isEqualTo(-1L);
        }
    }

    @Test
    void scalarShouldComputeASmallProductExactly() {
        // [2x3]·[3x2] with integers: exact in float, the three layouts must agree with hand-computed values.
        float[] a = {1, 2, 3, 4, 5, 6};             // A [2,3]
        float[] b = {7, 8, 9, 10, 11, 12};          // B [3,2]
        float[] expected = {58, 64, 139, 154};
        float[] aT = {1, 4, 2, 5, 3, 6};            // Aᵀ stored as [3,2]
        float[] bT = {7, 9, 11, 8, 10, 12};         // Bᵀ stored as [2,3]
        for (KernelBackend backend : new KernelBackend[] {Kernels.scalar(), Kernels.simd()}) {
            assertThat(run(backend, Layout.NN, a, b, 2, 2, 3)).containsExactly(expected);
            assertThat(run(backend, Layout.NT, a, bT, 2, 2, 3)).containsExactly(expected);
            assertThat(run(backend, Layout.TN, aT, b, 2, 2, 3)).containsExactly(expected);
        }
    }

    @Test
    void shouldOverwriteGarbageWhenNotAccumulatingAndZeroForEmptyDepth() {
        int m = 19, n = 45, k = 0;
        try (OffHeapBlock c = OffHeapBlock.allocateFloats(m * n, Purpose.WORKSPACE);
             OffHeapBlock ab = OffHeapBlock.allocateFloats(1, Purpose.WORKSPACE)) {
            fill(c.segment(), 0, m * n, Float.NaN);
            Kernels.simd().gemmNN(c.segment(), 0, ab.segment(), 0, ab.segment(), 0, m, n, k, false, 1);
            for (int i = 0; i < m * n; i++) {
                assertThat(c.segment().getAtIndex(F, i)).isZero();
            }
        }
    }

    /**
     * One-thread GEMMs allocate nothing once compiled (packing buffers are per thread and reused; vectors must
     * not be boxed). Until C2 has compiled the kernels the Vector API allocates in the slower tiers, so the
     * test repeats windows of products, within a time bound, until one window allocates zero bytes.
     */
    @Test
    void shouldNotAllocateInSteadyStateOnOneThread() {
        int m = 72, n = 100, k = 90;
        KernelBackend simd = Kernels.simd();
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment as = a.segment(), bs = b.segment(), cs = c.segment();
            long allocated = allocatedOnceWarm(() -> {
                simd.gemmNN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                simd.gemmNT(cs, 0, as, 0, bs, 0, m, n, k, true, 1);
                simd.gemmTN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                simd.gemmNN(cs, 0, as, 0, bs, 0, m - 5, n - 7, k - 3, true, 1);
            });
            assertThat(allocated).as("bytes allocated by 200 warm one-thread GEMMs").isZero();
        }
    }

    /**
     * Threaded GEMMs hand their parts to the pool through a reused per-thread task: the calling thread allocates
     * nothing per product once compiled (it used to create a capturing lambda per call).
     */
    @Test
    void shouldNotAllocateOnTheCallingThreadWhenThreaded() {
        int m = 128, n = 256, k = 128;   // above the size that is worth splitting
        KernelBackend simd = Kernels.simd();
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment as = a.segment(), bs = b.segment(), cs = c.segment();
            long allocated = allocatedOnceWarm(() -> {
                simd.gemmNN(cs, 0, as, 0, bs, 0, m, n, k, false, 2);
                simd.gemmNT(cs, 0, as, 0, as, 0, m, m, k, true, 2);
            });
            assertThat(allocated).as("bytes allocated on the calling thread by 100 warm two-thread GEMMs").isZero();
        }
    }

    /**
     * Bytes this thread allocates over 50 runs of {@code products}, repeated (up to 60 s) until a window allocates
     * nothing: the Vector API allocates until C2 has compiled the kernels.
     */
    static long allocatedOnceWarm(Runnable products) {
        com.sun.management.ThreadMXBean mx =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long deadline = System.nanoTime() + 60_000_000_000L;
        long allocated;
        do {
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 50; i++) {
                products.run();
            }
            allocated = mx.getCurrentThreadAllocatedBytes() - before;
        } while (allocated != 0 && System.nanoTime() < deadline);
        return allocated;
    }

    @Test
    void shouldRejectOperandsTooSmallForTheShape() {
        try (OffHeapBlock c = OffHeapBlock.allocateFloats(10, Purpose.WORKSPACE);
             OffHeapBlock x = OffHeapBlock.allocateFloats(100, Purpose.WORKSPACE)) {
            assertThatThrownBy(() -> Kernels.simd().gemmNN(c.segment(), 0, x.segment(), 0, x.segment(), 0,
                    4, 4, 4, false, 1)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("c");
            assertThatThrownBy(() -> Kernels.scalar().gemmNT(x.segment(), 0, x.segment(), 90, x.segment(), 0,
                    4, 4, 4, false, 1)).isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("a");
        }
    }

    /**
     * Runs both backends on the same random operands placed at nonzero offsets inside larger blocks whose
     * surroundings hold a sentinel; checks the result within tolerance and that nothing outside C[m,n] (and
     * nothing of A or B) changed.
     */
    private static void compare(Layout layout, int m, int n, int k, boolean accumulate, int threads, int seed) {
        compare(Kernels.simd(), layout, m, n, k, accumulate, threads, seed);
    }

    /** {@link #compare(Layout, int, int, int, boolean, int, int)} for a given SIMD backend (e.g. a forced tile). */
    static void compare(KernelBackend simd, Layout layout, int m, int n, int k, boolean accumulate, int threads,
                        int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        long aOff = 1 + rnd.nextInt(5), bOff = 3 + rnd.nextInt(5), cOff = 5 + rnd.nextInt(17);
        long pad = 23;
        long aLen = aOff + (long) m * k + pad, bLen = bOff + (long) k * n + pad, cLen = cOff + (long) m * n + pad;
        float sentinel = -12345.5f;
        try (OffHeapBlock a = OffHeapBlock.allocateFloats(aLen, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats(bLen, Purpose.WORKSPACE);
             OffHeapBlock cRef = OffHeapBlock.allocateFloats(cLen, Purpose.WORKSPACE);
             OffHeapBlock cSimd = OffHeapBlock.allocateFloats(cLen, Purpose.WORKSPACE)) {
            MemorySegment as = a.segment(), bs = b.segment(), cr = cRef.segment(), cs = cSimd.segment();
            fill(as, 0, aLen, sentinel);
            fill(bs, 0, bLen, sentinel);
            fill(cr, 0, cLen, sentinel);
            fill(cs, 0, cLen, sentinel);
            random(as, aOff, (long) m * k, rnd);
            random(bs, bOff, (long) k * n, rnd);
            if (accumulate) {
                random(cr, cOff, (long) m * n, rnd);
                MemorySegment.copy(cr, 0, cs, 0, cLen * Float.BYTES);
            } else {
                fill(cs, cOff, (long) m * n, Float.NaN);   // must be overwritten, never read
            }
            float[] c0 = new float[m * n];
            for (int i = 0; i < m * n; i++) {
                c0[i] = accumulate ? cr.getAtIndex(F, cOff + i) : 0f;
            }
            float[] aCopy = as.toArray(F);
            float[] bCopy = bs.toArray(F);

            gemm(Kernels.scalar(), layout, cr, cOff, as, aOff, bs, bOff, m, n, k, accumulate, 1);
            gemm(simd, layout, cs, cOff, as, aOff, bs, bOff, m, n, k, accumulate, threads);

            String what = simd.gemmShape().map(GemmShape::describe).orElse(simd.name()) + " " + layout + " m=" + m + " n=" + n + " k=" + k + " acc=" + accumulate + " threads=" + threads;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double scale = Math.abs(c0[i * n + j]);
                    for (int p = 0; p < k; p++) {
                        scale += Math.abs((double) elemA(as, layout, aOff, m, k, i, p) * elemB(bs, layout, bOff, n, k, p, j));
                    }
                    double tol = (2 * (Math.sqrt(k) + 1) + 1) * EPS * scale;
                    float expected = cr.getAtIndex(F, cOff + (long) i * n + j);
                    float actual = cs.getAtIndex(F, cOff + (long) i * n + j);
                    if (!(Math.abs(expected - actual) <= tol)) {
                        throw new AssertionError(what + ": C(" + i + "," + j + ") simd=" + actual + " scalar="
                                + expected + " |diff|=" + Math.abs(expected - actual) + " > tol=" + tol);
                    }
                }
            }
            for (long i = 0; i < cLen; i++) {
                if (i < cOff || i >= cOff + (long) m * n) {
                    assertThat(cs.getAtIndex(F, i)).as(what + ": C outside the written region at %d", i)
                            .isEqualTo(sentinel);
                }
            }
            assertThat(as.toArray(F)).as(what + ": A unchanged").containsExactly(aCopy);
            assertThat(bs.toArray(F)).as(what + ": B unchanged").containsExactly(bCopy);
        }
    }

    private static float elemA(MemorySegment a, Layout layout, long off, int m, int k, int i, int p) {
        return a.getAtIndex(F, off + (layout == Layout.TN ? (long) p * m + i : (long) i * k + p));
    }

    private static float elemB(MemorySegment b, Layout layout, long off, int n, int k, int p, int j) {
        return b.getAtIndex(F, off + (layout == Layout.NT ? (long) j * k + p : (long) p * n + j));
    }

    private static void gemm(KernelBackend backend, Layout layout, MemorySegment c, long cOff, MemorySegment a,
                             long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean acc, int threads) {
        switch (layout) {
            case NN -> backend.gemmNN(c, cOff, a, aOff, b, bOff, m, n, k, acc, threads);
            case NT -> backend.gemmNT(c, cOff, a, aOff, b, bOff, m, n, k, acc, threads);
            case TN -> backend.gemmTN(c, cOff, a, aOff, b, bOff, m, n, k, acc, threads);
        }
    }

    static float[] run(KernelBackend backend, Layout layout, float[] a, float[] b, int m, int n, int k) {
        try (OffHeapBlock ab = OffHeapBlock.allocateFloats(a.length, Purpose.WORKSPACE);
             OffHeapBlock bb = OffHeapBlock.allocateFloats(b.length, Purpose.WORKSPACE);
             OffHeapBlock cb = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment.copy(a, 0, ab.segment(), F, 0, a.length);
            MemorySegment.copy(b, 0, bb.segment(), F, 0, b.length);
            gemm(backend, layout, cb.segment(), 0, ab.segment(), 0, bb.segment(), 0, m, n, k, false, 1);
            return cb.segment().toArray(F);
        }
    }

    private static void fill(MemorySegment s, long off, long count, float value) {
        for (long i = 0; i < count; i++) {
            s.setAtIndex(F, off + i, value);
        }
    }

    private static void random(MemorySegment s, long off, long count, SplittableRandom rnd) {
        for (long i = 0; i < count; i++) {
            s.setAtIndex(F, off + i, (float) (rnd.nextDouble() * 2 - 1));
        }
    }
}
