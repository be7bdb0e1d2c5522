package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.train.BatchAssembler;
import java.lang.foreign.MemorySegment;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Reads, shuffles (seeded, per epoch, exactly as the direct trainer) and assembles batches into a bounded pool of
 * off-heap slots. Workers pull; the loader fills ahead only into free slots, so memory is bounded and a slow
 * consumer slows the loader down (backpressure) instead of growing a queue. In sync mode a slot freed by the last
 * release of a step is filled when a worker next finishes early (or when a pull needs it), not at once: the
 * workers that finished first are idle then, while at once would compete with the step's sum and update.
 *
 * <p>Batches are numbered by their global sequence {@code seq = epoch * batchesPerEpoch + batchInEpoch}. With
 * {@code shares = W} (sync mode) every worker receives every batch (each computes its own shard) and a slot is
 * free again once all W released it; with {@code shares = 1} (async mode) each batch goes to the first worker
 * that asks. At most one pull per worker is pending, so the pending list is bounded by W.
 */
public final class DataLoader extends AbstractBehavior<DataLoader.Command> {

    /** The loader's protocol. */
    public sealed interface Command {
    }

    /** Worker {@code worker} wants its next batch; answered with BatchReady or EndOfData. */
    public record Pull(int worker, ActorRef<Worker.Command> replyTo) implements Command {
    }

    /** The sender is done with slot {@code slot}. */
    public record Release(int slot) implements Command {
    }

    private final BatchAssembler assembler;
    private final int perEpoch;
    private final long endSeq;
    private final int shares;
    private final Slot[] slots;
    private final long[] cursor; // sync: next seq of each worker
    private final java.util.List<ActorRef<Worker.Command>> pending;
    private long nextFill;
    private long nextClaim; // async: next seq to hand out
    private int shuffledEpoch = -1;

    private static final class Slot {
        final OffHeapBlock features;
        final OffHeapBlock labels;
        long seq = -1;
        int rows;
        int refs; // shares not yet released; 0 = free
        int handedOut;

        Slot(int batchSize, int featureSize) {
            this.features = OffHeapBlock.allocateFloats((long) batchSize * featureSize, Purpose.BATCHES);
            OffHeapBlock l;
            try {
                l = OffHeapBlock.allocate((long) batchSize * Integer.BYTES, Purpose.BATCHES);
            } catch (RuntimeException | Error e) {
                features.close();
                throw e;
            }
            this.labels = l;
        }
    }

    /** Read-only view of the pool, for workers: slot i's feature and label buffers. */
    public static final class Pool implements AutoCloseable {
        private final Slot[] slots;

        Pool(int size, int batchSize, int featureSize) {
            slots = new Slot[size];
            try {
                for (int i = 0; i < size; i++) {
                    slots[i] = new Slot(batchSize, featureSize);
                }
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        public MemorySegment features(int slot) {
            return slots[slot].features.segment();
        }

        public MemorySegment labels(int slot) {
            return slots[slot].labels.segment();
        }

        public int size() {
            return slots.length;
        }

        @Override
        public void close() {
            for (Slot s : slots) {
                if (s != null) {
                    s.features.close();
                    s.labels.close();
                }
            }
        }
    }

    /**
     * @param pool     batch slots (owned by the caller, which closes them after this actor stopped)
     * @param startSeq first batch to deliver (resume), {@code endSeq} one past the last
     */
    public static Behavior<Command> create(Dataset data, int batchSize, long seed, Pool pool, int workers,
                                           int shares, long startSeq, long endSeq) {
        return Behaviors.setup(ctx -> new DataLoader(ctx, data, batchSize, seed, pool, workers, shares, startSeq,
                endSeq));
    }

    private DataLoader(ActorContext<Command> ctx, Dataset data, int batchSize, long seed, Pool pool, int workers,
                       int shares, long startSeq, long endSeq) {
        super(ctx);
        this.assembler = new BatchAssembler(data, batchSize, seed);
        this.perEpoch = assembler.batchesPerEpoch();
        this.endSeq = endSeq;
        this.shares = shares;
        this.slots = pool.slots;
        this.cursor = new long[workers];
        java.util.Arrays.fill(cursor, startSeq);
        this.pending = new java.util.ArrayList<>(java.util.Collections.nCopies(workers, null));
        this.nextFill = startSeq;
        this.nextClaim = startSeq;
        fill();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Pull.class, this::onPull)
                .onMessage(Release.class, this::onRelease)
                .onSignal(PostStop.class, s -> {
                    assembler.close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onPull(Pull p) {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        pending.set(p.worker(), p.replyTo());
        serve();
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.LOADER_PULL, begin);
        }
        return this;
    }

    private Behavior<Command> onRelease(Release r) {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        Slot s = slots[r.slot()];
        if (s.refs <= 0) {
            throw new IllegalStateException("slot " + r.slot() + " released more often than handed out");
        }
        s.refs--;
        if (s.refs > 0 || shares == 1) {
            // sync: the first workers to finish a step wait for the last one; filling now keeps the gather (a random
            // read of a batch's rows) off the step's path, where it would slow the sum and the update down
            fill();
        }
        serve();
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.LOADER_RELEASE, begin);
        }
        return this;
    }

    private void fill() {
        for (Slot s : slots) {
            if (nextFill >= endSeq) {
                return;
            }
            if (s.refs == 0) {
                int epoch = (int) (nextFill / perEpoch);
                if (epoch != shuffledEpoch) {
                    assembler.shuffle(epoch);
                    shuffledEpoch = epoch;
                }
                s.rows = assembler.fill((int) (nextFill % perEpoch), s.features.segment(), s.labels.segment());
                s.seq = nextFill;
                s.refs = shares;
                s.handedOut = 0;
                nextFill++;
            }
        }
    }

    /** The slot holding batch {@code seq}, or -1 when no slot holds it (yet). */
    private int slotOf(long seq) {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i].refs > 0 && slots[i].seq == seq) {
                return i;
            }
        }
        return -1;
    }

    private void serve() {
        for (int w = 0; w < pending.size(); w++) {
            ActorRef<Worker.Command> to = pending.get(w);
            if (to == null) {
                continue;
            }
            long want = shares == 1 ? nextClaim : cursor[w];
            if (want >= endSeq) {
                pending.set(w, null);
                to.tell(Worker.EndOfData.INSTANCE);
                continue;
            }
            int i = slotOf(want);
            if (i < 0) {
                fill(); // a slot freed by a step's last release is filled on the next step's first one, or here
                i = slotOf(want);
            }
            if (i >= 0 && slots[i].handedOut < shares) {
                Slot s = slots[i];
                s.handedOut++;
                pending.set(w, null);
                if (shares == 1) {
                    nextClaim++;
                } else {
                    cursor[w]++;
                }
                to.tell(new Worker.BatchReady(i, want, (int) (want / perEpoch), (int) (want % perEpoch), s.rows));
            }
        }
    }
}
