package dev.descent.engine.cluster;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the chunks of an open lease go, so that {@link SlabSerializer} can copy a received chunk straight from
 * Artery's inbound buffer into its destination slab (one copy instead of two, no heap array per chunk) and hand the
 * actor a {@link ClusterProtocol.Placed} notice. A lease registers its buffers when it opens and removes them before
 * it frees them; a chunk of a lease that is not (or no longer) here is deserialized into a heap segment as before.
 *
 * <p>Writing from Artery's thread is safe because the protocol is lock step: a slab's next chunks are sent only after
 * the receiver is done with its current contents (parameters and rows after the previous step's gradient is in, a
 * gradient after the parameters and rows it was computed from). The slabs are shared-arena memory: a lease freed
 * during a copy makes that copy fail (the message is dropped, the lease is gone anyway), never corrupts memory.
 */
final class ChunkSinks {
    private static final ConcurrentHashMap<Long, MemorySegment[]> SINKS = new ConcurrentHashMap<>();

    private ChunkSinks() {
    }

    /** Chunks of {@code lease} of kind k go to {@code byKind[k.ordinal()]} (null: not placed). */
    static void open(long lease, MemorySegment[] byKind) {
        SINKS.put(lease, byKind.clone());
    }

    static void close(long lease) {
        SINKS.remove(lease);
    }

    /** The destination of a {@code bytes}-byte chunk at {@code offset}, or null when it is not placed here. */
    static MemorySegment target(long lease, ClusterProtocol.Kind kind, long offset, long bytes) {
        MemorySegment[] s = SINKS.get(lease);
        MemorySegment d = s == null ? null : s[kind.ordinal()];
        return d != null && offset >= 0 && offset + bytes <= d.byteSize() ? d : null;
    }

    /** Destinations by kind, for {@link #open}. */
    static MemorySegment[] of(ClusterProtocol.Kind kind, MemorySegment dest) {
        MemorySegment[] s = new MemorySegment[ClusterProtocol.Kind.values().length];
        s[kind.ordinal()] = dest;
        return s;
    }
}
