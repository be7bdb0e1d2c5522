package dev.descent.engine.cluster;

import dev.descent.engine.actor.DataLoader;
import dev.descent.engine.actor.GradientAggregator;
import dev.descent.engine.actor.JobSupervisor;
import dev.descent.engine.actor.Worker;
import dev.descent.engine.event.TrainingEvent;
import java.lang.foreign.MemorySegment;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logical worker {@code i} of a sync job whose computation runs on a {@link NodeWorker} of another node. Towards
 * the job it speaks {@link Worker}'s protocol (pulls batches from the {@link DataLoader}, waits for
 * {@link Worker.Proceed}, reports {@link GradientAggregator.GradientReady}), so the supervisor, the aggregator's
 * fixed-order sum, evaluation and checkpoints are the single-JVM ones. Per step it sends the parameter slab and
 * rows {@code [rows*i/W, rows*(i+1)/W)} of the batch to its node worker and receives the shard's gradient into its
 * replica's gradient slab: the same shard, parameters and pass as a local worker i, so the same bits.
 *
 * <p><b>Node loss.</b> It watches its node worker; when the split-brain resolver downs that node, the watch fires,
 * the share moves to a node worker of a surviving node ({@link ClusterWorkers#replace}) and the step in flight,
 * whose gradient had not reached the aggregator, is sent again there: no step is lost or counted twice (a late
 * reply of the old lease is ignored by its lease number). An {@code Anomaly("node-lost")}, a log line and
 * {@code descent.cluster.node.losses} record it; with no surviving node the job fails with a clear message.
 */
public final class RemoteWorker extends AbstractBehavior<Object> {
    private static final Logger LOG = LoggerFactory.getLogger(RemoteWorker.class);

    private final Worker.Setup s;
    private final ClusterWorkers placement;
    private final int chunkBytes;
    private final long paramBytes;
    private final int inputSize;
    private final MemorySegment grads;
    private ActorRef<ClusterProtocol.ToNode> node;
    private String nodeName;
    private long lease;
    private Worker.BatchReady current;
    private Worker.BatchReady next;
    private boolean pullOutstanding;
    private boolean ended;
    private boolean inFlight;
    private long applied;
    private int attempts;
    private long sentAt;
    private long bytesOut;
    private long bytesIn;
    private int lastEpoch = -1; // epoch of the last share dispatched

    static Behavior<Object> create(Worker.Setup setup, ClusterWorkers placement) {
        return Behaviors.setup(ctx -> new RemoteWorker(ctx, setup, placement));
    }

    private RemoteWorker(ActorContext<Object> ctx, Worker.Setup s, ClusterWorkers placement) {
        super(ctx);
        this.s = s;
        this.placement = placement;
        this.chunkBytes = ClusterSettings.chunkBytes(ctx.getSystem().settings().config());
        this.paramBytes = s.model().layout().totalFloats() * (long) Float.BYTES;
        this.inputSize = s.model().inputSize();
        this.grads = s.model().grads().segment();
        this.applied = s.startApplied();
        assign(placement.initial(s.index()));
        pull();
    }

    private void assign(ActorRef<ClusterProtocol.ToNode> to) {
        ChunkSinks.close(lease); // the previous lease's late chunks, if any, are no longer placed
        node = to;
        nodeName = nodeOf(to.path().address());
        lease = placement.newLease();
        ChunkSinks.open(lease, ChunkSinks.of(ClusterProtocol.Kind.GRADS, grads));
        getContext().watch(to);
        var j = s.spec();
        int maxRows = (j.batchSize() + s.workers() - 1) / s.workers();
        to.tell(new ClusterProtocol.Assign(lease, j.name(), s.index(), s.model().spec(), j.loss().name(),
                j.strategy().spelling(), j.seed(), j.threadsPerWorker(), j.microBatch(), maxRows,
                getContext().getSelf().narrow()));
    }

    @Override
    public Receive<Object> createReceive() {
        return newReceiveBuilder()
                .onMessage(Worker.BatchReady.class, this::onBatch)
                .onMessage(Worker.Proceed.class, this::onProceed)
                .onMessageEquals(Worker.EndOfData.INSTANCE, () -> {
                    pullOutstanding = false;
                    ended = true;
                    return this;
                })
                .onMessage(ClusterProtocol.Chunk.class, this::onChunk)
                .onMessage(ClusterProtocol.Placed.class, this::onPlaced)
                .onMessage(ClusterProtocol.Computed.class, this::onComputed)
                .onSignal(Terminated.class, this::onNodeGone)
                .onSignal(PostStop.class, sig -> {
                    ChunkSinks.close(lease);
                    node.tell(new ClusterProtocol.Release(lease));
                    return this;
                })
                .build();
    }

    private void pull() {
        if (!pullOutstanding && !ended && next == null) {
            pullOutstanding = true;
            s.loader().tell(new DataLoader.Pull(s.index(), getContext().getSelf().narrow()));
        }
    }

    private Behavior<Object> onBatch(Worker.BatchReady b) {
        pullOutstanding = false;
        next = b;
        return tryCompute();
    }

    private Behavior<Object> onProceed(Worker.Proceed p) {
        applied = p.applied();
        return tryCompute();
    }

    private Behavior<Object> tryCompute() {
        if (current == null && next != null) {
            current = next;
            next = null;
        }
        Worker.BatchReady b = current;
        if (b == null || inFlight || applied != b.seq()) {
            pull();
            return this;
        }
        int lo = (int) ((long) b.rows() * s.index() / s.workers());
        int hi = (int) ((long) b.rows() * (s.index() + 1) / s.workers());
        if (hi == lo) { // a short last batch: nothing for this worker
            s.loader().tell(new DataLoader.Release(b.slot()));
            current = null;
            s.aggregator().tell(new GradientAggregator.GradientReady(s.index(), b.seq(), b.epoch(),
                    b.batchInEpoch(), 0, 0, 0, 0, 0, 0, getContext().getSelf().narrow()));
            pull();
            return this;
        }
        if (b.epoch() != lastEpoch) {
            if (lastEpoch >= 0) {
                ActorRef<ClusterProtocol.ToNode> to = placement.rebalance(s.index());
                if (to != null) {
                    move(to, b.epoch());
                }
            }
            lastEpoch = b.epoch();
        }
        dispatch(b, lo, hi - lo);
        pull();
        return this;
    }

    /** Between two shares: this worker's share goes to node worker {@code to} from epoch {@code epoch} on. */
    private void move(ActorRef<ClusterProtocol.ToNode> to, int epoch) {
        String from = nodeName;
        node.tell(new ClusterProtocol.Release(lease));
        getContext().unwatch(node);
        assign(to);
        ClusterMetrics.shareMoved(nodeName);
        LOG.info("job {}: worker {} moves from node {} (its node worker also computes another share) to a free node "
                + "worker on node {} from epoch {}", s.spec().name(), s.index(), from, nodeName, epoch + 1);
    }

    /** Sends the parameters, the share's rows and the compute order of batch {@code b} to the node worker. */
    private void dispatch(Worker.BatchReady b, int lo, int rows) {
        inFlight = true;
        sentAt = System.nanoTime();
        long out = sendChunks(node, lease, b.seq(), ClusterProtocol.Kind.PARAMS, s.model().params().segment(), 0,
                paramBytes, chunkBytes);
        long fBytes = (long) rows * inputSize * Float.BYTES;
        out += sendChunks(node, lease, b.seq(), ClusterProtocol.Kind.FEATURES, s.pool().features(b.slot()),
                (long) lo * inputSize * Float.BYTES, fBytes, chunkBytes);
        out += sendChunks(node, lease, b.seq(), ClusterProtocol.Kind.LABELS, s.pool().labels(b.slot()),
                (long) lo * Integer.BYTES, (long) rows * Integer.BYTES, chunkBytes);
        node.tell(new ClusterProtocol.Compute(lease, b.seq(), rows, s.spec().measuresNoiseScale(b.seq())));
        bytesOut = out + 21;
        bytesIn = 0;
    }

    /**
     * Sends {@code bytes} bytes of {@code src} from {@code from} as chunks of at most {@code chunkBytes} to
     * offsets 0.. of the receiver's {@code kind} buffer; returns the bytes sent (payload plus chunk headers). The
     * chunks are views of {@code src}: the caller keeps it unchanged until the reply (the protocol's lock step
     * guarantees that: parameters change only after every worker's gradient is in).
     */
    static long sendChunks(ActorRef<? super ClusterProtocol.Chunk> to, long lease, long step,
                           ClusterProtocol.Kind kind, MemorySegment src, long from, long bytes, int chunkBytes) {
        long sent = 0;
        for (long off = 0; off < bytes; off += chunkBytes) {
            long n = Math.min(chunkBytes, bytes - off);
            to.tell(new ClusterProtocol.Chunk(lease, step, kind, off, src.asSlice(from + off, n)));
            sent += n + SlabSerializer.CHUNK_HEADER_BYTES;
        }
        return sent;
    }

    private Behavior<Object> onChunk(ClusterProtocol.Chunk c) {
        if (c.lease() == lease && inFlight && current != null && c.step() == current.seq()) {
            MemorySegment.copy(c.data(), 0, grads, c.offset(), c.data().byteSize());
            bytesIn += c.data().byteSize() + SlabSerializer.CHUNK_HEADER_BYTES;
        }
        return this;
    }

    private Behavior<Object> onPlaced(ClusterProtocol.Placed c) {
        if (c.lease() == lease && inFlight && current != null && c.step() == current.seq()) {
            bytesIn += c.bytes() + SlabSerializer.CHUNK_HEADER_BYTES;
        }
        return this;
    }

    private Behavior<Object> onComputed(ClusterProtocol.Computed d) {
        if (d.lease() != lease) {
            return this; // a reply of a lease given up after a node loss
        }
        if (d.step() < 0 && d.error() != null) {
            s.supervisor().tell(new JobSupervisor.Fail(new IllegalStateException("worker " + s.index() + " on node "
                    + nodeName + ": " + d.error())));
            return this;
        }
        Worker.BatchReady b = current;
        if (!inFlight || b == null || d.step() != b.seq()) {
            return this;
        }
        inFlight = false;
        if (d.error() != null) {
            attempts++;
            if (attempts > s.spec().maxRetries()) {
                s.supervisor().tell(new JobSupervisor.Fail(new Worker.WorkerFailedException(s.index(), b.seq(),
                        attempts, new IllegalStateException("on node " + nodeName + ": " + d.error()))));
                inFlight = true; // hold still: the job is failing
                return this;
            }
            s.supervisor().tell(new JobSupervisor.WorkerRetry(s.index(), b.seq(), attempts, d.error()));
            return tryCompute();
        }
        if (!Double.isFinite(d.loss())) {
            s.supervisor().tell(new JobSupervisor.NonFinite(s.index(), b.seq(), b.epoch(), d.loss()));
            inFlight = true;
            return this;
        }
        attempts = 0;
        long roundTrip = System.nanoTime() - sentAt;
        bytesIn += 64;
        ClusterMetrics.recordShare(nodeName, bytesOut, bytesIn, roundTrip - d.computeNanos());
        placement.recordShare(nodeName, bytesOut + bytesIn, roundTrip - d.computeNanos(), d.computeNanos());
        s.loader().tell(new DataLoader.Release(b.slot()));
        current = null;
        s.aggregator().tell(new GradientAggregator.GradientReady(s.index(), b.seq(), b.epoch(), b.batchInEpoch(),
                d.loss(), d.correct(), d.rows(), d.units(), d.unitSquares(), d.batchSquares(),
                getContext().getSelf().narrow()));
        pull();
        return this;
    }

    private Behavior<Object> onNodeGone(Terminated t) {
        if (!t.getRef().equals(node)) {
            return this;
        }
        Address lost = node.path().address();
        String lostName = nodeName;
        ActorRef<ClusterProtocol.ToNode> to = placement.replace(s.index(), lost);
        long step = current != null ? current.seq() : applied;
        if (to == null) {
            String why = "worker node " + lostName + " left the cluster and no other worker node is left to take "
                    + "worker " + s.index() + "'s share (step " + step + ")";
            LOG.error("job {}: {}", s.spec().name(), why);
            s.supervisor().tell(new JobSupervisor.Publish(new TrainingEvent.Anomaly(s.spec().name(), step,
                    "node-lost", why)));
            s.supervisor().tell(new JobSupervisor.Fail(new IllegalStateException(why)));
            return this;
        }
        boolean resend = inFlight;
        inFlight = false;
        assign(to);
        String why = "worker node " + lostName + " was lost (unreachable, downed by the split-brain resolver); "
                + "worker " + s.index() + "'s share moves to node " + nodeName
                + (resend ? ", step " + step + " is computed there again" : " from step " + step);
        LOG.warn("job {}: {}", s.spec().name(), why);
        s.supervisor().tell(new JobSupervisor.Publish(new TrainingEvent.Anomaly(s.spec().name(), step, "node-lost",
                why)));
        return tryCompute();
    }

    /** {@code host:port} of a node address (the metrics' {@code node} tag). */
    static String nodeOf(Address a) {
        return a.host().isDefined() ? a.host().get() + ":" + a.port().get() : "local";
    }
}
