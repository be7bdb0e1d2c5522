package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.kernel.GemmTest.Layout;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A product a sync worker runs while another worker helps ({@link ProductSharing}) is bit-identical to the same
 * product on one thread, whoever computed which unit: every layout, with and without accumulate, edges that cut
 * the tiles, several depth blocks (a small kc) and the built-in blocking; and the helper really took units.
 */
class ProductSharingTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    @Test
    void aSharedProductShouldGiveTheBitsOfOneThread() throws Exception {
        GemmTile tile = Kernels.simd().gemmShape().orElseThrow().tile();
        List<KernelBackend> backends = List.of(Kernels.simd(),
                // kc 48: several depth blocks, each a phase of its own; mc 2 tiles tall: many row blocks
                Kernels.simd(new GemmShape(tile, 48, 2 * tile.rows(), 1024, "test")));
        int[][] sizes = {{300, 530, 200}, {67, 129, 41}, {1030, 700, 96}, {5, 3, 7}};
        ProductSharing.Group group = new ProductSharing.Group(2);
        AtomicBoolean stop = new AtomicBoolean();
        CompletableFuture<Void> helper = CompletableFuture.runAsync(() -> {
            while (!stop.get()) { // bounded by the test: stop is set in finally
                group.helpOthers(1);
                Thread.onSpinWait();
            }
        });
        long helpedBefore = 0;
        int seed = 0;
        try {
            for (KernelBackend simd : backends) {
                for (int[] s : sizes) {
                    for (Layout layout : Layout.values()) {
                        for (boolean accumulate : new boolean[] {false, true}) {
                            // a few repeats: the helper takes units only when it is scheduled at the time
                            for (int rep = 0; rep < 3; rep++) {
                                assertSharedMatches(simd, group, layout, s[0], s[1], s[2], accumulate, seed++);
                            }
                        }
                    }
                }
                long helped = group.slot(1).helped();
                assertThat(helped).as("units the helper ran for %s", simd.gemmShape().orElseThrow())
                        .isGreaterThan(helpedBefore);
                helpedBefore = helped;
            }
        } finally {
            stop.set(true);
        }
        helper.get(30, TimeUnit.SECONDS);
    }

    @Test
    void aHelperShouldStopWaitingForAWorkerThatPublishesNothing() throws Exception {
        ProductSharing.Group group = new ProductSharing.Group(2);
        ProductSharing.Slot slot = group.slot(0);
        ProductSharing.enter(slot);
        try {
            // worker 0 is "in its pass" but runs no product: the helper gives up after its idle limit
            int ran = CompletableFuture.supplyAsync(() -> group.helpOthers(1)).get(10, TimeUnit.SECONDS);
            assertThat(ran).isZero();
        } finally {
            ProductSharing.exit(slot);
        }
        assertThat(ProductSharing.current()).isNull();
        // nobody in a pass: returns at once
        assertThat(CompletableFuture.supplyAsync(() -> group.helpOthers(1)).get(10, TimeUnit.SECONDS)).isZero();
    }

    @Test
    void aSharedProductShouldNotAllocateOnItsThreadOnceWarm() {
        int m = 200, n = 300, k = 64;
        ProductSharing.Group group = new ProductSharing.Group(2);
        ProductSharing.Slot slot = group.slot(0);
        KernelBackend simd = Kernels.simd();
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment as = a.segment(), bs = b.segment(), cs = c.segment();
            long bytes = GemmTest.allocatedOnceWarm(() -> {
                ProductSharing.enter(slot);
                try {
                    simd.gemmNN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                    simd.gemmNT(cs, 0, as, 0, bs, 0, m, n, k, true, 1);
                    simd.gemmTN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                } finally {
                    ProductSharing.exit(slot);
                }
            });
            assertThat(bytes).as("bytes allocated by shared products once warm").isZero();
        }
    }

    private static void assertSharedMatches(KernelBackend simd, ProductSharing.Group group, Layout layout, int m,
                                            int n, int k, boolean accumulate, int seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (OffHeapBlock a = random((long) m * k, rnd); OffHeapBlock b = random((long) k * n, rnd);
             OffHeapBlock c0 = random((long) m * n, rnd);
             OffHeapBlock c1 = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment.copy(c0.segment(), 0, c1.segment(), 0, c0.byteSize());
            product(simd, layout, c0.segment(), a.segment(), b.segment(), m, n, k, accumulate);
            ProductSharing.Slot slot = group.slot(0);
            ProductSharing.enter(slot);
            try {
                product(simd, layout, c1.segment(), a.segment(), b.segment(), m, n, k, accumulate);
            } finally {
                ProductSharing.exit(slot);
            }
            long at = c1.segment().mismatch(c0.segment()); // -1: the same bytes (an element-wise report would be huge)
            assertThat(at).as("first differing byte, %s %s m=%d n=%d k=%d accumulate=%s: %s", simd.gemmShape()
                    .orElseThrow(), layout, m, n, k, accumulate, at < 0 ? "" : "C[" + at / Float.BYTES / n + ", "
                    + at / Float.BYTES % n + "] = " + c1.segment().getAtIndex(F, at / Float.BYTES) + " instead of "
                    + c0.segment().getAtIndex(F, at / Float.BYTES)).isEqualTo(-1L);
        }
    }

    private static void product(KernelBackend simd, Layout layout, MemorySegment c, MemorySegment a, MemorySegment b,
                                int m, int n, int k, boolean accumulate) {
        switch (layout) {
            case NN -> simd.gemmNN(c, 0, a, 0, b, 0, m, n, k, accumulate, 1);
            case NT -> simd.gemmNT(c, 0, a, 0, b, 0, m, n, k, accumulate, 1);
            case TN -> simd.gemmTN(c, 0, a, 0, b, 0, m, n, k, accumulate, 1);
        }
    }

    private static OffHeapBlock random(long floats, SplittableRandom rnd) {
        OffHeapBlock block = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE);
        for (long i = 0; i < floats; i++) {
            block.segment().setAtIndex(F, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        return block;
    }
}
