package dev.descent.engine.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the checkpoint reader: a valid checkpoint with random byte changes (headers, lengths,
 * checksums, payloads, the end marker), truncations and appended bytes. Every input is either read (and then
 * parsed by {@link TrainingCheckpoint.Loaded#of}) or refused with a {@link CheckpointException} naming the file;
 * never another exception, never more memory than the file's size allows.
 */
class CheckpointReaderFuzzTest {
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void write() throws IOException {
        dir = Files.createTempDirectory("ck-fuzz");
        Path f = dir.resolve("valid.dck");
        java.nio.ByteBuffer params = java.nio.ByteBuffer.allocate(40 * Float.BYTES)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 40; i++) {
            params.putFloat(i * 0.5f);
        }
        CheckpointFile.write(f, List.of(
                CheckpointFile.Section.ofText(TrainingCheckpoint.META, "format=descent-training-checkpoint\nstep=7\n"
                        + "optimizerSteps=7\n"),
                CheckpointFile.Section.ofText(TrainingCheckpoint.SPEC, "descent-sequential v1\ninput 4\nlinear 8\n"),
                new CheckpointFile.Section(TrainingCheckpoint.PARAMS, MemorySegment.ofArray(params.array())),
                new CheckpointFile.Section(TrainingCheckpoint.MOMENTS, MemorySegment.ofArray(new byte[40 * Float.BYTES])),
                new CheckpointFile.Section(TrainingCheckpoint.BUFFERS, MemorySegment.ofArray(new byte[0]))));
        valid = Files.readAllBytes(f);
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
    Arbitrary<byte[]> damaged() {
        Arbitrary<byte[]> flips = Arbitraries.integers().between(0, valid.length - 1).list().ofMinSize(1).ofMaxSize(4)
                .flatMap(at -> Arbitraries.integers().between(1, 255).map(x -> {
                    byte[] out = valid.clone();
                    for (int i : at) {
                        out[i] ^= (byte) x.intValue();
                    }
                    return out;
                }));
        Arbitrary<byte[]> cuts = Arbitraries.integers().between(0, valid.length - 1).map(n -> Arrays.copyOf(valid, n));
        Arbitrary<byte[]> tails = Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(32).map(x -> {
            byte[] out = Arrays.copyOf(valid, valid.length + x.length);
            System.arraycopy(x, 0, out, valid.length, x.length);
            return out;
        });
        return Arbitraries.oneOf(flips, cuts, tails);
    }

    @Property(tries = 300)
    void shouldReadOrRejectEveryDamagedCheckpointNamingTheFile(@ForAll("damaged") byte[] content) throws IOException {
        Path f = dir.resolve("checkpoint-000000000007.dck");
        Files.write(f, content);
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        try {
            Map<String, byte[]> sections = CheckpointFile.read(f);
            TrainingCheckpoint.Loaded ck = TrainingCheckpoint.Loaded.of(new CheckpointDirectory.Found(f, 7, sections));
            assertThat(ck.path()).isEqualTo(f);
        } catch (CheckpointException e) {
            assertThat(e.getMessage()).contains(f.toString());
        }
        assertThat(threads.getCurrentThreadAllocatedBytes() - before).isLessThan(8L * content.length + (16 << 20));
    }
}
