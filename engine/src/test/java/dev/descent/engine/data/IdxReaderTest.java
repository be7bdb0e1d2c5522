package dev.descent.engine.data;

import static dev.descent.engine.data.IdxFixtures.gzip;
import static dev.descent.engine.data.IdxFixtures.idx;
import static dev.descent.engine.data.IdxFixtures.images;
import static dev.descent.engine.data.IdxFixtures.labels;
import static dev.descent.engine.data.IdxFixtures.rampPixels;
import static dev.descent.engine.data.IdxFixtures.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.MemoryAccounting;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldDecodeImagesAndLabelsIntoUnitFloatsAndInts(boolean gzip) throws Exception {
        byte[] pixels = rampPixels(3 * 2 * 3);
        Path img = write(dir, "img", images(3, 2, 3, pixels), gzip);
        Path lab = write(dir, "lab", labels((byte) 4, (byte) 0, (byte) 9), gzip);
        long baseline = MemoryAccounting.liveBytes(Purpose.BATCHES);

        try (Dataset ds = IdxReader.readDataset("fixture", img, lab, 2, 3, 10)) {
            assertThat(ds.name()).isEqualTo("fixture");
            assertThat(ds.count()).isEqualTo(3);
            assertThat(ds.featureSize()).isEqualTo(6);
            assertThat(ds.sampleShape()).containsExactly(1, 2, 3);
            assertThat(ds.classes()).isEqualTo(10);
            assertThat(new int[] {ds.label(0), ds.label(1), ds.label(2)}).containsExactly(4, 0, 9);
            // held as bytes: a raw file's are its own mapped pages (not counted), a gzip file's a block of bytes
            assertThat(ds.hasFloatFeatures()).isFalse();
            assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES) - baseline)
                    .isEqualTo((gzip ? 3L * 6 : 0) + 3L * Integer.BYTES);
            float[] features = ds.features().toArray();
            assertThat(ds.hasFloatFeatures()).isTrue();
            for (int i = 0; i < pixels.length; i++) {
                assertThat(features[i]).as("pixel %d", i).isEqualTo((pixels[i] & 0xFF) / 255f);
            }
            assertThat(features[0]).isZero();
            assertThat(features[pixels.length - 1]).isEqualTo(1f);
            assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES) - baseline)
                    .isEqualTo((gzip ? 3L * 6 : 0) + 3L * 6 * Float.BYTES + 3L * Integer.BYTES);
        }
        assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES)).isEqualTo(baseline);
    }

    /**
     * The rows a dataset held as bytes serves (a shuffled batch, a contiguous range, a subset, the widened block)
     * are the floats {@code byte / 255} bit for bit, at any destination offset, before and after the widening; a
     * closed dataset's mapping refuses access instead of reading unmapped memory.
     */
    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldServeRowsOfABytesDatasetAsTheFloatsByteOver255(boolean gzip) throws Exception {
        int count = 37;
        int size = 25; // odd: whole vectors and a partial one on every vector width
        byte[] pixels = new byte[count * size];
        new Random(7).nextBytes(pixels);
        byte[] labelBytes = new byte[count];
        for (int i = 0; i < count; i++) {
            labelBytes[i] = (byte) (i % 10);
        }
        Path img = write(dir, "img", images(count, 5, 5, pixels), gzip);
        Path lab = write(dir, "lab", labels(labelBytes), gzip);
        int[] order = new int[count];
        for (int i = 0; i < count; i++) {
            order[i] = (i * 17 + 5) % count; // a permutation: 17 and 37 are coprime
        }
        Dataset closed;
        try (Dataset ds = IdxReader.readDataset("bytes", img, lab, 5, 5, 10);
             OffHeapBlock dst = OffHeapBlock.allocateFloats(40L * size, Purpose.WORKSPACE)) {
            closed = ds;
            for (int pass = 0; pass < 2; pass++) { // before the widening, then after it
                assertThat(ds.hasFloatFeatures()).isEqualTo(pass == 1);
                ds.gather(order, 3, 20, dst.segment(), 7);
                for (int r = 0; r < 20; r++) {
                    assertRow(dst, 7 + (long) r * size, pixels, order[3 + r], size, "gather pass " + pass);
                }
                ds.copyRows(5, 11, dst.segment(), 2);
                for (int r = 0; r < 11; r++) {
                    assertRow(dst, 2 + (long) r * size, pixels, 5 + r, size, "copyRows pass " + pass);
                }
                try (Dataset sub = ds.subset(4, 10)) {
                    assertThat(sub.hasFloatFeatures()).isFalse(); // bytes stay bytes
                    sub.copyRows(0, 10, dst.segment(), 0);
                    for (int r = 0; r < 10; r++) {
                        assertRow(dst, (long) r * size, pixels, 4 + r, size, "subset pass " + pass);
                    }
                }
                float[] all = ds.features().toArray();
                for (int i = 0; i < pixels.length; i++) {
                    assertThat(Float.floatToRawIntBits(all[i])).as("widened element %d", i)
                            .isEqualTo(Float.floatToRawIntBits((pixels[i] & 0xFF) / 255f));
                }
            }
        }
        try (OffHeapBlock dst = OffHeapBlock.allocateFloats(size, Purpose.WORKSPACE)) {
            assertThatThrownBy(() -> closed.copyRows(0, 1, dst.segment(), 0))
                    .isInstanceOf(IllegalStateException.class);
        }
    }

    private static void assertRow(OffHeapBlock dst, long at, byte[] pixels, int row, int size, String what) {
        for (int j = 0; j < size; j++) {
            float expected = (pixels[row * size + j] & 0xFF) / 255f;
            if (Float.floatToRawIntBits(dst.getFloat(at + j)) != Float.floatToRawIntBits(expected)) {
                throw new AssertionError(what + ": row " + row + " element " + j + " is " + dst.getFloat(at + j)
                        + ", expected " + expected);
            }
        }
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldStreamImagesLargerThanOneChunkIntoTheFloatBlock(boolean gzip) throws Exception {
        int count = 3001; // 3001 x 5 x 5 = 75,025 bytes: two chunks, the second partial
        assertThat(count * 25).isGreaterThan(IdxReader.CHUNK_BYTES);
        byte[] pixels = new byte[count * 25];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 31 + (i >>> 8));
        }
        byte[] labelBytes = new byte[count];
        for (int i = 0; i < count; i++) {
            labelBytes[i] = (byte) (i % 10);
        }
        Path img = write(dir, "img", images(count, 5, 5, pixels), gzip);
        Path lab = write(dir, "lab", labels(labelBytes), gzip);
        try (Dataset ds = IdxReader.readDataset("big", img, lab, 5, 5, 10)) {
            float[] features = ds.features().toArray();
            assertThat(features).hasSize(pixels.length);
            for (int i = 0; i < pixels.length; i++) {
                if (features[i] != (pixels[i] & 0xFF) / 255f) {
                    throw new AssertionError("pixel " + i + ": " + features[i] + ", expected " + (pixels[i] & 0xFF)
                            + " / 255");
                }
            }
            assertThat(ds.label(count - 1)).isEqualTo((count - 1) % 10);
        }
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldReadOnlyTheFirstExamplesAsTheSubsetOfTheWholeFileWouldHoldThem(boolean gzip) throws Exception {
        int count = 3001; // two image chunks: the prefix stops inside the first one, or after it
        byte[] pixels = new byte[count * 25];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 7 + (i >>> 9));
        }
        byte[] labelBytes = new byte[count];
        for (int i = 0; i < count; i++) {
            labelBytes[i] = (byte) ((i * 3) % 10);
        }
        Path img = write(dir, "img", images(count, 5, 5, pixels), gzip);
        Path lab = write(dir, "lab", labels(labelBytes), gzip);
        long baseline = MemoryAccounting.liveBytes(Purpose.BATCHES);
        try (Dataset all = IdxReader.readDataset("set", img, lab, 5, 5, 10)) {
            for (int first : new int[] {1, 17, 2700}) {
                try (Dataset prefix = IdxReader.readDataset("set", img, lab, 5, 5, 10, first);
                     Dataset subset = all.subset(0, first)) {
                    assertThat(prefix.name()).isEqualTo(subset.name()).isEqualTo("set[0, " + first + ")");
                    assertThat(prefix.count()).isEqualTo(first);
                    assertThat(prefix.features().toArray()).containsExactly(subset.features().toArray());
                    for (int i = 0; i < first; i++) {
                        assertThat(prefix.label(i)).as("label %d", i).isEqualTo(subset.label(i));
                    }
                }
            }
            try (Dataset more = IdxReader.readDataset("set", img, lab, 5, 5, 10, count + 5)) {
                assertThat(more.name()).isEqualTo("set");
                assertThat(more.count()).isEqualTo(count);
                assertThat(more.features().toArray()).containsExactly(all.features().toArray());
            }
        }
        assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES)).isEqualTo(baseline);
        assertThatThrownBy(() -> IdxReader.readDataset("set", img, lab, 5, 5, 10, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("first must be >= 1, was 0");
    }

    @Test
    void shouldStillCheckTheWholeFileSizeAndLabelsWhenReadingAPrefix() throws Exception {
        int count = 40;
        byte[] full = images(count, 5, 5, new byte[count * 25]);
        Path cut = write(dir, "img", Arrays.copyOf(full, full.length - 30), false);
        Path lab = write(dir, "lab", labels(new byte[count]), false);
        assertThatThrownBy(() -> IdxReader.readDataset("cut", cut, lab, 5, 5, 10, 2))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining(cut.toString())
                .hasMessageContaining("truncated");
        byte[] badLabels = new byte[count];
        badLabels[count - 1] = 12; // past the prefix, still checked
        Path img = write(dir, "img2", full, false);
        Path bad = write(dir, "lab2", labels(badLabels), false);
        assertThatThrownBy(() -> IdxReader.readDataset("bad", img, bad, 5, 5, 10, 2))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining("label 12 at index " + (count - 1));
        Path fewer = write(dir, "lab3", labels(new byte[count - 1]), false);
        assertThatThrownBy(() -> IdxReader.readDataset("fewer", img, fewer, 5, 5, 10, 2))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining("expected the same count");
    }

    @Test
    void shouldFreeTheFloatBlockWhenTheImagesAreTruncatedMidStream() throws Exception {
        int count = 3001;
        byte[] full = images(count, 5, 5, new byte[count * 25]);
        Path img = write(dir, "img", java.util.Arrays.copyOf(full, full.length - 9000), false);
        Path lab = write(dir, "lab", labels(new byte[count]), false);
        long baseline = MemoryAccounting.liveBytes(Purpose.BATCHES);
        assertThatThrownBy(() -> IdxReader.readDataset("cut", img, lab, 5, 5, 10))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining(img.toString())
                .hasMessageContaining("truncated");
        Path gz = write(dir, "img.gz", java.util.Arrays.copyOf(full, full.length - 9000), true);
        assertThatThrownBy(() -> IdxReader.readDataset("cut", gz, lab, 5, 5, 10))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining(gz.toString())
                .hasMessageContaining("holds " + (count * 25 - 9000) + " bytes of data, expected " + count * 25);
        assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES)).isEqualTo(baseline);
    }

    @Test
    void shouldRefuseImagesAndLabelsThatDisagreeBeforeAllocating() throws Exception {
        Path img = write(dir, "img", images(3, 2, 3, rampPixels(18)), false);
        Path lab = write(dir, "lab", labels((byte) 1, (byte) 2), false);
        long baseline = MemoryAccounting.liveBytes(Purpose.BATCHES);
        assertThatThrownBy(() -> IdxReader.readDataset("odd", img, lab, 2, 3, 10))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining(lab.toString())
                .hasMessageContaining("holds 2 labels, but the image file " + img + " holds 3 images");
        assertThatThrownBy(() -> IdxReader.readDataset("odd", img, lab, 3, 2, 10))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining("images are 2x3, expected 3x2");
        assertThat(MemoryAccounting.liveBytes(Purpose.BATCHES)).isEqualTo(baseline);
    }

    @Test
    void shouldDetectGzipByMagicBytesNotByFileName() throws Exception {
        byte[] raw = labels((byte) 1, (byte) 2, (byte) 3);
        Path gzNamedRaw = write(dir, "labels.gz", raw, false);
        Path rawNamedGz = write(dir, "labels.idx", raw, true);

        assertThat(IdxReader.readLabels(gzNamedRaw, 10).data()).containsExactly(1, 2, 3);
        assertThat(IdxReader.readLabels(rawNamedGz, 10).data()).containsExactly(1, 2, 3);
    }

    @Test
    void shouldWidenEveryByteValueAndOddLengthsOnEveryBackendLikeTheFormula() {
        Random random = new Random(42);
        for (int n : new int[] {1, 7, 17, 1023, 16384, 16385, 50_001}) {
            byte[] src = new byte[n];
            random.nextBytes(src);
            if (n >= 256) {
                for (int v = 0; v < 256; v++) {
                    src[v] = (byte) v;
                }
            }
            // both backends widen from any byte offset to any float offset (here 3 and 5), nothing outside the range
            try (OffHeapBlock bytes = OffHeapBlock.allocate(n + 3, Purpose.WORKSPACE);
                 OffHeapBlock floats = OffHeapBlock.allocateFloats(n + 6, Purpose.WORKSPACE);
                 OffHeapBlock ints = OffHeapBlock.allocate((long) n * Integer.BYTES, Purpose.WORKSPACE)) {
                java.lang.foreign.MemorySegment.copy(src, 0, bytes.segment(), java.lang.foreign.ValueLayout.JAVA_BYTE,
                        3, n);
                IdxReader.toInts(src, ints.segment());
                for (var kernels : java.util.List.of(Kernels.scalar(), Kernels.simd())) {
                    floats.fill(-1f);
                    kernels.unitBytesToFloats(bytes.segment(), 3, floats.segment(), 5, n);
                    for (int i = 0; i < n; i++) {
                        int expected = src[i] & 0xFF;
                        if (Float.floatToRawIntBits(floats.getFloat(5 + i)) != Float.floatToRawIntBits(expected / 255f)) {
                            throw new AssertionError(kernels.name() + " n=" + n + " i=" + i + ": "
                                    + floats.getFloat(5 + i) + ", expected " + expected + " / 255");
                        }
                    }
                    assertThat(floats.getFloat(4)).as("%s: the float before the range", kernels.name()).isEqualTo(-1f);
                    assertThat(floats.getFloat(5 + n)).as("%s: the float after it", kernels.name()).isEqualTo(-1f);
                }
                for (int i = 0; i < n; i++) {
                    int expected = src[i] & 0xFF;
                    assertThat(ints.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i))
                            .as("n=%d i=%d", n, i).isEqualTo(expected);
                }
            }
        }
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldRejectWrongMagicNumber(boolean gzip) throws Exception {
        byte[] bytes = images(1, 2, 2, new byte[4]);
        bytes[0] = 0x12;
        bytes[1] = 0x34;
        Path file = write(dir, "bad-magic", bytes, gzip);

        assertThatThrownBy(() -> IdxReader.readImages(file, 2, 2))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("not an IDX file")
                .hasMessageContaining("0x12340803")
                .hasMessageContaining("expected 0x00000803");
    }

    @Test
    void shouldRejectWrongElementType() throws Exception {
        Path file = write(dir, "floats", idx(0x0D, new int[] {1, 1, 1}, new byte[4]));

        assertThatThrownBy(() -> IdxReader.readImages(file, 1, 1))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("element type is 0x0D (float32)")
                .hasMessageContaining("expected 0x08 (unsigned byte)");
    }

    @Test
    void shouldRejectLabelFileWhereImagesAreExpected() throws Exception {
        Path file = write(dir, "labels-not-images", labels((byte) 1, (byte) 2));

        assertThatThrownBy(() -> IdxReader.readImages(file, 28, 28))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("has 1 dimensions (magic number 0x00000801), expected 3 (0x00000803)");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldRejectTruncatedIdxFile(boolean gzip) throws Exception {
        byte[] full = images(2, 3, 3, rampPixels(18));
        Path file = write(dir, "truncated", Arrays.copyOf(full, full.length - 5), gzip);

        assertThatThrownBy(() -> IdxReader.readImages(file, 3, 3))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated")
                .hasMessageContaining("holds 13 bytes of data, expected 18 for dimensions [2, 3, 3]");
    }

    @Test
    void shouldRejectTruncatedHeaderAndEmptyFile() throws Exception {
        Path header = write(dir, "short-header", Arrays.copyOf(images(2, 3, 3, new byte[18]), 9));
        Path empty = write(dir, "empty", new byte[0]);

        assertThatThrownBy(() -> IdxReader.readImages(header, 3, 3))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(header.toString())
                .hasMessageContaining("truncated header: 5 bytes of dimensions, expected 12");
        assertThatThrownBy(() -> IdxReader.readLabels(empty, 10))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(empty.toString())
                .hasMessageContaining("file is 0 bytes long");
    }

    @Test
    void shouldRejectTruncatedGzipStream() throws Exception {
        byte[] compressed = gzip(images(50, 28, 28, rampPixels(50 * 28 * 28)));
        Path file = write(dir, "cut.gz", Arrays.copyOf(compressed, compressed.length / 2));

        assertThatThrownBy(() -> IdxReader.readImages(file, 28, 28))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("truncated");
    }

    @ParameterizedTest(name = "gzip={0}")
    @ValueSource(booleans = {false, true})
    void shouldRejectTrailingBytes(boolean gzip) throws Exception {
        byte[] full = labels((byte) 1, (byte) 2, (byte) 3);
        Path file = write(dir, "trailing", Arrays.copyOf(full, full.length + 7), gzip);

        assertThatThrownBy(() -> IdxReader.readLabels(file, 10))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("trailing bytes after the 3 bytes of data declared by dimensions [3]");
    }

    @Test
    void shouldRejectHugeDeclaredSizeWithoutAllocatingIt() throws Exception {
        Path raw = write(dir, "huge", idx(IdxReader.UBYTE, new int[] {2_000_000, 28, 28}, new byte[10]));
        Path gz = write(dir, "huge.gz", idx(IdxReader.UBYTE, new int[] {2_000_000, 28, 28}, new byte[10]), true);
        Path overflow = write(dir, "overflow", idx(IdxReader.UBYTE, new int[] {-1, 28, 28}, new byte[0]));

        // as float32 these images would need 6.3 GB in one block: refused from the header, naming the file
        for (Path file : new Path[] {raw, gz}) {
            assertThatThrownBy(() -> IdxReader.readImages(file, 28, 28))
                    .isInstanceOf(IdxFormatException.class).hasMessageContaining(file.toString())
                    .hasMessageContaining("declare more than 536870911 bytes of data")
                    .hasMessageContaining("Agrona buffers index bytes with an int");
        }
        Path labels = write(dir, "huge-labels", idx(IdxReader.UBYTE, new int[] {2_000_000_000}, new byte[10]));
        assertThatThrownBy(() -> IdxReader.readLabels(labels, 10))
                .hasMessageContaining("holds 10 bytes of data, expected 2000000000");
        assertThatThrownBy(() -> IdxReader.readImages(overflow, 28, 28))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining("dimension 0 is 4294967295");
    }

    /** A gzip bomb: 3 declared bytes, then 64 MiB of zeros (64 KiB compressed): refused after one more byte. */
    @Test
    void shouldNeverDecompressBeyondTheDeclaredSize() throws Exception {
        byte[] full = labels((byte) 1, (byte) 2, (byte) 3);
        byte[] bomb = Arrays.copyOf(full, full.length + (64 << 20));
        Path file = write(dir, "bomb.gz", bomb, true);
        assertThat(Files.size(file)).isLessThan(1 << 20);
        long before = java.lang.management.ManagementFactory.getThreadMXBean() instanceof
                com.sun.management.ThreadMXBean t ? t.getCurrentThreadAllocatedBytes() : 0;
        assertThatThrownBy(() -> IdxReader.readLabels(file, 10))
                .isInstanceOf(IdxFormatException.class).hasMessageContaining(file.toString())
                .hasMessageContaining("trailing bytes after the 3 bytes");
        long after = java.lang.management.ManagementFactory.getThreadMXBean() instanceof
                com.sun.management.ThreadMXBean t ? t.getCurrentThreadAllocatedBytes() : 0;
        assertThat(after - before).as("heap allocated while reading").isLessThan(4L << 20);
    }

    @Test
    void shouldRejectImagesOfTheWrongSize() throws Exception {
        Path file = write(dir, "32x32", images(1, 32, 32, new byte[32 * 32]));

        assertThatThrownBy(() -> IdxReader.readImages(file, 28, 28))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("images are 32x32, expected 28x28");
    }

    @Test
    void shouldRejectLabelOutsideTheClassRange() throws Exception {
        Path file = write(dir, "labels", labels((byte) 0, (byte) 9, (byte) 10, (byte) 3));

        assertThatThrownBy(() -> IdxReader.readLabels(file, 10))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("label 10 at index 2 is outside the class range [0, 10)");
        assertThat(IdxReader.readLabels(file, 11).count()).isEqualTo(4);
    }

    @Test
    void shouldRejectImageAndLabelCountMismatchWithoutLeakingBlocks() throws Exception {
        Path img = write(dir, "img", images(3, 2, 2, new byte[12]));
        Path lab = write(dir, "lab", labels((byte) 1, (byte) 2));
        long baseline = MemoryAccounting.totalLiveBlocks();

        assertThatThrownBy(() -> IdxReader.readDataset("mismatch", img, lab, 2, 2, 10))
                .isInstanceOf(IdxFormatException.class)
                .hasMessageContaining(lab.toString())
                .hasMessageContaining(img.toString())
                .hasMessageContaining("holds 2 labels, but the image file")
                .hasMessageContaining("holds 3 images; expected the same count");
        assertThat(MemoryAccounting.totalLiveBlocks()).isEqualTo(baseline);
    }
}
