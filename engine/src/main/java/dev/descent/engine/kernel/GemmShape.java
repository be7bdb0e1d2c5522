package dev.descent.engine.kernel;

/**
 * The SIMD GEMM's configuration on this machine: the register tile and the cache blocking, chosen once at start-up
 * by {@link GemmSelection} (or forced, for tests and tuning). Bits of a product depend on it (the tile and
 * {@code kc} fix the order of the float additions), never on timing: the same shape gives the same bits.
 *
 * @param tile   the micro-kernel's register tile
 * @param kc     largest depth of a block (k is cut into equal blocks no deeper than this)
 * @param mc     rows of A per packed block (rounded up to the tile's rows by the kernel)
 * @param nc     columns of B per packed block (rounded up to the tile's columns by the kernel)
 * @param source where the choice came from, e.g. {@code built-in}, {@code tuning file /home/u/.descent/...},
 *               {@code -Ddescent.gemm.shape}
 */
public record GemmShape(GemmTile tile, int kc, int mc, int nc, String source) {
    public GemmShape {
        if (tile == null) {
            throw new IllegalArgumentException("GEMM tile must not be null");
        }
        if (kc < 16 || mc < 1 || nc < 1) {
            throw new IllegalArgumentException("GEMM blocking must be kc >= 16, mc >= 1, nc >= 1: kc=" + kc
                    + " mc=" + mc + " nc=" + nc);
        }
    }

    /** The default blocking for {@code tile} on {@code cpu} (see {@link #blockingFor}). */
    public static GemmShape of(GemmTile tile, CpuInfo cpu, String source) {
        int[] b = blockingFor(tile, cpu);
        return new GemmShape(tile, b[0], b[1], b[2], source);
    }

    /**
     * {kc, mc, nc} from the cache sizes (unknown sizes: L2 1 MiB with 512-bit vectors, else 512 KiB; L3 8 MiB).
     * kc = L2 / 1 KiB within [256, 1024] (deep blocks: every block ends with a read-modify-write pass over C,
     * measured better than BLIS's L1-sized kc here); mc so that the packed mc x kc block of A fills half of L2;
     * nc so that the packed kc x nc block of B fills half of L3, within [512, 2048].
     * Zen 5 (1 MiB L2 from /proc/cpuinfo, L3 unknown): 1024 / 128 / 1024; Zen 1 (512 KiB L2, 8 MiB L3): 512 / 126 / 2048.
     */
    public static int[] blockingFor(GemmTile tile, CpuInfo cpu) {
        long l2 = cpu.l2Bytes() > 0 ? cpu.l2Bytes() : (tile.vectorBits() >= 512 ? 1L << 20 : 1L << 19);
        long l3 = cpu.l3Bytes() > 0 ? cpu.l3Bytes() : 8L << 20;
        int kc = (int) Math.max(256, Math.min(1024, l2 / 1024)) / 16 * 16;
        int mc = (int) Math.max(tile.rows(), Math.min(4096, l2 / 2 / (kc * 4L)) / tile.rows() * tile.rows());
        int nc = (int) Math.max(512, Math.min(2048, l3 / 2 / (kc * 4L)));
        nc = Math.max(tile.cols(), nc / tile.cols() * tile.cols());
        return new int[] {kc, mc, nc};
    }

    /** The same tile and blocking from another source. */
    public GemmShape withSource(String newSource) {
        return new GemmShape(tile, kc, mc, nc, newSource);
    }

    /** e.g. {@code 512:8x2 (8x32 floats) kc=1024 mc=128 nc=1024}. */
    public String describe() {
        return tile + " kc=" + kc + " mc=" + mc + " nc=" + nc;
    }
}
