package dev.descent.engine.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class OffHeapBlockTest {
    private static final Purpose[] PURPOSES = Purpose.values();

    private static long[] liveBytesPerPurpose() {
        long[] out = new long[PURPOSES.length];
        for (Purpose p : PURPOSES) {
            out[p.ordinal()] = MemoryAccounting.liveBytes(p);
        }
        return out;
    }

    private static long[] liveBlocksPerPurpose() {
        long[] out = new long[PURPOSES.length];
        for (Purpose p : PURPOSES) {
            out[p.ordinal()] = MemoryAccounting.liveBlocks(p);
        }
        return out;
    }

    @Test
    void shouldReturnAccountingToBaselineAfterOpeningAndClosingThousandsOfBlocks() {
        long[] bytes = liveBytesPerPurpose();
        long[] blocks = liveBlocksPerPurpose();
        Random random = new Random(7);
        List<OffHeapBlock> open = new ArrayList<>();
        long expectedBytes = 0;
        for (int i = 0; i < 5_000; i++) {
            long size = random.nextInt(20_000);
            OffHeapBlock block = OffHeapBlock.allocate(size, PURPOSES[i % PURPOSES.length]);
            block.segment().fill((byte) 1); // touch the memory
            open.add(block);
            expectedBytes += size;
            if (open.size() == 100) { // close in batches, in a different order than allocated
                for (int j = open.size() - 1; j >= 0; j--) {
                    open.get(j).close();
                }
                open.clear();
                expectedBytes = 0;
            }
            assertThat(MemoryAccounting.totalLiveBytes() - sum(bytes)).isEqualTo(expectedBytes);
        }
        open.forEach(OffHeapBlock::close);

        assertThat(liveBytesPerPurpose()).containsExactly(bytes);
        assertThat(liveBlocksPerPurpose()).containsExactly(blocks);
    }

    @Test
    void shouldCountCorrectlyWhenThreadsAllocateAndCloseConcurrently() throws Exception {
        long bytes = MemoryAccounting.totalLiveBytes();
        long blocks = MemoryAccounting.totalLiveBlocks();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 2_000; i++) {
                        try (OffHeapBlock b = OffHeapBlock.allocate(1 + random.nextInt(4096),
                                PURPOSES[random.nextInt(PURPOSES.length)])) {
                            b.buffer().putByte(0, (byte) i);
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        assertThat(MemoryAccounting.totalLiveBytes()).isEqualTo(bytes);
        assertThat(MemoryAccounting.totalLiveBlocks()).isEqualTo(blocks);
    }

    @Test
    void shouldCountBytesAndBlocksPerPurpose() {
        long[] bytes = liveBytesPerPurpose();
        long[] blocks = liveBlocksPerPurpose();
        OffHeapBlock p2 = OffHeapBlock.allocate(24, Purpose.PARAMETERS);
        try (OffHeapBlock p1 = OffHeapBlock.allocateFloats(1000, Purpose.PARAMETERS);
             OffHeapBlock g = OffHeapBlock.allocateFloats(10, Purpose.GRADIENTS);
             OffHeapBlock empty = OffHeapBlock.allocate(0, Purpose.WORKSPACE)) {
            assertThat(g.byteSize()).isEqualTo(40);
            long[] nowBytes = liveBytesPerPurpose();
            long[] nowBlocks = liveBlocksPerPurpose();
            for (Purpose p : PURPOSES) {
                long dBytes = nowBytes[p.ordinal()] - bytes[p.ordinal()];
                long dBlocks = nowBlocks[p.ordinal()] - blocks[p.ordinal()];
                switch (p) {
                    case PARAMETERS -> {
                        assertThat(dBytes).isEqualTo(4024);
                        assertThat(dBlocks).isEqualTo(2);
                    }
                    case GRADIENTS -> {
                        assertThat(dBytes).isEqualTo(40);
                        assertThat(dBlocks).isEqualTo(1);
                    }
                    case WORKSPACE -> {
                        assertThat(dBytes).isZero();
                        assertThat(dBlocks).isEqualTo(1);
                    }
                    default -> {
                        assertThat(dBytes).as("%s bytes", p).isZero();
                        assertThat(dBlocks).as("%s blocks", p).isZero();
                    }
                }
            }
            assertThat(p1.purpose()).isEqualTo(Purpose.PARAMETERS);
            assertThat(p1.byteSize()).isEqualTo(4000);
            assertThat(p1.floatCount()).isEqualTo(1000);
            assertThat(empty.byteSize()).isZero();
            p2.close(); // closing one block releases exactly its own bytes
            assertThat(MemoryAccounting.liveBytes(Purpose.PARAMETERS) - bytes[Purpose.PARAMETERS.ordinal()])
                    .isEqualTo(4000);
            assertThat(MemoryAccounting.liveBlocks(Purpose.PARAMETERS) - blocks[Purpose.PARAMETERS.ordinal()])
                    .isEqualTo(1);
        } finally {
            p2.close();
        }
        assertThat(liveBytesPerPurpose()).containsExactly(bytes);
        assertThat(liveBlocksPerPurpose()).containsExactly(blocks);
    }

    @Test
    void shouldAlignEveryBlockTo64Bytes() {
        List<OffHeapBlock> blocks = new ArrayList<>();
        try {
            for (long size : new long[] {0, 1, 3, 4, 63, 64, 65, 100, 4095, 4097, 1 << 20}) {
                for (int i = 0; i < 8; i++) {
                    OffHeapBlock b = OffHeapBlock.allocate(size, Purpose.WORKSPACE);
                    blocks.add(b);
                    assertThat(b.segment().address() % OffHeapBlock.ALIGNMENT).as("segment of %d bytes", size).isZero();
                    assertThat(b.buffer().addressOffset() % OffHeapBlock.ALIGNMENT).as("buffer of %d bytes", size)
                            .isZero();
                    assertThat(b.buffer().addressOffset()).isEqualTo(b.segment().address());
                    assertThat(b.segment().byteSize()).isEqualTo(size);
                    assertThat(b.buffer().capacity()).isEqualTo((int) size);
                }
            }
        } finally {
            blocks.forEach(OffHeapBlock::close);
        }
        assertThat(OffHeapBlock.ALIGNMENT).isEqualTo(64);
    }

    @Test
    void shouldStartZeroedAndShareBytesBetweenBufferAndSegment() {
        try (OffHeapBlock b = OffHeapBlock.allocateFloats(33, Purpose.ACTIVATIONS)) {
            assertThat(b.toArray()).containsOnly(0f);
            b.buffer().putFloat(4 * Float.BYTES, 2.5f);
            assertThat(b.getFloat(4)).isEqualTo(2.5f);
            b.setFloat(32, -1f);
            assertThat(b.buffer().getFloat(32 * Float.BYTES)).isEqualTo(-1f);
            b.fill(3f);
            assertThat(b.toArray()).containsOnly(3f);
            b.copyFrom(new float[] {7f, 8f}, 31);
            assertThat(b.toArray(30, 3)).containsExactly(3f, 7f, 8f);
        }
    }

    @Test
    void shouldThrowInsteadOfCrashingWhenUsedAfterClose() {
        assertThat(UnsafeBuffer.SHOULD_BOUNDS_CHECK)
                .as("Agrona bounds checks are what make the buffer view safe after close; "
                        + "-Dagrona.disable.bounds.checks=true removes that protection")
                .isTrue();
        OffHeapBlock b = OffHeapBlock.allocateFloats(16, Purpose.ACTIVATIONS);
        MemorySegment segment = b.segment();
        MemorySegment slice = segment.asSlice(8, 16);
        UnsafeBuffer buffer = b.buffer();
        b.close();

        assertThat(b.isClosed()).isTrue();
        assertThatThrownBy(() -> segment.get(ValueLayout.JAVA_FLOAT, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> segment.set(ValueLayout.JAVA_FLOAT, 0, 1f)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> slice.get(ValueLayout.JAVA_BYTE, 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> buffer.getFloat(0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> buffer.putLong(8, 1L)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> b.buffer().putInt(0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThat(buffer.capacity()).isZero();
        assertThatThrownBy(() -> b.getFloat(0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.setFloat(0, 1f)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.fill(2f)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.fill(0f)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> b.copyFrom(new float[1], 0)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(b::toArray).isInstanceOf(IllegalStateException.class);
        assertThat(b.toString()).contains("closed");
    }

    @Test
    void shouldTreatDoubleCloseAsHarmless() {
        long bytes = MemoryAccounting.liveBytes(Purpose.GRADIENTS);
        long blocks = MemoryAccounting.liveBlocks(Purpose.GRADIENTS);
        OffHeapBlock b = OffHeapBlock.allocate(128, Purpose.GRADIENTS);
        b.close();
        assertThatCode(b::close).doesNotThrowAnyException();
        assertThatCode(b::close).doesNotThrowAnyException();

        assertThat(MemoryAccounting.liveBytes(Purpose.GRADIENTS)).isEqualTo(bytes);
        assertThat(MemoryAccounting.liveBlocks(Purpose.GRADIENTS)).isEqualTo(blocks);
    }

    @Test
    void shouldRejectNegativeAndOversizedBlocksWithoutCountingThem() {
        long bytes = MemoryAccounting.totalLiveBytes();
        long blocks = MemoryAccounting.totalLiveBlocks();

        assertThatThrownBy(() -> OffHeapBlock.allocate(-1, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was -1");
        assertThatThrownBy(() -> OffHeapBlock.allocate(1L << 31, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was 2147483648");
        assertThatThrownBy(() -> OffHeapBlock.allocateFloats(-1, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was -1");
        // count * 4 overflows to 0 (2^62) or to a negative number (2^61): both must be refused, not allocated.
        assertThatThrownBy(() -> OffHeapBlock.allocateFloats(1L << 62, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was " + (1L << 62));
        assertThatThrownBy(() -> OffHeapBlock.allocateFloats(1L << 61, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("was " + (1L << 61));
        assertThatThrownBy(() -> OffHeapBlock.allocateFloats(Integer.MAX_VALUE / 4 + 1, Purpose.WORKSPACE))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(MemoryAccounting.totalLiveBytes()).isEqualTo(bytes);
        assertThat(MemoryAccounting.totalLiveBlocks()).isEqualTo(blocks);
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }
}
