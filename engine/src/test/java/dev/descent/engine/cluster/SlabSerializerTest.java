package dev.descent.engine.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The binary wire format: registered by descent-cluster.conf, exact round trips, chunks cut to the frame. */
class SlabSerializerTest {
    private static ActorSystem<Void> system;
    private static SlabSerializer serializer;

    @BeforeAll
    static void start() {
        system = ActorSystem.create(Behaviors.empty(), "slab-serializer-test",
                ConfigFactory.parseResources(SlabSerializerTest.class.getClassLoader(), "descent-cluster.conf")
                        .withFallback(ConfigFactory.load()));
        serializer = new SlabSerializer((ExtendedActorSystem) Adapter.toClassic(system));
    }

    @AfterAll
    static void stop() throws Exception {
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    private static Object roundTrip(Object o) throws Exception {
        ByteBuffer direct = ByteBuffer.allocateDirect(1 << 20);
        serializer.toBinary(o, direct);
        int written = direct.position();
        assertEquals(serializer.toBinary(o).length, written, "the byte[] and buffer paths write the same bytes");
        direct.flip();
        Object back = serializer.fromBinary(direct, serializer.manifest(o));
        assertEquals(written, direct.position(), "reads exactly what was written");
        return back;
    }

    @Test
    void everyProtocolMessageIsBoundToTheSlabSerializer() {
        var ext = SerializationExtension.get(Adapter.toClassic(system));
        MemorySegment data = MemorySegment.ofArray(new byte[8]);
        for (Object m : List.of(new ClusterProtocol.Chunk(1, 2, ClusterProtocol.Kind.PARAMS, 0, data),
                new ClusterProtocol.Compute(1, 2, 3, true), new ClusterProtocol.Release(1),
                new ClusterProtocol.Computed(1, 2, 0.5, 3, 4, 0, 0, 0, 9, null))) {
            assertInstanceOf(SlabSerializer.class, ext.findSerializerFor(m), m.getClass().getSimpleName());
        }
    }

    @Test
    void chunksCarryTheSlabsBytesExactly() throws Exception {
        try (OffHeapBlock slab = OffHeapBlock.allocateFloats(1000, Purpose.GRADIENTS)) {
            MemorySegment s = slab.segment();
            for (int i = 0; i < 1000; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i) * 1e-3f);
            }
            s.setAtIndex(ValueLayout.JAVA_FLOAT, 7, Float.NaN);
            s.setAtIndex(ValueLayout.JAVA_FLOAT, 8, -0.0f);
            var c = new ClusterProtocol.Chunk(42, 7, ClusterProtocol.Kind.GRADS, 400, s.asSlice(400, 2000));
            var back = (ClusterProtocol.Chunk) roundTrip(c);
            assertEquals(42, back.lease());
            assertEquals(7, back.step());
            assertEquals(ClusterProtocol.Kind.GRADS, back.kind());
            assertEquals(400, back.offset());
            assertArrayEquals(s.asSlice(400, 2000).toArray(ValueLayout.JAVA_BYTE), back.data().toArray(
                    ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void aChunkOfAnOpenLeaseIsPlacedStraightIntoItsSlab() throws Exception {
        try (OffHeapBlock from = OffHeapBlock.allocateFloats(1000, Purpose.GRADIENTS);
             OffHeapBlock to = OffHeapBlock.allocateFloats(1000, Purpose.GRADIENTS)) {
            MemorySegment s = from.segment();
            for (int i = 0; i < 1000; i++) {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.cos(i));
            }
            ChunkSinks.open(43, ChunkSinks.of(ClusterProtocol.Kind.GRADS, to.segment()));
            try {
                var placed = (ClusterProtocol.Placed) roundTrip(new ClusterProtocol.Chunk(43, 7,
                        ClusterProtocol.Kind.GRADS, 400, s.asSlice(400, 2000)));
                assertEquals(new ClusterProtocol.Placed(43, 7, ClusterProtocol.Kind.GRADS, 400, 2000), placed);
                assertArrayEquals(s.asSlice(400, 2000).toArray(ValueLayout.JAVA_BYTE),
                        to.segment().asSlice(400, 2000).toArray(ValueLayout.JAVA_BYTE));
                assertEquals(0f, to.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 99)); // nothing outside the chunk
                // another kind of the same lease, or a chunk that would not fit, is not placed: a heap copy as before
                assertInstanceOf(ClusterProtocol.Chunk.class, roundTrip(new ClusterProtocol.Chunk(43, 7,
                        ClusterProtocol.Kind.PARAMS, 0, s.asSlice(0, 64))));
                assertInstanceOf(ClusterProtocol.Chunk.class, roundTrip(new ClusterProtocol.Chunk(43, 7,
                        ClusterProtocol.Kind.GRADS, 3990, s.asSlice(0, 64))));
            } finally {
                ChunkSinks.close(43);
            }
            assertInstanceOf(ClusterProtocol.Chunk.class, roundTrip(new ClusterProtocol.Chunk(43, 7,
                    ClusterProtocol.Kind.GRADS, 400, s.asSlice(400, 2000))), "a closed lease's chunk is not placed");
        }
    }

    @Test
    void controlMessagesRoundTrip() throws Exception {
        var d = new ClusterProtocol.Computed(5, 9, 0.25, 11, 64, 2, 3.5, 7.25, 123_456, "java.lang.IllegalStateException: é");
        assertEquals(d, roundTrip(d));
        var ok = new ClusterProtocol.Computed(5, 9, Double.NaN, 0, 64, 0, 0, 0, 1, null);
        assertEquals(ok.toString(), roundTrip(ok).toString());
        assertEquals(new ClusterProtocol.Compute(3, 4, 17, true), roundTrip(new ClusterProtocol.Compute(3, 4, 17, true)));
        assertEquals(new ClusterProtocol.Release(-8), roundTrip(new ClusterProtocol.Release(-8)));
        ActorRef<ClusterProtocol.ToProxy> ref = system.systemActorOf(Behaviors.empty(), "proxy",
                org.apache.pekko.actor.typed.Props.empty());
        var a = new ClusterProtocol.Assign(77, "job", 1, "descent-model 1\ninput 4\nlinear 3\n", "CROSS_ENTROPY",
                "checkpointed:2", 11, 1, 0, 32, ref);
        assertEquals(a, roundTrip(a));
    }

    @Test
    void slabsAreCutToTheFrameAndAChunkThatDoesNotFitIsRefused() {
        org.apache.pekko.actor.testkit.typed.javadsl.TestProbe<ClusterProtocol.Chunk> probe =
                org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(system);
        ActorRef<ClusterProtocol.Chunk> sink = probe.getRef();
        int chunk = ClusterSettings.chunkBytes(system.settings().config());
        assertEquals(2 * 1024 * 1024 - ClusterSettings.FRAME_HEADROOM, chunk); // the large-message stream's frame
        List<String> large = system.settings().config().getStringList("pekko.remote.artery.large-message-destinations");
        assertTrue(large.contains("/user/node-worker-*") && large.contains("/system/*/worker-*"), large.toString());
        MemorySegment big = MemorySegment.ofArray(new byte[3 * chunk + 5]);
        long bytes = RemoteWorker.sendChunks(sink, 1, 0, ClusterProtocol.Kind.PARAMS, big, 0, big.byteSize(), chunk);
        List<ClusterProtocol.Chunk> sent = probe.receiveSeveralMessages(4);
        probe.expectNoMessage(java.time.Duration.ofMillis(50));
        assertEquals(big.byteSize() + 4L * SlabSerializer.CHUNK_HEADER_BYTES, bytes);
        assertEquals(3L * chunk, sent.get(3).offset());
        assertEquals(5, sent.get(3).data().byteSize());
        ByteBuffer small = ByteBuffer.allocate(1024);
        assertThrows(IllegalArgumentException.class, () -> serializer.toBinary(sent.get(0), small));
    }
}
