package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.engine.kernel.CpuInfo;
import dev.descent.engine.kernel.GemmTile;
import dev.descent.engine.kernel.GemmTuningFile;
import dev.descent.engine.kernel.Kernels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code descent tune} end to end, with a short budget, into a temporary tuning folder (never the user's). */
class TuneCommandTest {

    @Test
    void shouldMeasureEveryFittingTileAndWriteATuningFileThatReadsBack(@TempDir Path dir) throws Exception {
        String saved = System.getProperty(GemmTuningFile.DIR_PROP_NAME);
        System.setProperty(GemmTuningFile.DIR_PROP_NAME, dir.resolve("tuning").toString());
        try {
            CliRunner.Run run = CliRunner.run("tune", "--seconds", "5", "--out", dir.resolve("out").toString());
            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(run.out()).contains("chosen: ").contains("saved to ");
            JsonNode s = new ObjectMapper().readTree(dir.resolve("out/summary.json").toFile());
            int bits = Kernels.simd().vectorBits();
            int tiles = GemmTile.candidates(bits, GemmTile.registers(CpuInfo.detected().arch(), bits)).size();
            assertThat(s.get("trials").size()).isGreaterThan(tiles);   // every tile, then blockings of the best
            for (JsonNode t : s.get("trials")) {
                assertThat(t.get("gflops_1024").asDouble()).as(t.toString()).isPositive();
            }
            for (int i = 0; i < tiles; i++) {   // every tile also on the MLP layer's three training products
                assertThat(s.get("trials").get(i).get("gflops_mlp").asDouble()).as(s.get("trials").get(i).toString())
                        .isPositive();
            }
            Path file = GemmTuningFile.path(dir.resolve("tuning"), CpuInfo.detected());
            assertThat(file).isRegularFile();
            assertThat(s.get("file").asText()).isEqualTo(file.toString());
            GemmTuningFile.Entry e = GemmTuningFile.read(file);
            assertThat(e.shape().tile().name()).isEqualTo(s.get("chosen").get("tile").asText());
            assertThat(e.shape().kc()).isEqualTo(s.get("chosen").get("kc").asInt());
            assertThat(Files.readString(file)).contains("cpu=");
        } finally {
            if (saved == null) {
                System.clearProperty(GemmTuningFile.DIR_PROP_NAME);
            } else {
                System.setProperty(GemmTuningFile.DIR_PROP_NAME, saved);
            }
        }
    }
}
