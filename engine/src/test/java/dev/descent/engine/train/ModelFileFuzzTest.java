package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the model-file reader: a valid file with random byte changes, with the checksum left
 * stale (the common case: corruption) or recomputed (so the damage reaches the header and spec parsers), plus
 * truncations. Every input is read or refused with a {@link ModelFile.ModelFileException} naming the file.
 */
class ModelFileFuzzTest {
    private static Path dir;
    private static byte[] valid;

    @BeforeContainer
    static void write() throws IOException {
        dir = Files.createTempDirectory("model-fuzz");
        try (Model m = Mlp.builder().input(1, 4, 4).hidden(8).activation(Activation.RELU).output(3)
                .init(Init.XAVIER_UNIFORM).seed(1).build()) {
            ModelFile.save(m, dir.resolve("valid.descent"));
        }
        valid = Files.readAllBytes(dir.resolve("valid.descent"));
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
        Arbitrary<byte[]> flips = Arbitraries.integers().between(0, valid.length - 9).list().ofMinSize(1).ofMaxSize(3)
                .flatMap(at -> Arbitraries.integers().between(1, 255).flatMap(x -> Arbitraries.of(true, false)
                        .map(fixCrc -> {
                            byte[] out = valid.clone();
                            for (int i : at) {
                                out[i] ^= (byte) x.intValue();
                            }
                            if (fixCrc) {
                                CRC32 crc = new CRC32();
                                crc.update(out, 8, out.length - 8 - 8);
                                ByteBuffer.wrap(out, out.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN)
                                        .putLong(crc.getValue());
                            }
                            return out;
                        })));
        Arbitrary<byte[]> cuts = Arbitraries.integers().between(0, valid.length - 1).map(n -> Arrays.copyOf(valid, n));
        return Arbitraries.oneOf(flips, cuts);
    }

    @Property(tries = 300)
    void shouldReadOrRejectEveryDamagedModelFileNamingIt(@ForAll("damaged") byte[] content) throws IOException {
        Path f = dir.resolve("fuzz.descent");
        Files.write(f, content);
        try (Model m = ModelFile.read(f)) {
            assertThat(m.parameterCount()).isPositive();
        } catch (ModelFile.ModelFileException e) {
            assertThat(e.getMessage()).contains(f.toString());
        }
    }
}
