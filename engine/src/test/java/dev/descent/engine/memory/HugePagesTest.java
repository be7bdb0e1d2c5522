package dev.descent.engine.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class HugePagesTest {

    private static boolean linux() {
        return System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux");
    }

    @Test
    void shouldMapLargeBlocksOnLinuxWithNativeAccessAndLeaveSmallOnesToTheArena() {
        // the build passes --enable-native-access=ALL-UNNAMED, as the launcher does, and opts in for these tests
        assertThat(HugePages.available()).isEqualTo(linux());
        try (Arena arena = Arena.ofShared()) {
            assertThat(HugePages.map(HugePages.MIN_BYTES - 1, arena)).isEmpty();
            if (linux()) {
                MemorySegment s = HugePages.map(HugePages.MIN_BYTES + 12, arena).orElseThrow();
                assertThat(s.byteSize()).isEqualTo(HugePages.MIN_BYTES + 12);
                assertThat(s.address() % (2L << 20)).isZero();
            }
        }
    }

    @Test
    void shouldGiveAZeroedWritableBlockThatFailsAfterClose() {
        long floats = (HugePages.MIN_BYTES + 4096) / Float.BYTES + 3; // not a multiple of the page
        OffHeapBlock b = OffHeapBlock.allocateFloats(floats, Purpose.BATCHES);
        MemorySegment s = b.segment();
        assertThat(s.address() % OffHeapBlock.ALIGNMENT).isZero();
        for (long i = 0; i < floats; i += 4099) {
            assertThat(b.getFloat(i)).isZero();
        }
        assertThat(b.getFloat(floats - 1)).isZero();
        for (long i = 0; i < floats; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
        }
        assertThat(b.getFloat(floats - 1)).isEqualTo((float) (floats - 1));
        assertThat(b.buffer().getFloat((int) ((floats - 1) * Float.BYTES))).isEqualTo((float) (floats - 1));
        b.close();
        assertThatThrownBy(() -> b.getFloat(0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void shouldReturnTheMappingToTheOsOnClose() throws Exception {
        if (!HugePages.available()) {
            return; // nothing mapped on this platform: the arena path is covered by OffHeapBlockTest
        }
        long before = mappedBytes();
        for (int i = 0; i < 8; i++) { // 8 x 64 MiB mapped and unmapped: a leak would leave 512 MiB of mappings
            try (OffHeapBlock b = OffHeapBlock.allocate(64L << 20, Purpose.BATCHES)) {
                b.buffer().putByte((int) b.byteSize() - 1, (byte) 1);
            }
        }
        assertThat(mappedBytes() - before).isLessThan(256L << 20);
    }

    /** The process's virtual size from /proc/self/status (VmSize, KiB). */
    private static long mappedBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }
}
