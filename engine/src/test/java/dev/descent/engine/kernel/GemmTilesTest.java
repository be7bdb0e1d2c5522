package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.kernel.GemmTest.Layout;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every register tile of the SIMD GEMM, forced on the machine that runs the tests (all tiles whose vectors are no
 * wider than its native ones: on an AVX-512 machine all of them, 512-, 256- and 128-bit), against the scalar
 * reference: the three layouts, with and without accumulate, one and two threads, odd sizes whose edges cut every
 * tile, and a small blocking that makes several depth, row and column blocks. And none allocates once warm.
 */
class GemmTilesTest {

    /** The tiles this machine can run natively. */
    static Stream<GemmTile> tiles() {
        return GemmTile.candidates(Kernels.simd().vectorBits(), Integer.MAX_VALUE).stream();
    }

    private static final int[][] SIZES = {
            {1, 1, 1}, {13, 37, 19}, {25, 50, 33}, {7, 97, 70}, {67, 129, 41}, {100, 65, 300}
    };

    @ParameterizedTest(name = "{0}")
    @MethodSource("tiles")
    void everyTileShouldMatchTheScalarReferenceInEveryLayout(GemmTile tile) {
        CpuInfo cpu = CpuInfo.detected();
        KernelBackend builtInBlocking = Kernels.simd(GemmShape.of(tile, cpu, "test"));
        // small blocks: k = 300 -> 10 depth blocks of 32, m = 100 -> several row blocks, n = 129 -> column blocks
        KernelBackend smallBlocks = Kernels.simd(new GemmShape(tile, 32, 2 * tile.rows() + 1, tile.cols() + 1, "test"));
        assertThat(builtInBlocking.gemmShape()).get().extracting(GemmShape::tile).isEqualTo(tile);
        int seed = 0;
        for (KernelBackend simd : List.of(builtInBlocking, smallBlocks)) {
            for (int[] s : SIZES) {
                for (Layout layout : Layout.values()) {
                    GemmTest.compare(simd, layout, s[0], s[1], s[2], seed % 2 == 0, 1, seed);
                    seed++;
                }
            }
            GemmTest.compare(simd, Layout.NN, 130, 257, 90, true, 2, seed++);   // split over the pool
            GemmTest.compare(simd, Layout.NT, 257, 40, 90, false, 2, seed++);
            // a split product gives the bits of one thread, which the products above checked against the reference
            for (Layout layout : Layout.values()) {
                GemmTest.assertTwoThreadsGiveTheBitsOfOne(simd, layout, 130, 700, 740, seed++);
            }
        }
    }

    /**
     * No tile allocates per product once compiled (one thread: packing buffers and the edge-tile buffer are per
     * thread and reused; no vector is boxed). Full and edge tiles, all layouts.
     */
    @Test
    void noTileShouldAllocateInSteadyState() {
        int m = 41, n = 70, k = 37;
        List<String> allocating = new ArrayList<>();
        try (OffHeapBlock a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE)) {
            MemorySegment as = a.segment(), bs = b.segment(), cs = c.segment();
            for (GemmTile tile : tiles().toList()) {
                KernelBackend simd = Kernels.simd(GemmShape.of(tile, CpuInfo.detected(), "test"));
                long bytes = GemmTest.allocatedOnceWarm(() -> {
                    simd.gemmNN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                    simd.gemmNT(cs, 0, as, 0, bs, 0, m, n, k, true, 1);
                    simd.gemmTN(cs, 0, as, 0, bs, 0, m, n, k, false, 1);
                });
                if (bytes != 0) {
                    allocating.add(tile.name() + " (" + bytes + " bytes)");
                }
            }
        }
        assertThat(allocating).as("tiles that still allocate after warm-up").isEmpty();
    }

    /**
     * An unrolled tile makes the same additions in the same order as its plain twin: the same bits, in every layout,
     * with depths that leave a remainder step (odd k) and depth blocks of odd size.
     */
    @Test
    void anUnrolledTileShouldGiveTheBitsOfItsPlainTwin() {
        int bits = Kernels.simd().vectorBits();
        List<GemmTile> unrolled = GemmTile.ALL.stream().filter(t -> t.unroll() > 1 && t.vectorBits() <= bits).toList();
        org.junit.jupiter.api.Assumptions.assumeFalse(unrolled.isEmpty(), "no unrolled tile fits " + bits + "-bit vectors");
        SplittableRandom rnd = new SplittableRandom(14);
        for (GemmTile u : unrolled) {
            GemmTile plain = GemmTile.parse(u.vectorBits() + ":" + u.rows() + "x" + u.vectors());
            for (int[] s : new int[][] {{29, 70, 1}, {29, 70, 2}, {37, 45, 131}, {13, 100, 300}}) {
                int m = s[0], n = s[1], k = s[2];
                float[] a = new float[m * k], b = new float[k * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextDouble() * 2 - 1);
                }
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (rnd.nextDouble() * 2 - 1);
                }
                for (int kc : new int[] {1024, 33}) {
                    KernelBackend pu = Kernels.simd(new GemmShape(u, kc, 2 * u.rows(), u.cols(), "test"));
                    KernelBackend pp = Kernels.simd(new GemmShape(plain, kc, 2 * u.rows(), u.cols(), "test"));
                    for (Layout layout : Layout.values()) {
                        assertThat(GemmTest.run(pu, layout, a, b, m, n, k))
                                .as("%s vs %s %s m=%d n=%d k=%d kc=%d", u.name(), plain.name(), layout, m, n, k, kc)
                                .containsExactly(GemmTest.run(pp, layout, a, b, m, n, k));
                    }
                }
            }
        }
    }

    @Test
    void shouldRejectATileWiderThanTheNativeVectors() {
        int bits = Kernels.simd().vectorBits();
        assertThat(GemmTile.candidates(bits, 64)).allMatch(t -> t.vectorBits() <= bits);
        if (bits < 512) {
            assertThatThrownBy(() -> Kernels.simd(GemmShape.of(GemmTile.parse("512:8x2"), CpuInfo.detected(), "t")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("512");
        }
    }

    @Test
    void shouldListTilesThatFitTheRegisterFile() {
        // AVX2: 16 registers, C2 keeps every A broadcast of a step live: 4x2 (14), 3x3 (15) and 2x4 (14) fit,
        // 6x2 (20), 5x2 (17), 4x3 (19) and 8x2 (26) spill; AVX-512: 32 registers, all 512-bit tiles fit
        assertThat(GemmTile.candidates(256, GemmTile.registers("amd64", 256))).extracting(GemmTile::name)
                .containsExactly("256:4x2", "256:3x3", "256:2x4");
        assertThat(GemmTile.parse("256:6x2").liveRegisters(16)).isEqualTo(20);
        assertThat(GemmTile.parse("256:6x2").fits(32)).isTrue();
        assertThat(GemmTile.candidates(512, GemmTile.registers("amd64", 512))).extracting(GemmTile::name)
                .contains("512:8x2", "512:12x2", "512:6x4", "512:8x3");
        assertThat(GemmTile.registers("aarch64", 128)).isEqualTo(32);
        assertThat(GemmTile.builtIn(256, 16).name()).isEqualTo("256:3x3");
        assertThat(GemmTile.builtIn(256, 32).name()).isEqualTo("256:6x2");
        assertThat(GemmTile.builtIn(512, 32).name()).isEqualTo("512:8x2");
        assertThat(GemmTile.builtIn(512, 32, false).name()).isEqualTo("512:8x2");
        assertThat(GemmTile.builtIn(512, 32, true).name()).isEqualTo("512:12x2u2");
        assertThat(GemmTile.builtIn(256, 16, true).name()).isEqualTo("256:3x3");
        assertThat(GemmTile.parse("512:12x2u2")).extracting(GemmTile::rows, GemmTile::vectors, GemmTile::unroll)
                .containsExactly(12, 2, 2);
        assertThat(GemmTile.builtIn(128, 32).name()).isEqualTo("128:8x3");
        for (GemmTile t : GemmTile.ALL) {
            assertThat(GemmTile.parse(t.name())).isEqualTo(t);
            assertThat(GemmTile.ALL.get(t.id())).isEqualTo(t);
        }
        assertThatThrownBy(() -> GemmTile.parse("512:9x9")).hasMessageContaining("512:9x9")
                .hasMessageContaining("512:8x2");
    }
}
