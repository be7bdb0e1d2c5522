package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.init.Init;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Models;
import dev.descent.engine.optim.Optimizers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
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

    /** A resmlp with BatchNorm after a few training steps: its running statistics are far from (0, 1). */
    private static Model trainedResMlp(Dataset train) {
        Model m = Models.resMlp(new int[]{6}, 3, 2, 12, true, 5);
        Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY).optimizer(Optimizers.momentum(0.05, 0.9))
                .batchSize(20).epochs(1).seed(4).build().fit(train, null, null);
        return m;
    }

    private static long evalLossBits(Model m, Dataset data) {
        try (Evaluator e = new Evaluator(m, Kernels.backend(), LossKind.CROSS_ENTROPY, 25, 1)) {
            return Double.doubleToRawLongBits(e.evaluate(data).loss());
        }
    }

    @Test
    void shouldRoundTripBatchNormRunningStatisticsSoTheReloadedModelEvaluatesIdentically() throws Exception {
        Path f = dir.resolve("resmlp.descent");
        try (Dataset train = Synthetic.blobs("train", 100, 6, 3, 1);
             Dataset test = Synthetic.blobs("test", 60, 6, 3, 2);
             Model m = trainedResMlp(train)) {
            assertThat(m.bufferFloats()).isEqualTo(2 * 2 * 2 * 12); // 2 blocks x 2 BN x (mean, var) x 12
            float[] stats = m.buffers();
            try (Model fresh = Models.resMlp(new int[]{6}, 3, 2, 12, true, 5)) {
                assertThat(stats).isNotEqualTo(fresh.buffers()); // trained statistics, not the defaults
            }
            long bits = evalLossBits(m, test);
            ModelFile.save(m, f);
            try (Model back = ModelFile.read(f);
                 Model loaded = Models.resMlp(new int[]{6}, 3, 2, 12, true, 99)) {
                assertThat(back.buffers()).isEqualTo(stats);
                assertThat(evalLossBits(back, test)).isEqualTo(bits);
                ModelFile.load(f, loaded);
                assertThat(loaded.buffers()).isEqualTo(stats);
                assertThat(evalLossBits(loaded, test)).isEqualTo(bits);
            }
        }
    }

    /** Rewrites a version 3 file as the version 1 format (no buffer count, no buffers), with a valid CRC. */
    private static byte[] asVersion1(byte[] v2, long bufferFloats) {
        ByteBuffer in = ByteBuffer.wrap(v2).order(ByteOrder.LITTLE_ENDIAN);
        int specLen = in.getInt(12);
        long floats = in.getLong(16);
        assertThat(in.getInt(8)).isEqualTo(3);
        assertThat(in.getLong(24)).isEqualTo(bufferFloats);
        int body = specLen + (int) floats * Float.BYTES;
        ByteBuffer out = ByteBuffer.allocate(24 + body + 8).order(ByteOrder.LITTLE_ENDIAN);
        out.put(v2, 0, 8).putInt(1).putInt(specLen).putLong(floats).put(v2, 32, body);
        CRC32 crc = new CRC32();
        crc.update(out.array(), 8, 24 + body - 8);
        out.putLong(crc.getValue());
        return out.array();
    }

    /**
     * {@code resmlp-batchnorm-v2.descent} was written by the build before BatchNorm stored γ itself (commit e6326a1,
     * format version 2, γ−1 stored): Models.resMlp([6], 3, 2, 12, skip, BN, seed 5) trained one epoch on
     * Synthetic.blobs("train", 100, 6, 3, 1) (momentum 0.05/0.9, batch 20, seed 4). That build measured a test loss of
     * 0.03885497031810143 on blobs("test", 60, 6, 3, 2) and stored γ−1 = -0.10607493 first in layer 2's first BN.
     */
    @Test
    void shouldReadVersion2FilesWhoseBatchNormScalesHeldGammaMinus1AsTheSameNetwork() throws Exception {
        Path old = dir.resolve("old.descent");
        try (var in = ModelFileTest.class.getResourceAsStream("/model-files/resmlp-batchnorm-v2.descent")) {
            Files.write(old, in.readAllBytes());
        }
        assertThat(ByteBuffer.wrap(Files.readAllBytes(old)).order(ByteOrder.LITTLE_ENDIAN).getInt(8)).isEqualTo(2);
        try (Dataset test = Synthetic.blobs("test", 60, 6, 3, 2);
             Model back = ModelFile.read(old);
             Model into = Models.resMlp(new int[]{6}, 3, 2, 12, true, 99)) {
            var gamma = back.layout().entry(back.entriesMatching("2:residual/1.batchnorm.gamma")[0]);
            assertThat(back.params().segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, gamma.offset()))
                    .isEqualTo(1f + -0.10607493f);
            try (Evaluator e = new Evaluator(back, Kernels.backend(), LossKind.CROSS_ENTROPY, 25, 1)) {
                assertThat(e.evaluate(test).loss()).isCloseTo(0.03885497031810143, org.assertj.core.data.Offset.offset(1e-6));
            }
            ModelFile.load(old, into);
            assertThat(into.parametersSha256()).isEqualTo(back.parametersSha256());
            Path again = dir.resolve("again.descent"); // written as version 3, read back unchanged
            ModelFile.save(back, again);
            assertThat(ByteBuffer.wrap(Files.readAllBytes(again)).order(ByteOrder.LITTLE_ENDIAN).getInt(8)).isEqualTo(3);
            try (Model v3 = ModelFile.read(again)) {
                assertThat(v3.parametersSha256()).isEqualTo(back.parametersSha256());
            }
        }
    }

    @Test
    void shouldStartBatchNormScalesAtOneUnderEveryInitializer() {
        try (Model m = Models.resMlp(new int[]{6}, 3, 1, 4, true, 5)) {
            m.initialize(Init.parse("constant:0.3"), Init.parse("constant:0.2"), 7);
            for (int i : m.entriesMatching("*batchnorm.gamma")) {
                var e = m.layout().entry(i);
                for (int j = 0; j < e.count(); j++) {
                    assertThat(m.params().segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, e.offset() + j))
                            .isEqualTo(1f);
                }
            }
            var beta = m.layout().entry(m.entriesMatching("*batchnorm.beta")[0]);
            assertThat(m.params().segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, beta.offset()))
                    .isEqualTo(0.2f);
        }
    }

    @Test
    void shouldReadVersion1FilesWithoutBuffersAndRefuseThemForBatchNormModels() throws Exception {
        Path f = dir.resolve("m.descent");
        Path old = dir.resolve("old.descent");
        try (Model m = model(8, 1)) {
            assertThat(m.bufferFloats()).isZero();
            ModelFile.save(m, f);
            Files.write(old, asVersion1(Files.readAllBytes(f), 0));
            try (Model back = ModelFile.read(old)) {
                assertThat(back.parametersSha256()).isEqualTo(m.parametersSha256());
            }
        }
        Path bn = dir.resolve("bn.descent");
        Path oldBn = dir.resolve("old-bn.descent");
        try (Dataset train = Synthetic.blobs("train", 100, 6, 3, 1); Model m = trainedResMlp(train)) {
            ModelFile.save(m, bn);
            Files.write(oldBn, asVersion1(Files.readAllBytes(bn), m.bufferFloats()));
            assertThatThrownBy(() -> ModelFile.read(oldBn)).isInstanceOf(ModelFile.ModelFileException.class)
                    .hasMessageContaining(oldBn.toString()).hasMessageContaining("format version 1")
                    .hasMessageContaining("version 3").hasMessageContaining("BatchNorm running statistics");
            assertThatThrownBy(() -> ModelFile.load(oldBn, m)).hasMessageContaining(oldBn.toString());
            byte[] cut = Arrays.copyOf(Files.readAllBytes(bn), (int) Files.size(bn) - 8 - 4);
            Path t = dir.resolve("cut.descent");
            Files.write(t, cut);
            assertThatThrownBy(() -> ModelFile.read(t)).hasMessageContaining("truncated");
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
