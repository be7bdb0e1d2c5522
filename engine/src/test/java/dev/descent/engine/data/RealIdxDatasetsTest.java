package dev.descent.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.descent.engine.data.IdxDatasets.Corpus;
import dev.descent.engine.memory.OffHeapBlock;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Loads the real Fashion-MNIST and MNIST files when they are present (CI fetches them with
 * scripts/fetch-data.sh); skipped with a message saying how to fetch them otherwise.
 */
class RealIdxDatasetsTest {

    /** The configured data directory, else the repository's data/ (tests run in engine/). */
    private static Path dataDir(Corpus corpus) {
        Path configured = IdxDatasets.resolveDataDir(null).path();
        for (Path candidate : new Path[] {configured, Path.of("..", "data").toAbsolutePath().normalize()}) {
            if (IdxDatasets.isPresent(corpus, Split.TRAIN, candidate)
                    && IdxDatasets.isPresent(corpus, Split.TEST, candidate)) {
                return candidate;
            }
        }
        assumeTrue(false, corpus.displayName() + " is not in " + configured + " nor ../data: run scripts/fetch-data.sh "
                + "(or set DESCENT_DATA_DIR) to run this test");
        throw new AssertionError("unreachable");
    }

    private static void assertPixelsAreWholeStepsOf1Over255(Dataset ds) {
        MemorySegment f = ds.features().segment();
        long n = ds.features().floatCount();
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (long i = 0; i < n; i++) {
            float v = f.getAtIndex(ValueLayout.JAVA_FLOAT, i);
            min = Math.min(min, v);
            max = Math.max(max, v);
            int k = Math.round(v * 255f);
            if (v != k / 255f) {
                throw new AssertionError(ds.name() + ": feature " + i + " = " + v + " is not a byte / 255");
            }
        }
        assertThat(min).as("min pixel").isZero();
        assertThat(max).as("max pixel").isEqualTo(1f);
    }

    private static int[] firstLabels(Dataset ds, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = ds.label(i);
        }
        return out;
    }

    @Test
    void shouldLoadRealFashionMnistWithBalancedClasses() throws Exception {
        Path dir = dataDir(Corpus.FASHION_MNIST);
        long start = System.nanoTime();
        try (Dataset train = IdxDatasets.load(Corpus.FASHION_MNIST, Split.TRAIN, dir)) {
            long ms = (System.nanoTime() - start) / 1_000_000;
            System.out.println("Fashion-MNIST train (60000 x 784) loaded from " + dir + " in " + ms + " ms");
            assertThat(train.count()).isEqualTo(60_000);
            assertThat(IdxDatasets.count(Corpus.FASHION_MNIST, Split.TRAIN, dir)).isEqualTo(train.count());
            assertThat(train.featureSize()).isEqualTo(784);
            assertThat(train.features().byteSize()).isEqualTo(60_000L * 784 * Float.BYTES);
            assertThat(train.sampleShape()).containsExactly(1, 28, 28);
            assertThat(train.labelCounts()).containsOnly(6_000).hasSize(10);
            assertThat(firstLabels(train, 10)).containsExactly(9, 0, 0, 3, 0, 2, 7, 2, 5, 5);
            assertPixelsAreWholeStepsOf1Over255(train);
        }
        try (Dataset test = IdxDatasets.load(Corpus.FASHION_MNIST, Split.TEST, dir)) {
            assertThat(test.count()).isEqualTo(10_000);
            assertThat(IdxDatasets.count(Corpus.FASHION_MNIST, Split.TEST, dir)).isEqualTo(test.count());
            assertThat(test.labelCounts()).containsOnly(1_000).hasSize(10);
            assertThat(firstLabels(test, 5)).containsExactly(9, 2, 1, 1, 6);
            assertPixelsAreWholeStepsOf1Over255(test);
        }
    }

    @Test
    void shouldLoadRealMnist() throws Exception {
        Path dir = dataDir(Corpus.MNIST);
        try (Dataset train = IdxDatasets.load(Corpus.MNIST, Split.TRAIN, dir);
             Dataset test = IdxDatasets.load(Corpus.MNIST, Split.TEST, dir)) {
            assertThat(train.count()).isEqualTo(60_000);
            assertThat(test.count()).isEqualTo(10_000);
            // MNIST is not balanced; these are its well-known class sizes.
            assertThat(train.labelCounts()).containsExactly(5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949);
            assertThat(test.labelCounts()).containsExactly(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009);
            assertThat(firstLabels(train, 10)).containsExactly(5, 0, 4, 1, 9, 2, 1, 3, 1, 4);
            assertThat(firstLabels(test, 5)).containsExactly(7, 2, 1, 0, 4);
            OffHeapBlock f = test.features();
            // The first test image (a 7) has ink in its centre row and blank corners.
            assertThat(f.getFloat(0)).isZero();
            assertThat(f.getFloat(783)).isZero();
            float centreRowInk = 0;
            for (int c = 0; c < 28; c++) {
                centreRowInk += f.getFloat(14 * 28 + c);
            }
            assertThat(centreRowInk).isGreaterThan(1f);
            assertPixelsAreWholeStepsOf1Over255(train);
        }
    }
}
