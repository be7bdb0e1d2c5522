package dev.descent.engine.cluster;

import java.io.NotSerializableException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.ByteBufferSerializer;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Binary serializer of {@link ClusterProtocol} messages, registered in {@code descent-cluster.conf}. Artery calls
 * {@link #toBinary(Object, ByteBuffer)} with its outgoing envelope buffer: a {@link ClusterProtocol.Chunk}'s floats
 * are copied once, from the slab into that buffer (no intermediate array, no Jackson). Little-endian throughout.
 * On the receiving side a chunk of a lease open in {@link ChunkSinks} is copied once, from Artery's (reused) inbound
 * buffer straight into its destination slab, and becomes a {@link ClusterProtocol.Placed} notice; any other chunk is
 * copied into a heap segment.
 */
public final class SlabSerializer extends SerializerWithStringManifest implements ByteBufferSerializer {
    /** Pekko serializer id (user range is > 40). */
    public static final int ID = 7_117_001;
    /** Bytes a chunk's header takes at most besides its data (lease, step, kind, offset, length). */
    public static final int CHUNK_HEADER_BYTES = 8 + 8 + 1 + 8 + 4;

    static final LongAdder SERIALIZE_NANOS = new LongAdder();
    static final LongAdder DESERIALIZE_NANOS = new LongAdder();

    private final ExtendedActorSystem system;
    private volatile ActorRefResolver resolver;

    public SlabSerializer(ExtendedActorSystem system) {
        this.system = system;
    }

    @Override
    public int identifier() {
        return ID;
    }

    @Override
    public String manifest(Object o) {
        return switch (o) {
            case ClusterProtocol.Chunk c -> "K";
            case ClusterProtocol.Compute c -> "C";
            case ClusterProtocol.Computed c -> "D";
            case ClusterProtocol.Assign a -> "A";
            case ClusterProtocol.Release r -> "R";
            default -> throw new IllegalArgumentException("not a cluster protocol message: " + o.getClass());
        };
    }

    @Override
    public byte[] toBinary(Object o) {
        ByteBuffer b = ByteBuffer.allocate(sizeOf(o));
        toBinary(o, b);
        return b.array();
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        return fromBinary(ByteBuffer.wrap(bytes), manifest);
    }

    private int sizeOf(Object o) {
        return switch (o) {
            case ClusterProtocol.Chunk c -> CHUNK_HEADER_BYTES + Math.toIntExact(c.data().byteSize());
            case ClusterProtocol.Compute c -> 8 + 8 + 4 + 1;
            case ClusterProtocol.Computed d -> 8 + 8 + 8 + 4 + 4 + 4 + 8 + 8 + 8 + 1 + (d.error() == null ? 0
                    : 4 + d.error().getBytes(StandardCharsets.UTF_8).length);
            case ClusterProtocol.Assign a -> 8 + 4 + 8 + 4 + 4 + 4 + str(a.job()) + str(a.modelSpec())
                    + str(a.loss()) + str(a.strategy()) + str(resolver().toSerializationFormat(a.replyTo()));
            case ClusterProtocol.Release r -> 8;
            default -> throw new IllegalArgumentException("not a cluster protocol message: " + o.getClass());
        };
    }

    private static int str(String s) {
        return 4 + s.getBytes(StandardCharsets.UTF_8).length;
    }

    @Override
    public void toBinary(Object o, ByteBuffer buf) {
        long t0 = System.nanoTime();
        buf.order(ByteOrder.LITTLE_ENDIAN);
        switch (o) {
            case ClusterProtocol.Chunk c -> {
                int n = Math.toIntExact(c.data().byteSize());
                buf.putLong(c.lease()).putLong(c.step()).put((byte) c.kind().ordinal()).putLong(c.offset()).putInt(n);
                int at = buf.position();
                if (buf.remaining() < n) {
                    throw new IllegalArgumentException("a chunk of " + n + " bytes does not fit the " + buf.remaining()
                            + " bytes left in the frame; chunks are cut to the configured maximum frame size");
                }
                MemorySegment.copy(c.data(), 0, MemorySegment.ofBuffer(buf), 0, n); // the one copy
                buf.position(at + n);
            }
            case ClusterProtocol.Compute c -> buf.putLong(c.lease()).putLong(c.step()).putInt(c.rows())
                    .put((byte) (c.measureUnits() ? 1 : 0));
            case ClusterProtocol.Computed d -> {
                buf.putLong(d.lease()).putLong(d.step()).putDouble(d.loss()).putInt(d.correct()).putInt(d.rows())
                        .putInt(d.units()).putDouble(d.unitSquares()).putDouble(d.batchSquares())
                        .putLong(d.computeNanos());
                buf.put((byte) (d.error() == null ? 0 : 1));
                if (d.error() != null) {
                    putString(buf, d.error());
                }
            }
            case ClusterProtocol.Assign a -> {
                buf.putLong(a.lease()).putInt(a.worker()).putLong(a.seed()).putInt(a.threads()).putInt(a.microBatch())
                        .putInt(a.maxRows());
                putString(buf, a.job());
                putString(buf, a.modelSpec());
                putString(buf, a.loss());
                putString(buf, a.strategy());
                putString(buf, resolver().toSerializationFormat(a.replyTo()));
            }
            case ClusterProtocol.Release r -> buf.putLong(r.lease());
            default -> throw new IllegalArgumentException("not a cluster protocol message: " + o.getClass());
        }
        SERIALIZE_NANOS.add(System.nanoTime() - t0);
    }

    @Override
    public Object fromBinary(ByteBuffer buf, String manifest) throws NotSerializableException {
        long t0 = System.nanoTime();
        buf.order(ByteOrder.LITTLE_ENDIAN);
        Object o = switch (manifest) {
            case "K" -> {
                long lease = buf.getLong();
                long step = buf.getLong();
                ClusterProtocol.Kind kind = ClusterProtocol.Kind.of(buf.get());
                long offset = buf.getLong();
                int n = buf.getInt();
                MemorySegment dest = ChunkSinks.target(lease, kind, offset, n);
                if (dest != null) {
                    MemorySegment.copy(MemorySegment.ofBuffer(buf), 0, dest, offset, n);
                    buf.position(buf.position() + n);
                    yield new ClusterProtocol.Placed(lease, step, kind, offset, n);
                }
                byte[] data = new byte[n];
                buf.get(data);
                yield new ClusterProtocol.Chunk(lease, step, kind, offset, MemorySegment.ofArray(data));
            }
            case "C" -> new ClusterProtocol.Compute(buf.getLong(), buf.getLong(), buf.getInt(), buf.get() != 0);
            case "D" -> {
                long lease = buf.getLong();
                long step = buf.getLong();
                double loss = buf.getDouble();
                int correct = buf.getInt();
                int rows = buf.getInt();
                int units = buf.getInt();
                double squares = buf.getDouble();
                double batchSquares = buf.getDouble();
                long nanos = buf.getLong();
                String error = buf.get() != 0 ? getString(buf) : null;
                yield new ClusterProtocol.Computed(lease, step, loss, correct, rows, units, squares, batchSquares, nanos,
                        error);
            }
            case "A" -> {
                long lease = buf.getLong();
                int worker = buf.getInt();
                long seed = buf.getLong();
                int threads = buf.getInt();
                int micro = buf.getInt();
                int maxRows = buf.getInt();
                String job = getString(buf);
                String spec = getString(buf);
                String loss = getString(buf);
                String strategy = getString(buf);
                ActorRef<ClusterProtocol.ToProxy> replyTo = resolver().resolveActorRef(getString(buf));
                yield new ClusterProtocol.Assign(lease, job, worker, spec, loss, strategy, seed, threads, micro,
                        maxRows, replyTo);
            }
            case "R" -> new ClusterProtocol.Release(buf.getLong());
            default -> throw new NotSerializableException("unknown cluster protocol manifest '" + manifest + "'");
        };
        DESERIALIZE_NANOS.add(System.nanoTime() - t0);
        return o;
    }

    private static void putString(ByteBuffer buf, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        buf.putInt(b.length).put(b);
    }

    private static String getString(ByteBuffer buf) {
        byte[] b = new byte[buf.getInt()];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private ActorRefResolver resolver() {
        ActorRefResolver r = resolver;
        if (r == null) {
            r = ActorRefResolver.get(Adapter.toTyped(system));
            resolver = r;
        }
        return r;
    }
}
