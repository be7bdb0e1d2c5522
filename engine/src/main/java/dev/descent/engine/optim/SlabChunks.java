package dev.descent.engine.optim;

import java.lang.foreign.MemorySegment;

/**
 * Contiguous chunks of slabs that share one layout (parameters, gradients, moments...), cut at 16-float
 * (64-byte) boundaries, with the slice of each slab for each chunk made once: elementwise kernels can then run
 * chunk by chunk on several threads without allocating per step.
 */
public final class SlabChunks {
    private static final long ALIGN_FLOATS = 16;

    private final int parts;
    private final long[] start;
    private final long[] length;
    private final MemorySegment[][] slices; // [slab][part]

    /**
     * @param floats floats of one slab (its layout's total)
     * @param slabs  the slabs; each is sliced from its float 0 (a moment slab holding several copies keeps its
     *               stride: its slice starts at the chunk's offset of the first copy)
     */
    public SlabChunks(long floats, int parts, MemorySegment... slabs) {
        if (parts < 1) {
            throw new IllegalArgumentException("parts must be >= 1, was " + parts);
        }
        this.parts = parts;
        this.start = new long[parts];
        this.length = new long[parts];
        long per = ((floats + parts - 1) / parts + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS;
        for (int p = 0; p < parts; p++) {
            start[p] = Math.min(floats, p * per);
            length[p] = Math.min(floats, start[p] + per) - start[p];
        }
        this.slices = new MemorySegment[slabs.length][parts];
        for (int s = 0; s < slabs.length; s++) {
            for (int p = 0; p < parts; p++) {
                slices[s][p] = slabs[s].asSlice(start[p] * Float.BYTES);
            }
        }
    }

    public int parts() {
        return parts;
    }

    /** First float of chunk {@code part}. */
    public long start(int part) {
        return start[part];
    }

    /** Floats in chunk {@code part} (0 for a trailing empty chunk of a tiny slab). */
    public long length(int part) {
        return length[part];
    }

    /** Slab {@code slab} from the first float of chunk {@code part} to the slab's end. */
    public MemorySegment slice(int slab, int part) {
        return slices[slab][part];
    }
}
