package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFileTest {
    @TempDir
    Path dir;

    private static Model model(int hidden, long seed) {
        return Mlp.builder().input(1, 4, 4).hidden(hidden).activation(Activation.GELU).dropout(0.1).output(3)
                .init(Init.XAVIER_UNIFORM).seed(seed).build();
    }

    @Test
    void shouldRoundTripSpecAndParametersBitExactly() throws Exception {
        Path f = dir.resolve("m.descent");
        try (Model m = model(8, 1)) {
            ModelFile.save(m, f);
            try (Model back = ModelFile.read(f); Model same = model(8, 99)) {
                assertThat(back.spec()).isEqualTo(m.spec());
                assertThat(back.parametersSha256()).isEqualTo(m.parametersSha256());
                ModelFile.load(f, same);
                assertThat(same.parametersSha256()).isEqualTo(m.parametersSha256());
            }
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(f); // no temp file left behind
        }
    }

    @Test
    void shouldRejectOtherArchitectureCorruptionVersionAndTruncation() throws Exception {
        Path f = dir.resolve("m.descent");
        try (Model m = model(8, 1); Model other = model(9, 1)) {
            ModelFile.save(m, f);
            assertThatThrownBy(() -> ModelFile.load(f, other)).hasMessageContaining(f.toString())
                    .hasMessageContaining("another architecture").hasMessageContaining("linear 9");
        }
        byte[] bytes = Files.readAllBytes(f);
        byte[] corrupt = bytes.clone();
        corrupt[corrupt.length - 20] ^= 1;
        Path c = dir.resolve("corrupt.descent");
        Files.write(c, corrupt);
        assertThatThrownBy(() -> ModelFile.read(c)).hasMessageContaining(c.toString()).hasMessageContaining("checksum");
        byte[] version = bytes.clone();
        version[8] = 9;
        Path v = dir.resolve("version.descent");
        Files.write(v, version);
        assertThatThrownBy(() -> ModelFile.read(v)).hasMessageContaining("version 9");
        Path t = dir.resolve("trunc.descent");
        Files.write(t, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        assertThatThrownBy(() -> ModelFile.read(t)).hasMessageContaining("truncated");
        assertThatThrownBy(() -> ModelFile.read(dir.resolve("missing"))).hasMessageContaining("does not exist");
    }
}
