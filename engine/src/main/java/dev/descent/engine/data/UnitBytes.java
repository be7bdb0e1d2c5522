package dev.descent.engine.data;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Rows of a dataset held as bytes, widened to floats {@code byte / 255} by the kernel backend
 * ({@link KernelBackend#unitBytesToFloats}).
 *
 * <p>Rows are first copied as bytes into a per-thread off-heap scratch, then widened in one call: a batch of the
 * default MLP (128 rows of 784) takes ~17 us this way once compiled, against ~57 us to copy the same rows as floats
 * from a float dataset, because a quarter of the bytes come from memory. One long call per batch also lets the JIT
 * compile the loop on stack within the first batches (until then the Vector API runs interpreted, ~40 ms per batch,
 * which is why the SDK's kernel warm-up widens its inputs too), and the vector loop always reads the same kind of
 * segment (a file mapping is another class than an allocated block).
 */
final class UnitBytes {
    /** The most one widening call covers when a long range is copied (the scratch stays at most this big). */
    private static final long RANGE_CHUNK = 1 << 20;
    /** Elements per chunk of {@link #copyCold}. */
    private static final int COLD_CHUNK = 1 << 14;
    private static final ThreadLocal<MemorySegment[]> SCRATCH = ThreadLocal.withInitial(() -> new MemorySegment[1]);

    private UnitBytes() {
    }

    /**
     * Widens rows {@code rows[from]}, ..., {@code rows[from + count - 1]} of {@code width} bytes each of {@code src}
     * into consecutive float rows of {@code dst} from float {@code dstOff}.
     */
    static void gather(MemorySegment src, int width, int[] rows, int from, int count, MemorySegment dst, long dstOff) {
        long n = (long) count * width;
        MemorySegment scratch = scratch(n);
        for (int r = 0; r < count; r++) {
            MemorySegment.copy(src, (long) rows[from + r] * width, scratch, (long) r * width, width);
        }
        Kernels.backend().unitBytesToFloats(scratch, 0, dst, dstOff, n);
    }

    /**
     * Widens the bytes [srcOff, srcOff + n) of {@code src} into floats of {@code dst} from float {@code dstOff}, with
     * a plain array loop in chunks: for the one-off widening of a whole dataset or range ({@link Dataset#features()}),
     * which may come first in a JVM (a landscape command), before anything has compiled the vector kernel. Run cold,
     * the Vector API loop took ~0.5 s for the 2,000 rows of a landscape's subset; this loop is compiled on stack within
     * its first chunks, and takes ~1.2 ns per element once compiled against ~0.13 ns for the vector kernel.
     */
    static void copyCold(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        byte[] b = new byte[(int) Math.min(n, COLD_CHUNK)];
        float[] f = new float[b.length];
        for (long done = 0; done < n; done += b.length) {
            int m = (int) Math.min(b.length, n - done);
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOff + done, b, 0, m);
            for (int i = 0; i < m; i++) {
                f[i] = (b[i] & 0xFF) / 255f;
            }
            MemorySegment.copy(f, 0, dst, ValueLayout.JAVA_FLOAT, (dstOff + done) * Float.BYTES, m);
        }
    }

    /**
     * Widens the bytes [srcOff, srcOff + n) of {@code src} into floats of {@code dst} from float {@code dstOff} with
     * the kernel backend, through this thread's scratch (so that the vector loop always reads the same kind of segment:
     * a file mapping is another class than an allocated block).
     */
    static void copy(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        MemorySegment scratch = scratch(Math.min(n, RANGE_CHUNK));
        KernelBackend kernels = Kernels.backend();
        for (long done = 0; done < n; done += scratch.byteSize()) {
            long m = Math.min(scratch.byteSize(), n - done);
            MemorySegment.copy(src, srcOff + done, scratch, 0, m);
            kernels.unitBytesToFloats(scratch, 0, dst, dstOff + done, m);
        }
    }

    /** This thread's scratch, at least {@code bytes} long (grown by doubling; freed when the thread's is collected). */
    private static MemorySegment scratch(long bytes) {
        MemorySegment[] holder = SCRATCH.get();
        MemorySegment s = holder[0];
        if (s == null || s.byteSize() < bytes) {
            long size = Math.max(bytes, s == null ? 4096 : 2 * s.byteSize());
            s = Arena.ofAuto().allocate(size, 64);
            holder[0] = s;
        }
        return s;
    }
}
