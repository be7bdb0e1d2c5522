package dev.descent.engine.data;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files of unsigned bytes (the MNIST format: {@code 0x00 0x00 type rank}, then {@code rank}
 * big-endian int32 dimensions, then the data row-major), raw or gzip-compressed. Compression is detected
 * by the gzip magic bytes, not by the file name.
 *
 * <p>Every defect is reported as an {@link IdxFormatException} naming the file, the value found and the
 * value expected: wrong magic number, wrong element type or rank, truncated data, trailing bytes,
 * unexpected image dimensions, labels outside the class range, image and label counts that disagree.
 */
public final class IdxReader {
    /** IDX element type code of unsigned bytes. */
    public static final int UBYTE = 0x08;
    private static final int BUFFER_BYTES = 1 << 16;
    private static final int CONVERT_CHUNK = 1 << 14;
    /** Bytes read at a time when a file streams into its destination ({@link #readDataset}). */
    static final int CHUNK_BYTES = 1 << 16;
    /** Deflate expands at most ~1032:1; a gzip file cannot decompress to more than this many times its size. */
    private static final long MAX_DEFLATE_RATIO = 1032;
    private static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

    private IdxReader() {
    }

    /**
     * A decoded unsigned-byte IDX file.
     *
     * @param file where it was read from
     * @param dims its dimensions, e.g. [60000, 28, 28]; dims[0] is the item count
     * @param data the bytes, row-major [dims...]; shared, not copied
     */
    public record IdxBytes(Path file, int[] dims, byte[] data) {
        /** Number of items (the first dimension). */
        public int count() {
            return dims[0];
        }
    }

    /**
     * Images become float32 in one off-heap block, whose Agrona view indexes bytes with an int: at most this many
     * image bytes (a quarter of 2 GiB) can be loaded.
     */
    static final long MAX_IMAGE_BYTES = Integer.MAX_VALUE / Float.BYTES;

    /** Reads an unsigned-byte IDX file of the given rank (3 for images, 1 for labels). */
    public static IdxBytes read(Path file, int expectedRank) throws IOException {
        return read(file, expectedRank, MAX_DATA_BYTES, "the most supported");
    }

    /**
     * As {@link #read(Path, int)}, refusing (from the header, before reading any data) dimensions that declare
     * more than {@code maxDataBytes}; {@code why} explains the bound in the message. The data read, decompressed
     * or not, never exceeds the declared size: a gzip stream that goes on is refused after one more byte.
     */
    static IdxBytes read(Path file, int expectedRank, long maxDataBytes, String why) throws IOException {
        return read(file, expectedRank, maxDataBytes, why, null, Long.MAX_VALUE);
    }

    /**
     * Receives an IDX file's data once its header has been checked, in order, chunk by chunk, without the file's
     * data ever being held in one array.
     */
    @FunctionalInterface
    interface Chunks {
        /**
         * Called once, after the header checks and before any data, with the file's dimensions and whether the file
         * is gzip-compressed (a raw file's size has then been checked against the dimensions); returns whether the
         * data should stream into {@link #accept} (false: the read stops after the header).
         */
        default boolean start(int[] dims, boolean compressed) throws IOException {
            return true;
        }

        /** {@code n} bytes of data starting at data byte {@code at}, in {@code chunk} (reused after the call). */
        void accept(byte[] chunk, long at, int n);
    }

    /**
     * The reader behind {@link #read(Path, int)} and {@link #readDataset}: checks the header, then hands the data
     * to {@code chunks} when given (streaming, {@link #CHUNK_BYTES} at a time; the result's data is then null) or
     * else returns it whole; the same checks and messages either way. A streaming read stops after
     * {@code stopAfter} bytes of data, or after the header when {@link Chunks#start} declines it: the rest is not read (a raw file's size is still checked against its header
     * first; a gzip stream is not decompressed further, so its trailing bytes are not checked then).
     */
    private static IdxBytes read(Path file, int expectedRank, long maxDataBytes, String why, Chunks chunks,
                                 long stopAfter) throws IOException {
        long fileBytes = Files.size(file);
        try (InputStream in = open(file)) {
            boolean gzip = in instanceof GZIPInputStream;
            String what = gzip ? "decompressed data" : "file";
            byte[] magic = in.readNBytes(4);
            if (magic.length < 4) {
                throw new IdxFormatException(file, what + " is " + magic.length
                        + " bytes long, too short for the 4-byte IDX magic number");
            }
            int magicNumber = ((magic[0] & 0xFF) << 24) | ((magic[1] & 0xFF) << 16) | ((magic[2] & 0xFF) << 8)
                    | (magic[3] & 0xFF);
            int expectedMagic = (UBYTE << 8) | expectedRank;
            if (magic[0] != 0 || magic[1] != 0) {
                throw new IdxFormatException(file, String.format(
                        "not an IDX file: magic number is 0x%08X, expected 0x%08X (unsigned bytes, %d dimensions)",
                        magicNumber, expectedMagic, expectedRank));
            }
            int type = magic[2] & 0xFF;
            if (type != UBYTE) {
                throw new IdxFormatException(file, String.format(
                        "element type is 0x%02X (%s), expected 0x%02X (unsigned byte); magic number 0x%08X",
                        type, typeName(type), UBYTE, magicNumber));
            }
            int rank = magic[3] & 0xFF;
            if (rank != expectedRank) {
                throw new IdxFormatException(file, String.format(
                        "has %d dimensions (magic number 0x%08X), expected %d (0x%08X)",
                        rank, magicNumber, expectedRank, expectedMagic));
            }
            byte[] header = in.readNBytes(4 * rank);
            if (header.length < 4 * rank) {
                throw new IdxFormatException(file, "truncated header: " + header.length + " bytes of dimensions, expected "
                        + 4 * rank + " (" + rank + " int32)");
            }
            int[] dims = new int[rank];
            long dataBytes = 1;
            for (int d = 0; d < rank; d++) {
                long dim = ((long) (header[4 * d] & 0xFF) << 24) | ((header[4 * d + 1] & 0xFF) << 16)
                        | ((header[4 * d + 2] & 0xFF) << 8) | (header[4 * d + 3] & 0xFF);
                if (dim > Integer.MAX_VALUE) {
                    throw new IdxFormatException(file, "dimension " + d + " is " + dim + ", more than "
                            + Integer.MAX_VALUE);
                }
                dims[d] = (int) dim;
                dataBytes *= dim;
                if (dataBytes > maxDataBytes) {
                    throw new IdxFormatException(file, "dimensions " + describe(header, rank)
                            + " declare more than " + maxDataBytes + " bytes of data, " + why);
                }
            }
            int len = (int) dataBytes;
            long headerBytes = 4L + 4L * rank;
            if (!gzip && fileBytes != headerBytes + len) {
                long held = fileBytes - headerBytes;
                throw new IdxFormatException(file, held < len
                        ? "truncated: holds " + held + " bytes of data, expected " + len + " for dimensions "
                        + Arrays.toString(dims)
                        : "has " + (held - len) + " trailing bytes after the " + len
                        + " bytes of data declared by dimensions " + Arrays.toString(dims));
            }
            long got;
            byte[] data = null;
            long end = len;
            if (chunks != null) {
                end = chunks.start(dims.clone(), gzip) ? Math.min(len, stopAfter) : 0;
                byte[] chunk = new byte[(int) Math.max(1, Math.min(CHUNK_BYTES, end))];
                got = 0;
                while (got < end) {
                    int want = (int) Math.min(chunk.length, end - got);
                    int n = in.readNBytes(chunk, 0, want);
                    if (n > 0) {
                        chunks.accept(chunk, got, n);
                        got += n;
                    }
                    if (n < want) {
                        break;
                    }
                }
            } else {
                if (gzip && len > fileBytes * MAX_DEFLATE_RATIO) {
                    data = in.readNBytes(len); // cannot be complete; read in chunks rather than allocate len bytes
                } else {
                    data = new byte[len];
                    int n = in.readNBytes(data, 0, len);
                    if (n < len) {
                        data = Arrays.copyOf(data, n);
                    }
                }
                got = data.length;
            }
            if (got < end) {
                throw new IdxFormatException(file, "truncated: " + what + " holds " + got
                        + " bytes of data, expected " + len + " for dimensions " + Arrays.toString(dims));
            }
            if (end == len && gzip && in.read() >= 0) { // never decompress beyond the declared size (a gzip bomb stops here)
                throw new IdxFormatException(file, "has trailing bytes after the " + len
                        + " bytes of data declared by dimensions " + Arrays.toString(dims));
            }
            return new IdxBytes(file, dims, data);
        } catch (EOFException e) {
            throw new IdxFormatException(file, "truncated gzip stream: " + e.getMessage(), e);
        } catch (ZipException e) {
            throw new IdxFormatException(file, "corrupt gzip data: " + e.getMessage(), e);
        }
    }

    /** Reads an IDX image file [count, rows, cols] of unsigned bytes and checks the image size. */
    public static IdxBytes readImages(Path file, int rows, int cols) throws IOException {
        IdxBytes images = read(file, 3, MAX_IMAGE_BYTES, IMAGE_BOUND);
        checkImageSize(file, images.dims(), rows, cols);
        return images;
    }

    private static final String IMAGE_BOUND = "the most one off-heap float32 block can hold (2 GiB: "
            + "Agrona buffers index bytes with an int); load a subset";

    private static void checkImageSize(Path file, int[] d, int rows, int cols) throws IdxFormatException {
        if (d[1] != rows || d[2] != cols) {
            throw new IdxFormatException(file, "images are " + d[1] + "x" + d[2] + ", expected " + rows + "x" + cols);
        }
    }

    /** Reads an IDX label file [count] of unsigned bytes and checks every label is in [0, classes). */
    public static IdxBytes readLabels(Path file, int classes) throws IOException {
        IdxBytes labels = read(file, 1);
        byte[] data = labels.data();
        for (int i = 0; i < data.length; i++) {
            int label = data[i] & 0xFF;
            if (label >= classes) {
                throw new IdxFormatException(file, "label " + label + " at index " + i
                        + " is outside the class range [0, " + classes + ")");
            }
        }
        return labels;
    }

    /**
     * Reads a pair of image and label files into an off-heap {@link Dataset}: features in [0, 1] (byte / 255, held as
     * the file's bytes and read as float32), row-major [count, rows * cols], sample shape {1, rows, cols}; labels
     * int32.
     */
    public static Dataset readDataset(String name, Path imageFile, Path labelFile, int rows, int cols, int classes)
            throws IOException {
        return readDataset(name, imageFile, labelFile, rows, cols, classes, Integer.MAX_VALUE);
    }

    /**
     * As {@link #readDataset(String, Path, Path, int, int, int)}, keeping only the first {@code first} examples
     * (all of them when the files hold fewer; then named {@code name[0, first)}, as {@link Dataset#subset} names
     * them): the labels are all read and checked, the headers too, but the images past the first {@code first} are
     * not mapped or decompressed. A raw image file's size is still checked against its header; the rest of a gzip file
     * is not decompressed, so its trailing bytes are not checked then.
     *
     * <p>A raw image file is mapped read-only ({@link Dataset#ofUnitBytes}): the dataset's features are the file's own
     * pages in the OS's cache, released when the dataset closes. Replacing the file in place (rather than by rename,
     * as {@code scripts/fetch-data.sh} does) while a dataset maps it changes or, truncated, breaks the rows it reads.
     */
    public static Dataset readDataset(String name, Path imageFile, Path labelFile, int rows, int cols, int classes,
                                      int first) throws IOException {
        if (first < 1) {
            throw new IllegalArgumentException(name + ": first must be >= 1, was " + first);
        }
        IdxBytes labels = readLabels(labelFile, classes);
        int fileCount = labels.count();
        int count = Math.min(fileCount, first);
        long pixels = (long) count * rows * cols;
        // A raw image file is mapped, not read: its pages are the OS's file cache, so the dataset costs no memory of
        // its own and nothing to fault in (allocating and filling Fashion-MNIST's 188 MB of floats took 0.6-0.9 s
        // on the VMs measured, mapping 47 MB of bytes ~0.05 s). A gzip file streams into a block of bytes.
        Arena mapping = null;
        OffHeapBlock[] inflated = new OffHeapBlock[1];
        boolean[] compressed = new boolean[1];
        OffHeapBlock labelBlock = null;
        try {
            read(imageFile, 3, MAX_IMAGE_BYTES, IMAGE_BOUND, new Chunks() {
                @Override
                public boolean start(int[] d, boolean gzip) throws IOException {
                    checkImageSize(imageFile, d, rows, cols);
                    if (d[0] != fileCount) {
                        throw new IdxFormatException(labelFile, "holds " + fileCount + " labels, but the image file "
                                + imageFile + " holds " + d[0] + " images; expected the same count");
                    }
                    compressed[0] = gzip;
                    if (gzip) {
                        inflated[0] = OffHeapBlock.allocate(pixels, Purpose.BATCHES);
                    }
                    return gzip; // a raw file is mapped below instead
                }

                @Override
                public void accept(byte[] chunk, long at, int n) {
                    MemorySegment.copy(chunk, 0, inflated[0].segment(), ValueLayout.JAVA_BYTE, at, n);
                }
            }, pixels);
            MemorySegment bytes;
            AutoCloseable owner;
            if (compressed[0]) {
                bytes = inflated[0].segment();
                owner = inflated[0];
            } else {
                mapping = Arena.ofShared();
                try (FileChannel channel = FileChannel.open(imageFile, StandardOpenOption.READ)) {
                    bytes = channel.map(FileChannel.MapMode.READ_ONLY, IMAGE_HEADER_BYTES, pixels, mapping);
                }
                owner = mapping;
            }
            labelBlock = OffHeapBlock.allocate((long) count * Integer.BYTES, Purpose.BATCHES);
            toInts(count == fileCount ? labels.data() : Arrays.copyOf(labels.data(), count), labelBlock.segment());
            return Dataset.ofUnitBytes(count == fileCount ? name : name + "[0, " + count + ")", bytes, owner,
                    labelBlock, count, new int[] {1, rows, cols}, classes);
        } catch (IOException | RuntimeException | Error e) {
            if (inflated[0] != null) {
                inflated[0].close();
            }
            if (mapping != null) {
                mapping.close();
            }
            if (labelBlock != null) {
                labelBlock.close();
            }
            throw e;
        }
    }

    /** Header of a rank-3 IDX file: the 4-byte magic number and three int32 dimensions. */
    private static final long IMAGE_HEADER_BYTES = 4 + 4 * 3;

    /** Widens unsigned bytes to int32 into {@code dst}. */
    static void toInts(byte[] src, MemorySegment dst) {
        int[] chunk = new int[Math.min(CONVERT_CHUNK, src.length)];
        for (int off = 0; off < src.length; off += chunk.length) {
            int n = Math.min(chunk.length, src.length - off);
            for (int i = 0; i < n; i++) {
                chunk[i] = src[off + i] & 0xFF;
            }
            MemorySegment.copy(chunk, 0, dst, ValueLayout.JAVA_INT, (long) off * Integer.BYTES, n);
        }
    }

    /** Opens {@code file}, decompressing it when it starts with the gzip magic bytes 0x1F 0x8B. */
    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), BUFFER_BYTES);
        try {
            in.mark(2);
            int b0 = in.read();
            int b1 = in.read();
            in.reset();
            if (b0 == 0x1F && b1 == 0x8B) {
                return new GZIPInputStream(in, BUFFER_BYTES);
            }
            return in;
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
    }

    private static String describe(byte[] header, int rank) {
        long[] dims = new long[rank];
        for (int d = 0; d < rank; d++) {
            dims[d] = ((long) (header[4 * d] & 0xFF) << 24) | ((header[4 * d + 1] & 0xFF) << 16)
                    | ((header[4 * d + 2] & 0xFF) << 8) | (header[4 * d + 3] & 0xFF);
        }
        return Arrays.toString(dims);
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "int16";
            case 0x0C -> "int32";
            case 0x0D -> "float32";
            case 0x0E -> "float64";
            default -> "not an IDX type";
        };
    }
}
