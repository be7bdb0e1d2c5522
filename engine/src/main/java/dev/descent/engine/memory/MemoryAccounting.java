package dev.descent.engine.memory;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Process-wide count of live off-heap bytes and blocks per {@link Purpose}. Every {@link OffHeapBlock}
 * adds itself on allocation and removes itself on close, so a leak shows as a count that never returns
 * to its baseline.
 */
public final class MemoryAccounting {
    private static final Purpose[] PURPOSES = Purpose.values();
    private static final AtomicLongArray LIVE_BYTES = new AtomicLongArray(PURPOSES.length);
    private static final AtomicLongArray LIVE_BLOCKS = new AtomicLongArray(PURPOSES.length);

    private MemoryAccounting() {
    }

    static void allocated(Purpose purpose, long bytes) {
        LIVE_BYTES.addAndGet(purpose.ordinal(), bytes);
        LIVE_BLOCKS.incrementAndGet(purpose.ordinal());
    }

    static void released(Purpose purpose, long bytes) {
        LIVE_BYTES.addAndGet(purpose.ordinal(), -bytes);
        LIVE_BLOCKS.decrementAndGet(purpose.ordinal());
    }

    /** Live bytes held by blocks of one purpose. */
    public static long liveBytes(Purpose purpose) {
        return LIVE_BYTES.get(purpose.ordinal());
    }

    /** Live blocks of one purpose. */
    public static long liveBlocks(Purpose purpose) {
        return LIVE_BLOCKS.get(purpose.ordinal());
    }

    /** Live bytes over all purposes. */
    public static long totalLiveBytes() {
        long sum = 0;
        for (Purpose p : PURPOSES) {
            sum += LIVE_BYTES.get(p.ordinal());
        }
        return sum;
    }

    /** Live blocks over all purposes. */
    public static long totalLiveBlocks() {
        long sum = 0;
        for (Purpose p : PURPOSES) {
            sum += LIVE_BLOCKS.get(p.ordinal());
        }
        return sum;
    }
}
