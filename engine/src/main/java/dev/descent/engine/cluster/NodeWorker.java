package dev.descent.engine.cluster;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.GradientPass;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One compute slot of a worker node: registers with the Receptionist under {@link #KEY}; serves leases, each a
 * model replica and gradient pass for one logical worker of a job on the submitting node. A share arrives as
 * parameter, feature and label chunks and a {@link ClusterProtocol.Compute}; the reply is the gradient's chunks
 * and a {@link ClusterProtocol.Computed}. A node worker can hold several leases (a share re-dealt after a node
 * loss lands next to the node's own); they run one after the other on its thread. It watches each lease's
 * submitter and frees the lease when that goes away.
 */
public final class NodeWorker extends AbstractBehavior<ClusterProtocol.ToNode> {
    private static final Logger LOG = LoggerFactory.getLogger(NodeWorker.class);
    /** Receptionist key of every node worker in the cluster. */
    public static final ServiceKey<ClusterProtocol.ToNode> KEY = ServiceKey.create(ClusterProtocol.ToNode.class,
            "descent-node-worker");

    private static final class Lease implements AutoCloseable {
        final Model model;
        final GradientPass pass;
        final OffHeapBlock features;
        final OffHeapBlock labels;
        final ActorRef<ClusterProtocol.ToProxy> replyTo;
        final String peer;
        final long id;
        long bytesIn;

        Lease(ClusterProtocol.Assign a) {
            Model m = Model.fromSpec(a.modelSpec());
            GradientPass p = null;
            OffHeapBlock f = null;
            try {
                p = new GradientPass(m, Kernels.backend(), LossKind.parse(a.loss()),
                        BackpropStrategy.parse(a.strategy()), a.maxRows(), a.threads(), a.seed(), a.microBatch(),
                        null);
                f = OffHeapBlock.allocateFloats((long) a.maxRows() * m.inputSize(), Purpose.BATCHES);
                this.labels = OffHeapBlock.allocate((long) a.maxRows() * Integer.BYTES, Purpose.BATCHES);
            } catch (RuntimeException | Error e) {
                if (f != null) {
                    f.close();
                }
                if (p != null) {
                    p.close();
                }
                m.close();
                throw e;
            }
            this.model = m;
            this.pass = p;
            this.features = f;
            this.replyTo = a.replyTo();
            this.peer = RemoteWorker.nodeOf(a.replyTo().path().address());
            this.id = a.lease();
            MemorySegment[] sinks = ChunkSinks.of(ClusterProtocol.Kind.PARAMS, m.params().segment());
            sinks[ClusterProtocol.Kind.FEATURES.ordinal()] = f.segment();
            sinks[ClusterProtocol.Kind.LABELS.ordinal()] = labels.segment();
            ChunkSinks.open(id, sinks);
        }

        MemorySegment buffer(ClusterProtocol.Kind kind) {
            return switch (kind) {
                case PARAMS -> model.params().segment();
                case FEATURES -> features.segment();
                case LABELS -> labels.segment();
                case GRADS -> throw new IllegalArgumentException("a node does not receive gradients");
            };
        }

        @Override
        public void close() {
            ChunkSinks.close(id);
            pass.close();
            features.close();
            labels.close();
            model.close();
        }
    }

    private final Map<Long, Lease> leases = new HashMap<>();
    private final int chunkBytes;
    private final int index;

    public static Behavior<ClusterProtocol.ToNode> create(int index) {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
            return new NodeWorker(ctx, index);
        });
    }

    private NodeWorker(ActorContext<ClusterProtocol.ToNode> ctx, int index) {
        super(ctx);
        this.index = index;
        this.chunkBytes = ClusterSettings.chunkBytes(ctx.getSystem().settings().config());
    }

    @Override
    public Receive<ClusterProtocol.ToNode> createReceive() {
        return newReceiveBuilder()
                .onMessage(ClusterProtocol.Assign.class, this::onAssign)
                .onMessage(ClusterProtocol.Chunk.class, this::onChunk)
                .onMessage(ClusterProtocol.Placed.class, this::onPlaced)
                .onMessage(ClusterProtocol.Compute.class, this::onCompute)
                .onMessage(ClusterProtocol.Release.class, r -> {
                    release(r.lease(), "released by its job");
                    return this;
                })
                .onSignal(Terminated.class, this::onSubmitterGone)
                .onSignal(PostStop.class, s -> {
                    leases.values().forEach(Lease::close);
                    leases.clear();
                    return this;
                })
                .build();
    }

    private Behavior<ClusterProtocol.ToNode> onAssign(ClusterProtocol.Assign a) {
        release(a.lease(), "re-assigned");
        try {
            Lease l = new Lease(a);
            leases.put(a.lease(), l);
            getContext().watch(a.replyTo());
            LOG.info("node worker {}: job {} worker {} leased ({} parameters)", index, a.job(), a.worker(),
                    l.model.parameterCount());
        } catch (RuntimeException e) {
            a.replyTo().tell(new ClusterProtocol.Computed(a.lease(), -1, Double.NaN, 0, 0, 0, 0, 0, 0,
                    "cannot build the model on node worker " + getContext().getSelf().path() + ": " + e));
        }
        return this;
    }

    private Behavior<ClusterProtocol.ToNode> onChunk(ClusterProtocol.Chunk c) {
        Lease l = leases.get(c.lease());
        if (l != null) {
            MemorySegment.copy(c.data(), 0, l.buffer(c.kind()), c.offset(), c.data().byteSize());
            l.bytesIn += c.data().byteSize() + SlabSerializer.CHUNK_HEADER_BYTES;
        }
        return this;
    }

    private Behavior<ClusterProtocol.ToNode> onPlaced(ClusterProtocol.Placed c) {
        Lease l = leases.get(c.lease());
        if (l != null) {
            l.bytesIn += c.bytes() + SlabSerializer.CHUNK_HEADER_BYTES;
        }
        return this;
    }

    private Behavior<ClusterProtocol.ToNode> onCompute(ClusterProtocol.Compute c) {
        Lease l = leases.get(c.lease());
        if (l == null) {
            return this; // released meanwhile
        }
        long t0 = System.nanoTime();
        double loss;
        int correct;
        try {
            l.pass.measureUnits(c.measureUnits());
            loss = l.pass.run(l.features.segment(), 0, l.labels.segment(), 0, c.rows(), c.step());
            correct = l.pass.correct();
        } catch (RuntimeException e) {
            LOG.warn("node worker {}: step {} failed", index, c.step(), e);
            l.replyTo.tell(new ClusterProtocol.Computed(c.lease(), c.step(), Double.NaN, 0, c.rows(), 0, 0, 0,
                    System.nanoTime() - t0, e.toString()));
            return this;
        }
        long compute = System.nanoTime() - t0;
        long out = 0;
        if (Double.isFinite(loss)) {
            out = RemoteWorker.sendChunks(l.replyTo, c.lease(), c.step(), ClusterProtocol.Kind.GRADS,
                    l.model.grads().segment(), 0, l.model.layout().totalFloats() * (long) Float.BYTES, chunkBytes);
        }
        l.replyTo.tell(new ClusterProtocol.Computed(c.lease(), c.step(), loss, correct, c.rows(),
                c.measureUnits() ? l.pass.units() : 0, c.measureUnits() ? l.pass.unitSquares() : 0,
                c.measureUnits() ? l.pass.batchSquares() : 0, compute, null));
        ClusterMetrics.recordNodeShare(l.peer, l.bytesIn, out, compute);
        l.bytesIn = 0;
        return this;
    }

    private Behavior<ClusterProtocol.ToNode> onSubmitterGone(Terminated t) {
        leases.entrySet().removeIf(e -> {
            if (e.getValue().replyTo.equals(t.getRef())) {
                LOG.info("node worker {}: the job of lease {} is gone; freeing it", index, e.getKey());
                e.getValue().close();
                return true;
            }
            return false;
        });
        return this;
    }

    private void release(long lease, String why) {
        Lease l = leases.remove(lease);
        if (l != null) {
            LOG.debug("node worker {}: lease {} {}", index, lease, why);
            if (leases.values().stream().noneMatch(x -> x.replyTo.equals(l.replyTo))) {
                getContext().unwatch(l.replyTo);
            }
            l.close();
        }
    }
}
