package dev.descent.engine.cluster;

import java.lang.foreign.MemorySegment;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The messages that cross JVMs between a job's {@link RemoteWorker} (on the submitting node) and a
 * {@link NodeWorker} (on a worker node). All of them are written by {@link SlabSerializer} (bound to
 * {@link Message} in {@code descent-cluster.conf}): fixed binary layouts, no Jackson, no Java serialization.
 *
 * <p>One share of a step goes out as the parameter slab, the share's feature rows and labels (each cut into
 * {@link Chunk}s no larger than Artery's frame), then a {@link Compute}; the share's gradient comes back as
 * {@link Chunk}s and a {@link Computed}. Messages between one sender and one receiver arrive in order, so the
 * {@link Compute} finds every chunk before it in place.
 */
public final class ClusterProtocol {
    private ClusterProtocol() {
    }

    /** Everything {@link SlabSerializer} writes. */
    public interface Message {
    }

    /** What a {@link NodeWorker} receives. */
    public sealed interface ToNode extends Message permits Assign, Chunk, Placed, Compute, Release {
    }

    /** What a {@link RemoteWorker} receives from its node. */
    public sealed interface ToProxy extends Message permits Chunk, Placed, Computed {
    }

    /** What a chunk carries (its destination buffer). */
    public enum Kind {
        PARAMS, FEATURES, LABELS, GRADS;

        private static final Kind[] ALL = values();

        static Kind of(int ordinal) {
            return ALL[ordinal];
        }
    }

    /**
     * Opens a lease: build the model of {@code modelSpec} and a gradient pass for shares of at most {@code maxRows}
     * rows; replies go to {@code replyTo}, tagged with {@code lease}.
     */
    public record Assign(long lease, String job, int worker, String modelSpec, String loss, String strategy, long seed,
                         int threads, int microBatch, int maxRows, ActorRef<ToProxy> replyTo) implements ToNode {
    }

    /**
     * {@code data} goes to byte {@code offset} of the lease's {@code kind} buffer. On the sending side
     * {@code data} is a view of the sender's slab (copied once, straight into Artery's outgoing buffer); on the
     * receiving side a heap segment holding the bytes.
     */
    public record Chunk(long lease, long step, Kind kind, long offset, MemorySegment data) implements ToNode, ToProxy {
    }

    /**
     * What the receiving side's {@link SlabSerializer} makes of a {@link Chunk} whose lease is open in
     * {@link ChunkSinks}: its {@code bytes} bytes are already at {@code offset} of the lease's {@code kind} buffer.
     * Never sent.
     */
    public record Placed(long lease, long step, Kind kind, long offset, long bytes) implements ToNode, ToProxy {
    }

    /** Forward/backward of the lease's {@code rows} rows for optimizer step {@code step}; then send the gradient. */
    public record Compute(long lease, long step, int rows, boolean measureUnits) implements ToNode {
    }

    /** The lease is over: free its model and buffers. */
    public record Release(long lease) implements ToNode {
    }

    /**
     * A share is done: its gradient chunks were sent before this. {@code error} non-null: the pass threw (no
     * gradient). A non-finite {@code loss}: no gradient either.
     */
    public record Computed(long lease, long step, double loss, int correct, int rows, int units, double unitSquares,
                           double batchSquares, long computeNanos, String error) implements ToProxy {
    }
}
