package dev.descent.engine.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One block of 64-byte-aligned native memory with exactly one owner, closed deterministically. Blocks of
 * {@link HugePages#MIN_BYTES} and more are 2 MiB-aligned anonymous mappings advised onto transparent huge pages
 * when that is turned on and the OS and the JVM's flags allow it ({@link HugePages}); either way the block starts
 * zeroed.
 *
 * <p>Two views share the same bytes: an Agrona {@link UnsafeBuffer} (for the engine's byte-level work and
 * I/O) and a {@link MemorySegment} (for the vector kernels). After {@link #close()} both views fail with
 * an exception instead of touching freed memory: the segment's arena is closed (IllegalStateException) and
 * the buffer is re-wrapped onto an empty array (IndexOutOfBoundsException under Agrona's bounds checks).
 */
public final class OffHeapBlock implements AutoCloseable {
    /** Alignment of every block: one cache line, and one 512-bit vector. */
    public static final long ALIGNMENT = 64;
    private static final byte[] EMPTY = new byte[0];

    private final Arena arena;
    private final MemorySegment segment;
    private final UnsafeBuffer buffer;
    private final Purpose purpose;
    private final long byteSize;
    private boolean closed;

    private OffHeapBlock(long byteSize, Purpose purpose) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("block size must be >= 0 bytes, was " + byteSize);
        }
        if (byteSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("block size must be <= " + Integer.MAX_VALUE
                    + " bytes (Agrona buffer limit), was " + byteSize);
        }
        this.arena = Arena.ofShared();
        try {
            // large blocks (datasets, big models) on 2 MiB pages where the OS allows: far fewer page faults
            this.segment = HugePages.map(byteSize, arena)
                    .orElseGet(() -> arena.allocate(Math.max(byteSize, 1), ALIGNMENT).asSlice(0, byteSize));
            // Fails (IllegalAccessError) when the JVM lacks --add-exports java.base/jdk.internal.misc:
            // free the memory rather than leak it uncounted.
            this.buffer = new UnsafeBuffer(segment.address(), (int) byteSize);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        this.purpose = purpose;
        this.byteSize = byteSize;
        MemoryAccounting.allocated(purpose, byteSize);
    }

    /** Allocates {@code bytes} zeroed bytes for {@code purpose}. */
    public static OffHeapBlock allocate(long bytes, Purpose purpose) {
        return new OffHeapBlock(bytes, purpose);
    }

    /** Allocates room for {@code count} zeroed floats for {@code purpose}. */
    public static OffHeapBlock allocateFloats(long count, Purpose purpose) {
        if (count < 0 || count > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException("float count must be in [0, " + Integer.MAX_VALUE / Float.BYTES
                    + "] (Agrona buffer limit), was " + count);
        }
        return new OffHeapBlock(count * Float.BYTES, purpose);
    }

    /** The vector kernels' view. Throws IllegalStateException on access after close. */
    public MemorySegment segment() {
        return segment;
    }

    /** The Agrona view of the same bytes. */
    public UnsafeBuffer buffer() {
        return buffer;
    }

    public Purpose purpose() {
        return purpose;
    }

    public long byteSize() {
        return byteSize;
    }

    /** Number of whole floats the block holds. */
    public long floatCount() {
        return byteSize / Float.BYTES;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Reads float {@code index} (not byte offset). */
    public float getFloat(long index) {
        return segment.getAtIndex(ValueLayout.JAVA_FLOAT, index);
    }

    /** Writes float {@code index} (not byte offset). */
    public void setFloat(long index, float value) {
        segment.setAtIndex(ValueLayout.JAVA_FLOAT, index, value);
    }

    /** Sets every float of the block to {@code value}. */
    public void fill(float value) {
        if (value == 0f) {
            segment.fill((byte) 0);
            return;
        }
        long n = floatCount();
        for (long i = 0; i < n; i++) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
    }

    /** Copies {@code src} into the block starting at float {@code index}. */
    public void copyFrom(float[] src, long index) {
        MemorySegment.copy(src, 0, segment, ValueLayout.JAVA_FLOAT, index * Float.BYTES, src.length);
    }

    /** Copies {@code length} floats starting at float {@code index} into a new array. */
    public float[] toArray(long index, int length) {
        float[] out = new float[length];
        MemorySegment.copy(segment, ValueLayout.JAVA_FLOAT, index * Float.BYTES, out, 0, length);
        return out;
    }

    /** Copies the whole block into a new float array. */
    public float[] toArray() {
        return toArray(0, Math.toIntExact(floatCount()));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        buffer.wrap(EMPTY);
        arena.close();
        MemoryAccounting.released(purpose, byteSize);
    }

    @Override
    public String toString() {
        return "OffHeapBlock[" + purpose + ", " + byteSize + " bytes" + (closed ? ", closed]" : "]");
    }
}
