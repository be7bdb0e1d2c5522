package dev.descent.engine.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A register tile of the SIMD GEMM micro-kernel: {@code rows} rows of C (broadcasts from packed A) by
 * {@code vectors} vectors of {@code vectorBits}-bit width (loads from packed B), kept in
 * {@code rows * vectors} accumulator registers over the depth loop. Each tile is its own kernel method in the
 * simd package; {@link #ALL} lists them in the order of those methods' ids.
 *
 * <p>Names: {@code "<bits>:<rows>x<vectors>"}, e.g. {@code 512:8x2} = 8 rows x 32 floats with AVX-512,
 * {@code 256:3x3} = 3 x 24 floats (AVX2 with 16 registers), {@code 128:8x3} = 8 x 12 floats (NEON); a tile whose
 * depth loop is unrolled adds {@code u<steps>}, e.g. {@code 512:12x2u2} (same sums in the same order as
 * {@code 512:12x2}: the same bits, fewer address and loop instructions per multiply-add).
 *
 * @param id         index in {@link #ALL} (and of the kernel method)
 * @param vectorBits vector width: 512, 256 or 128
 * @param rows       MR: rows of C per tile
 * @param vectors    NR / lanes: vectors of C per tile row
 * @param unroll     depth steps per trip of the kernel's main loop (1: not unrolled)
 */
public record GemmTile(int id, int vectorBits, int rows, int vectors, int unroll) {
    /** Every tile the simd backend has a micro-kernel for (order = kernel ids; see scripts/gen-micro-kernels.py). */
    public static final List<GemmTile> ALL = List.of(
            new GemmTile(0, 512, 8, 2),
            new GemmTile(1, 512, 12, 2),
            new GemmTile(2, 512, 6, 4),
            new GemmTile(3, 512, 8, 3),
            new GemmTile(4, 256, 6, 2),
            new GemmTile(5, 256, 4, 3),
            new GemmTile(6, 256, 8, 2),
            new GemmTile(7, 128, 8, 3),
            new GemmTile(8, 256, 4, 2),
            new GemmTile(9, 256, 5, 2),
            new GemmTile(10, 256, 3, 3),
            new GemmTile(11, 256, 2, 4),
            new GemmTile(12, 512, 12, 2, 2));

    /** A tile whose depth loop is not unrolled. */
    public GemmTile(int id, int vectorBits, int rows, int vectors) {
        this(id, vectorBits, rows, vectors, 1);
    }

    /** Floats per vector. */
    public int lanes() {
        return vectorBits / Float.SIZE;
    }

    /** NR: columns of C per tile. */
    public int cols() {
        return vectors * lanes();
    }

    /** Vector registers the inner loop needs at least: the accumulators, the B vectors of one step, one A broadcast. */
    public int registers() {
        return rows * vectors + vectors + 1;
    }

    /**
     * Vector registers the inner loop keeps live as C2 compiles it on a machine with {@code machineRegisters}.
     * With AVX2's 16 registers C2 issues all {@code rows} broadcasts of A of one step at its top (a load is
     * scheduled as early as it can go), so rows + vectors + accumulators are live at once, and the 6 x 2 tile of
     * BLIS/OpenBLAS (20) spills an accumulator to the stack every step: half speed (`-XX:UseAVX=2` on an AVX-512
     * machine, disassembled). With 32 registers (AVX-512's EVEX folds the broadcast into the FMA; AArch64) one
     * broadcast at a time is the count. An unrolled depth loop has the B vectors of all its steps loaded at its top
     * (C2 hoists the loads; disassembled on an Intel AVX-512 machine, session 14).
     */
    public int liveRegisters(int machineRegisters) {
        return rows * vectors + vectors * unroll + (machineRegisters >= 32 ? 1 : rows);
    }

    /** True when {@link #liveRegisters} fits {@code machineRegisters}: no spill in the inner loop. */
    public boolean fits(int machineRegisters) {
        return liveRegisters(machineRegisters) <= machineRegisters;
    }

    /** {@code "<bits>:<rows>x<vectors>"}, plus {@code "u<unroll>"} when the depth loop is unrolled. */
    public String name() {
        return vectorBits + ":" + rows + "x" + vectors + (unroll > 1 ? "u" + unroll : "");
    }

    @Override
    public String toString() {
        return name() + " (" + rows + "x" + cols() + " floats)";
    }

    /**
     * The tile named {@code "<bits>:<rows>x<vectors>"} (e.g. {@code 512:12x2}).
     *
     * @throws IllegalArgumentException naming the text and the known tiles
     */
    public static GemmTile parse(String name) {
        String s = name.trim().toLowerCase(Locale.ROOT);
        for (GemmTile t : ALL) {
            if (t.name().equals(s)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown GEMM tile '" + name + "'; known: " + names(ALL));
    }

    /**
     * The tiles worth trying on a machine whose widest native vectors have {@code preferredBits} and which has
     * {@code registers} vector registers: no wider vectors than native (wider ones run in the slow Java fallback),
     * and no more live vectors than registers (spills in the inner loop).
     */
    public static List<GemmTile> candidates(int preferredBits, int registers) {
        List<GemmTile> out = new ArrayList<>();
        for (GemmTile t : ALL) {
            if (t.vectorBits <= preferredBits && t.fits(registers)) {
                out.add(t);
            }
        }
        return out;
    }

    /**
     * The built-in tile for a vector shape, used when no tuning file and no -D override exist: measured on the
     * machines we have (docs/performance.md, "Kernel shapes"). The widest native vectors; for 8 floats and 16
     * registers (AVX2) 3 x 3 vectors (9 accumulators + 3 B vectors + 3 A broadcasts = 15 live registers: the
     * largest tile C2 compiles without a spill, see {@link #liveRegisters}; 2x the 6 x 2 tile there); with 32
     * registers 6 x 2; for 4 floats (NEON, 32 registers) 8 x 3. AVX-512: 8 x 2 ({@link #builtIn(int, int, boolean)}
     * picks 12 x 2 unrolled on Intel).
     */
    public static GemmTile builtIn(int preferredBits, int registers) {
        return builtIn(preferredBits, registers, false);
    }

    /**
     * As {@link #builtIn(int, int)}, for a CPU known to be an Intel one or not. On Intel cores with AVX-512 the
     * 512-bit multiply-adds issue on ports 0 and 5, which they share with integer instructions (AMD's Zen 4/5
     * have separate integer and vector pipes), so the address arithmetic of the depth loop (an add per A row
     * per step in the row-major kernels, the loop counter) takes multiply-add slots: there the 12 x 2 tile
     * with its depth loop unrolled twice ({@code 512:12x2u2}: 24 multiply-adds per row address, the step offset
     * folded into the loads) ran 1024³ at 1.3x and the default MLP's training at 1.1x the 8 x 2 tile on an Intel
     * Xeon (docs/performance.md, session 14). On AMD the 8 x 2 tile stays: measured best there (Zen 5).
     */
    public static GemmTile builtIn(int preferredBits, int registers, boolean intel) {
        if (preferredBits >= 512) {
            return registers >= 32 ? ALL.get(intel ? 12 : 0) : ALL.get(10);
        }
        if (preferredBits >= 256) {
            return registers >= 32 ? ALL.get(4) : ALL.get(10);
        }
        return ALL.get(7);
    }

    /**
     * Vector registers of the machine. The Vector API does not tell, so it is inferred from the ISA: x86 with
     * 512-bit vectors (AVX-512) has 32, x86 otherwise (AVX2) 16, AArch64 (NEON/SVE) and RISC-V 32.
     */
    public static int registers(String arch, int preferredBits) {
        String a = arch.toLowerCase(Locale.ROOT);
        if (a.equals("amd64") || a.equals("x86_64") || a.equals("x86") || a.equals("i386")) {
            return preferredBits >= 512 ? 32 : 16;
        }
        if (a.equals("aarch64") || a.startsWith("riscv")) {
            return 32;
        }
        return 16;
    }

    static String names(List<GemmTile> tiles) {
        StringBuilder sb = new StringBuilder();
        for (GemmTile t : tiles) {
            sb.append(sb.isEmpty() ? "" : ", ").append(t.name());
        }
        return sb.toString();
    }
}
