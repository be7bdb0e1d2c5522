package dev.descent.engine.landscape;

import dev.descent.engine.io.AtomicFiles;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The directions of a landscape, saved beside its results so the plot can be recomputed bit for bit.
 * <pre>
 *   magic     8 bytes "DESCENTD"
 *   version   int32   {@value #VERSION}
 *   specLen   int32   bytes of the model spec (UTF-8) the directions belong to
 *   notesLen  int32   bytes of free text describing how they were made (UTF-8: seed, norm, ...)
 *   count     int32   directions
 *   floats    int64   floats per direction (the parameter slab's size, padding included)
 *   spec, notes
 *   count × floats × float32
 *   crc32     int64   of everything from version on
 * </pre>
 * Little-endian; written atomically (temp file, fsync, rename).
 */
public final class DirectionFile {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "DESCENTD".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 8 + 4 + 4 + 4 + 4 + 8;

    /** Directions read back: the spec and notes they were saved with, and one owned block per direction. */
    public record Loaded(String spec, String notes, OffHeapBlock[] directions) implements AutoCloseable {
        @Override
        public void close() {
            for (OffHeapBlock d : directions) {
                d.close();
            }
        }
    }

    private DirectionFile() {
    }

    public static void save(Path path, String spec, String notes, MemorySegment... directions) throws IOException {
        if (directions.length == 0) {
            throw new IllegalArgumentException("no directions to save to " + path);
        }
        long floats = directions[0].byteSize() / Float.BYTES;
        for (MemorySegment d : directions) {
            if (d.byteSize() != floats * Float.BYTES) {
                throw new IllegalArgumentException("directions differ in size: " + d.byteSize() + " vs "
                        + floats * Float.BYTES + " bytes");
            }
        }
        byte[] s = spec.getBytes(StandardCharsets.UTF_8);
        byte[] n = notes.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(path, ch -> {
            CRC32 crc = new CRC32();
            ByteBuffer head = ByteBuffer.allocate(HEADER + s.length + n.length).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(VERSION).putInt(s.length).putInt(n.length).putInt(directions.length)
                    .putLong(floats).put(s).put(n).flip();
            crc.update(head.duplicate().position(MAGIC.length));
            AtomicFiles.writeFully(ch, head);
            for (MemorySegment d : directions) {
                ByteBuffer b = d.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                    throw new IllegalStateException("direction files are written on little-endian machines only");
                }
                crc.update(b.duplicate());
                AtomicFiles.writeFully(ch, b);
            }
            AtomicFiles.writeFully(ch, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip());
        });
    }

    public static Loaded load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("directions file " + path + ": it does not exist or is not a file");
        }
        byte[] all = Files.readAllBytes(path);
        if (all.length < HEADER + 8) {
            throw new IOException("directions file " + path + ": it is truncated (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        buf.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new IOException("directions file " + path + ": not a Descent directions file (bad magic)");
        }
        int version = buf.getInt();
        if (version != VERSION) {
            throw new IOException("directions file " + path + ": format version " + version + ", this build reads "
                    + VERSION);
        }
        int specLen = buf.getInt();
        int notesLen = buf.getInt();
        int count = buf.getInt();
        long floats = buf.getLong();
        long expected = (long) HEADER + specLen + notesLen + (long) count * floats * Float.BYTES + 8;
        if (specLen < 0 || notesLen < 0 || count < 1 || floats < 0 || expected != all.length) {
            throw new IOException("directions file " + path + ": sizes do not add up (truncated or corrupted)");
        }
        CRC32 crc = new CRC32();
        crc.update(all, MAGIC.length, all.length - 8 - MAGIC.length);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (stored != crc.getValue()) {
            throw new IOException("directions file " + path + ": checksum mismatch, the file is corrupted");
        }
        String spec = new String(all, HEADER, specLen, StandardCharsets.UTF_8);
        String notes = new String(all, HEADER + specLen, notesLen, StandardCharsets.UTF_8);
        OffHeapBlock[] dirs = new OffHeapBlock[count];
        MemorySegment src = MemorySegment.ofArray(all);
        long at = (long) HEADER + specLen + notesLen;
        try {
            for (int k = 0; k < count; k++) {
                dirs[k] = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE);
                MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), at,
                        dirs[k].segment(), ValueLayout.JAVA_FLOAT, 0, floats);
                at += floats * Float.BYTES;
            }
        } catch (RuntimeException | Error e) {
            for (OffHeapBlock d : dirs) {
                if (d != null) {
                    d.close();
                }
            }
            throw e;
        }
        return new Loaded(spec, notes, dirs);
    }
}
