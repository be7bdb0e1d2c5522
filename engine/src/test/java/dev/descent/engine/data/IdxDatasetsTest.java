package dev.descent.engine.data;

import static dev.descent.engine.data.IdxFixtures.images;
import static dev.descent.engine.data.IdxFixtures.labels;
import static dev.descent.engine.data.IdxFixtures.rampPixels;
import static dev.descent.engine.data.IdxFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.data.IdxDatasets.Corpus;
import dev.descent.engine.data.IdxDatasets.DataDir;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetsTest {
    @TempDir
    Path dir;

    private static void writeSplit(Path into, Split split, int count, byte firstLabel, boolean gzip) throws Exception {
        byte[] labels = new byte[count];
        for (int i = 0; i < count; i++) {
            labels[i] = (byte) ((firstLabel + i) % 10);
        }
        String[] names = IdxDatasets.fileNames(split);
        String suffix = gzip ? ".gz" : "";
        write(into, names[0] + suffix, images(count, 28, 28, rampPixels(count * 784)), gzip);
        write(into, names[1] + suffix, labels(labels), gzip);
    }

    @Test
    void shouldResolveDataDirExplicitThenEnvironmentThenPropertyThenDefault() {
        Path explicit = dir.resolve("explicit");

        assertThat(IdxDatasets.resolveDataDir(explicit, "/env", "/prop"))
                .isEqualTo(new DataDir(explicit.toAbsolutePath(), "the path given"));
        assertThat(IdxDatasets.resolveDataDir(null, "/env", "/prop"))
                .isEqualTo(new DataDir(Path.of("/env"), "environment variable DESCENT_DATA_DIR"));
        assertThat(IdxDatasets.resolveDataDir(null, "  ", "/prop"))
                .isEqualTo(new DataDir(Path.of("/prop"), "system property descent.data.dir"));
        DataDir fallback = IdxDatasets.resolveDataDir(null, null, "");
        assertThat(fallback.path()).isEqualTo(Path.of("data").toAbsolutePath());
        assertThat(fallback.origin()).contains("default ./data");
    }

    @Test
    void shouldLoadEachCorpusAndSplitFromItsSubdirectory() throws Exception {
        writeSplit(dir.resolve("fashion-mnist"), Split.TRAIN, 5, (byte) 9, false);
        writeSplit(dir.resolve("fashion-mnist"), Split.TEST, 3, (byte) 2, true);
        writeSplit(dir.resolve("mnist"), Split.TRAIN, 4, (byte) 5, true);

        try (Dataset train = IdxDatasets.load(Corpus.FASHION_MNIST, Split.TRAIN, dir);
             Dataset test = IdxDatasets.load(Corpus.FASHION_MNIST, Split.TEST, dir);
             Dataset mnist = IdxDatasets.load(Corpus.MNIST, Split.TRAIN, dir)) {
            assertThat(train.name()).isEqualTo("fashion-mnist/train");
            assertThat(train.count()).isEqualTo(5);
            assertThat(train.featureSize()).isEqualTo(784);
            assertThat(train.sampleShape()).containsExactly(1, 28, 28);
            assertThat(train.classes()).isEqualTo(10);
            assertThat(train.label(0)).isEqualTo(9);
            assertThat(test.name()).isEqualTo("fashion-mnist/test");
            assertThat(test.count()).isEqualTo(3);
            assertThat(test.label(0)).isEqualTo(2);
            assertThat(mnist.name()).isEqualTo("mnist/train");
            assertThat(mnist.label(0)).isEqualTo(5);
        }
        assertThat(IdxDatasets.isPresent(Corpus.MNIST, Split.TRAIN, dir)).isTrue();
        assertThat(IdxDatasets.isPresent(Corpus.MNIST, Split.TEST, dir)).isFalse();
    }

    @Test
    void shouldAcceptADirectoryThatHoldsTheFilesItselfAndPreferRawOverGzip() throws Exception {
        Path flat = dir.resolve("flat");
        writeSplit(flat, Split.TRAIN, 2, (byte) 7, true);
        writeSplit(flat, Split.TRAIN, 3, (byte) 1, false);

        try (Dataset ds = IdxDatasets.load(Corpus.FASHION_MNIST, Split.TRAIN, flat)) {
            assertThat(ds.count()).isEqualTo(3);
            assertThat(ds.label(0)).isEqualTo(1);
        }
    }

    @Test
    void shouldSayWhichFilesWereLookedForWhereAndHowToFetchThem() throws Exception {
        Path partial = dir.resolve("fashion-mnist");
        write(partial, "train-images-idx3-ubyte.gz", images(1, 28, 28, new byte[784]), true);

        assertThatThrownBy(() -> IdxDatasets.load(Corpus.FASHION_MNIST, Split.TRAIN, dir))
                .isInstanceOf(DatasetNotFoundException.class)
                .hasMessageContaining("Fashion-MNIST train split not found")
                .hasMessageContaining("train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz]")
                .hasMessageContaining(partial.toAbsolutePath() + " and " + dir.toAbsolutePath())
                .hasMessageContaining("from the path given")
                .hasMessageContaining("found only " + partial.resolve("train-images-idx3-ubyte.gz").toAbsolutePath())
                .hasMessageContaining("./descent data fetch")
                .hasMessageContaining("scripts/fetch-data.sh")
                .hasMessageContaining("DESCENT_DATA_DIR");
        assertThatThrownBy(() -> IdxDatasets.load(Corpus.MNIST, Split.TEST, dir.resolve("nowhere")))
                .isInstanceOf(DatasetNotFoundException.class)
                .hasMessageContaining("MNIST test split not found: looked for t10k-images-idx3-ubyte[.gz]")
                .hasMessageNotContaining("found only");
        assertThat(Files.exists(dir.resolve("nowhere"))).isFalse();
    }

    @Test
    void shouldReportAMalformedFileRatherThanAMissingOne() throws Exception {
        Path sub = dir.resolve("mnist");
        write(sub, "train-images-idx3-ubyte", images(2, 28, 28, new byte[2 * 784]));
        write(sub, "train-labels-idx1-ubyte", labels((byte) 1, (byte) 99));

        assertThatThrownBy(() -> IdxDatasets.load(Corpus.MNIST, Split.TRAIN, dir))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining("label 99 at index 1");
    }
}
