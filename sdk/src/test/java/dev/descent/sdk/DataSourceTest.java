package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.data.Dataset;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataSourceTest {
    @TempDir
    Path dir;

    private static byte[] idx(int rank, int[] dims, byte[] data) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0x0800 | rank);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
        return bytes.toByteArray();
    }

    @Test
    void limitOfAnIdxSourceGivesTheSameFirstExamplesAsTheWholeSource() throws IOException {
        int count = 50;
        byte[] pixels = new byte[count * 4 * 3];
        byte[] labels = new byte[count];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 13);
        }
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) (i % 7);
        }
        Path img = Files.write(dir.resolve("img.idx"), idx(3, new int[] {count, 4, 3}, pixels));
        Path lab = Files.write(dir.resolve("lab.idx"), idx(1, new int[] {count}, labels));
        DataSource source = DataSource.idx("toy", img, lab, 4, 3, 7);
        try (Dataset all = source.open();
             Dataset first = source.limit(20).open();
             Dataset twice = source.limit(30).limit(20).open();
             Dataset more = source.limit(80).open()) {
            assertThat(first.count()).isEqualTo(20);
            assertThat(first.name()).isEqualTo("toy[0, 20)");
            float[] x = all.features().toArray();
            assertThat(first.features().toArray()).containsExactly(java.util.Arrays.copyOf(x, 20 * 12));
            assertThat(twice.features().toArray()).containsExactly(first.features().toArray());
            for (int i = 0; i < 20; i++) {
                assertThat(first.label(i)).isEqualTo(i % 7);
            }
            assertThat(more.count()).isEqualTo(count);
            assertThat(source.limit(20).name()).isEqualTo("toy[:20]");
        }
    }

    @Test
    void limitOfASharedSourceCopiesItsFirstExamples() throws IOException {
        float[][] x = new float[10][];
        int[] y = new int[10];
        for (int i = 0; i < 10; i++) {
            x[i] = new float[] {i, -i};
            y[i] = i % 2;
        }
        DataSource shared = DataSource.arrays("pairs", x, y, 2).shared();
        try (Dataset all = shared.open(); Dataset first = shared.limit(3).open()) {
            assertThat(first.count()).isEqualTo(3);
            assertThat(first.features().toArray()).containsExactly(0f, 0f, 1f, -1f, 2f, -2f);
            assertThat(all.count()).isEqualTo(10);
        }
    }
}
