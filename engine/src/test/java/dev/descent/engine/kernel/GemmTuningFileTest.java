package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tuning file of {@code descent tune}, the start-up selection that reads it, and CPU/cache detection. */
class GemmTuningFileTest {
    private static final CpuInfo ZEN5 = new CpuInfo("amd64", "AMD EPYC (AuthenticAMD family 26 model 2)", 0,
            1L << 20, 0, "/proc/cpuinfo");

    @TempDir
    Path dir;

    @Test
    void shouldWriteAndReadBackATuning() {
        GemmShape shape = new GemmShape(GemmTile.parse("512:12x2"), 512, 240, 2048, "descent tune");
        Path file = GemmTuningFile.path(dir.resolve("sub"), ZEN5);
        GemmTuningFile.write(file, ZEN5, shape, 171.25);
        assertThat(file.getFileName().toString()).isEqualTo("gemm-amd-epyc-authenticamd-family-26-model-2.properties");
        GemmTuningFile.Entry e = GemmTuningFile.read(file);
        assertThat(e.cpu()).isEqualTo(ZEN5.model());
        assertThat(e.shape().tile().name()).isEqualTo("512:12x2");
        assertThat(e.shape()).extracting(GemmShape::kc, GemmShape::mc, GemmShape::nc).containsExactly(512, 240, 2048);
        assertThat(e.gflops()).isEqualTo(171.3);

        GemmShape selected = GemmSelection.select(512, ZEN5, dir.resolve("sub"), new Properties());
        assertThat(selected.tile().name()).isEqualTo("512:12x2");
        assertThat(selected.kc()).isEqualTo(512);
        assertThat(selected.source()).contains(file.toString());
    }

    @Test
    void shouldRejectCorruptFilesNamingTheFileAndFallBackToTheBuiltInChoice() throws IOException {
        Path file = GemmTuningFile.path(dir, ZEN5);
        String[][] bad = {
                {"cpu=x\ntile=512:9x9\nkc=1\nmc=1\nnc=1\n", "unknown GEMM tile"},
                {"cpu=x\ntile=512:8x2\nkc=lots\nmc=1\nnc=1\n", "kc is not an integer"},
                {"tile=512:8x2\nkc=256\nmc=1\nnc=1\n", "no 'cpu' entry"},
                {"cpu=x\ntile=512:8x2\nkc=4\nmc=1\nnc=1\n", "kc >= 16"},
                {"cpu=x\ntile=512:8x2\nkc=256\nmc=8\nnc=32\ngflops=fast\n", "gflops is not a number"},
                {"cpu=\\u12", "unreadable"},
        };
        for (String[] b : bad) {
            Files.writeString(file, b[0], StandardCharsets.UTF_8);
            assertThatThrownBy(() -> GemmTuningFile.read(file)).as(b[1]).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining(b[1]);
            GemmShape s = GemmSelection.select(512, ZEN5, dir, new Properties());
            assertThat(s.source()).isEqualTo("built-in");
            assertThat(s.tile()).isEqualTo(GemmTile.builtIn(512, 32));
        }
    }

    @Test
    void shouldIgnoreAFileOfAnotherCpuOrATileThatDoesNotFit() {
        Path file = GemmTuningFile.path(dir, ZEN5);
        CpuInfo other = new CpuInfo("amd64", "Another CPU", 0, 0, 0, "unknown");
        GemmTuningFile.write(file, other, new GemmShape(GemmTile.parse("512:6x4"), 256, 60, 512, "t"), 1);
        assertThat(GemmSelection.select(512, ZEN5, dir, new Properties()).source()).isEqualTo("built-in");
        GemmTuningFile.write(file, ZEN5, new GemmShape(GemmTile.parse("512:6x4"), 256, 60, 512, "t"), 1);
        assertThat(GemmSelection.select(256, ZEN5, dir, new Properties()).tile().name()).isEqualTo("256:3x3");
        assertThat(GemmSelection.select(512, ZEN5, dir, new Properties()).tile().name()).isEqualTo("512:6x4");
    }

    @Test
    void shouldHonourForcedShapeAndBlockingProperties() {
        Properties p = new Properties();
        p.setProperty(GemmSelection.SHAPE_PROP_NAME, "256:4x3");
        p.setProperty(GemmSelection.KC_PROP_NAME, "384");
        GemmShape s = GemmSelection.select(512, ZEN5, dir, p);
        assertThat(s.tile().name()).isEqualTo("256:4x3");
        assertThat(s.kc()).isEqualTo(384);
        assertThat(s.source()).contains("-Ddescent.gemm.shape").contains("kc/mc/nc");
        p.setProperty(GemmSelection.SHAPE_PROP_NAME, "512:8x2");
        assertThatThrownBy(() -> GemmSelection.select(256, ZEN5, dir, p)).hasMessageContaining("512-bit")
                .hasMessageContaining("256:6x2");
    }

    @Test
    void shouldDeriveBlockingFromTheCaches() {
        GemmTile t = GemmTile.parse("512:8x2");
        assertThat(GemmShape.blockingFor(t, ZEN5)).containsExactly(1024, 128, 1024);
        CpuInfo zen1 = new CpuInfo("amd64", "AMD EPYC 7551", 32 << 10, 512 << 10, 8 << 20, "sysfs");
        assertThat(GemmShape.blockingFor(GemmTile.parse("256:6x2"), zen1)).containsExactly(512, 126, 2048);
        CpuInfo unknown = new CpuInfo("aarch64", "aarch64", 0, 0, 0, "unknown");
        int[] b = GemmShape.blockingFor(GemmTile.parse("128:8x3"), unknown);
        assertThat(b[0]).isEqualTo(512);
        assertThat(b[1] % 8).isZero();
        assertThat(b[2] % 12).isZero();
    }

    @Test
    void shouldDetectCachesFromSysfsThenCpuinfoThenNothing() throws IOException {
        Path cpuinfo = dir.resolve("cpuinfo");
        Files.writeString(cpuinfo, "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n"
                + "model name\t: AMD EPYC\ncache size\t: 1024 KB\n");
        Path sys = dir.resolve("cache");
        CpuInfo fromProc = CpuInfo.detect(sys, cpuinfo, "amd64");
        assertThat(fromProc.l2Bytes()).isEqualTo(1L << 20);
        assertThat(fromProc.cacheSource()).isEqualTo("/proc/cpuinfo");
        assertThat(fromProc.model()).isEqualTo("AMD EPYC (AuthenticAMD family 26 model 2)");

        writeIndex(sys, 0, "1", "Data", "48K");
        writeIndex(sys, 1, "1", "Instruction", "32K");
        writeIndex(sys, 2, "2", "Unified", "1024K");
        writeIndex(sys, 3, "3", "Unified", "32768K");
        CpuInfo fromSys = CpuInfo.detect(sys, cpuinfo, "amd64");
        assertThat(fromSys).extracting(CpuInfo::l1dBytes, CpuInfo::l2Bytes, CpuInfo::l3Bytes, CpuInfo::cacheSource)
                .containsExactly(48L << 10, 1L << 20, 32L << 20, "sysfs");

        Files.writeString(cpuinfo, "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n"
                + "model name\t: Intel(R) Xeon(R)\ncache size\t: 36608 KB\n");
        CpuInfo xeon = CpuInfo.detect(dir.resolve("none"), cpuinfo, "amd64");
        assertThat(xeon.l3Bytes()).isEqualTo(36608L << 10);
        assertThat(xeon.intel()).isTrue();
        assertThat(fromProc.intel()).isFalse();
        // the built-in tile follows the vendor: 12 x 2 unrolled on Intel AVX-512, 8 x 2 on AMD
        assertThat(GemmSelection.select(512, xeon, dir, new Properties()).tile().name()).isEqualTo("512:12x2u2");
        assertThat(GemmSelection.select(512, fromProc, dir, new Properties()).tile().name()).isEqualTo("512:8x2");
        CpuInfo nothing = CpuInfo.detect(dir.resolve("none"), dir.resolve("missing"), "aarch64");
        assertThat(nothing).extracting(CpuInfo::model, CpuInfo::l2Bytes, CpuInfo::cacheSource)
                .containsExactly("aarch64", 0L, "unknown");
        assertThat(nothing.key()).isEqualTo("aarch64");
    }

    private static void writeIndex(Path sys, int i, String level, String type, String size) throws IOException {
        Path d = Files.createDirectories(sys.resolve("index" + i));
        Files.writeString(d.resolve("level"), level + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("size"), size + "\n");
    }
}
