package dev.descent.engine.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the IDX reader: valid files with random byte flips, random truncations or appended
 * bytes, random header dimensions, raw and gzip. The reader must answer every input with a result or an
 * {@link IdxFormatException} naming the file, in bounded time, and never allocate more than the declared sizes
 * allow. Bounded tries so the suite stays fast.
 */
class IdxReaderFuzzTest {
    private static Path dir;

    @BeforeContainer
    static void tempDir() throws IOException {
        dir = Files.createTempDirectory("idx-fuzz");
    }

    @AfterContainer
    static void cleanUp() throws IOException {
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Provide
    Arbitrary<byte[]> mutatedFiles() {
        Arbitrary<byte[]> valid = Arbitraries.integers().between(1, 6).flatMap(count -> Arbitraries.bytes().array(
                byte[].class).ofSize(count * 4 * 4).map(px -> IdxFixtures.images(count, 4, 4, px)));
        Arbitrary<byte[]> withHeader = Arbitraries.integers().between(-1, 1 << 20).tuple3().map(d ->
                IdxFixtures.idx(IdxReader.UBYTE, new int[] {d.get1(), d.get2(), d.get3()}, new byte[32]));
        return Arbitraries.oneOf(valid, withHeader).flatMap(file -> Arbitraries.integers().between(0, 3).flatMap(
                kind -> mutate(file, kind)));
    }

    private static Arbitrary<byte[]> mutate(byte[] file, int kind) {
        return switch (kind) {
            case 0 -> Arbitraries.just(file);
            case 1 -> Arbitraries.integers().between(0, file.length - 1).tuple2().map(t -> flip(file, t));
            case 2 -> Arbitraries.integers().between(0, file.length).map(n -> java.util.Arrays.copyOf(file, n));
            default -> Arbitraries.bytes().array(byte[].class).ofMaxSize(64).map(extra -> {
                byte[] out = java.util.Arrays.copyOf(file, file.length + extra.length);
                System.arraycopy(extra, 0, out, file.length, extra.length);
                return out;
            });
        };
    }

    private static byte[] flip(byte[] file, Tuple.Tuple2<Integer, Integer> at) {
        byte[] out = file.clone();
        out[at.get1()] ^= (byte) (1 + at.get2() % 255);
        return out;
    }

    @Property(tries = 300)
    void shouldReadOrRejectEveryFileNamingItWithinTheDeclaredMemory(@ForAll("mutatedFiles") byte[] content,
                                                                      @ForAll boolean gzip) throws IOException {
        Path file = IdxFixtures.write(dir, "fuzz" + (gzip ? ".gz" : ""), content, gzip);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            IdxReader.IdxBytes b = IdxReader.readImages(file, 4, 4);
            assertThat(b.data()).hasSize(b.count() * 16);
        } catch (IdxFormatException e) {
            assertThat(e.getMessage()).contains(file.toString());
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        // never more than the bytes the input can hold (plus fixed buffers and first-use class loading)
        assertThat(allocated).isLessThan(4L * content.length + (16 << 20));
    }
}
