package dev.descent.engine.train;

import dev.descent.engine.nn.Model;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * The model file: a versioned binary format holding the architecture spec and the parameter slab.
 * <pre>
 *   magic    8 bytes  "DESCENTM"
 *   version  int32    {@value #VERSION}
 *   specLen  int32    bytes of the UTF-8 spec
 *   floats   int64    floats of the parameter slab (padding included)
 *   spec     specLen bytes, {@link Model#spec()}
 *   params   floats × float32
 *   crc32    int64    CRC32 of everything from version through params
 * </pre>
 * All numbers little-endian. Writes are atomic: a temp file in the same folder, fsync, rename over the target.
 * Reads check magic, version, sizes and CRC, and (for {@link #load(Path, Model)}) the spec, and say what
 * differs, naming the file.
 */
public final class ModelFile {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "DESCENTM".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 8 + 4 + 4 + 8;

    private ModelFile() {
    }

    /** Writes {@code model} to {@code path} atomically. */
    public static void save(Model model, Path path) throws IOException {
        byte[] spec = model.spec().getBytes(StandardCharsets.UTF_8);
        long floats = model.params().floatCount();
        long paramBytes = floats * Float.BYTES;
        Path dir = path.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, path.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                CRC32 crc = new CRC32();
                ByteBuffer head = ByteBuffer.allocate(HEADER + spec.length).order(ByteOrder.LITTLE_ENDIAN);
                head.put(MAGIC).putInt(VERSION).putInt(spec.length).putLong(floats).put(spec).flip();
                crc.update(head.duplicate().position(MAGIC.length));
                writeFully(ch, head);
                ByteBuffer params = model.params().segment().asSlice(0, paramBytes).asByteBuffer()
                        .order(ByteOrder.LITTLE_ENDIAN);
                crc.update(params.duplicate());
                writeFully(ch, params);
                ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip();
                writeFully(ch, tail);
                ch.force(true);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a model file into a new model built from its spec. */
    public static Model read(Path path) throws IOException {
        Parsed p = parse(path);
        Model m;
        try {
            m = Model.fromSpec(p.spec);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(path, "its model spec cannot be built: " + e.getMessage());
        }
        try {
            copyParams(path, p, m);
        } catch (ModelFileException | RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Loads a model file into an existing model, which must have exactly the file's architecture. */
    public static void load(Path path, Model into) throws IOException {
        Parsed p = parse(path);
        if (!p.spec.equals(into.spec())) {
            throw new ModelFileException(path, "it holds another architecture: " + firstDifference(p.spec, into.spec()));
        }
        copyParams(path, p, into);
    }

    private static void copyParams(Path path, Parsed p, Model m) throws ModelFileException {
        if (p.floats != m.params().floatCount()) {
            throw new ModelFileException(path, "it holds " + p.floats + " parameter floats, the model has "
                    + m.params().floatCount());
        }
        MemorySegment.copy(p.params, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0,
                m.params().segment(), ValueLayout.JAVA_FLOAT, 0, p.floats);
    }

    private record Parsed(String spec, long floats, MemorySegment params) {
    }

    private static Parsed parse(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new ModelFileException(path, "it does not exist or is not a file");
        }
        byte[] all = Files.readAllBytes(path);
        if (all.length < HEADER + 8) {
            throw new ModelFileException(path, "it is truncated (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        buf.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ModelFileException(path, "it is not a Descent model file (bad magic)");
        }
        int version = buf.getInt();
        if (version != VERSION) {
            throw new ModelFileException(path, "it has format version " + version + ", this build reads version "
                    + VERSION);
        }
        int specLen = buf.getInt();
        long floats = buf.getLong();
        long expected = (long) HEADER + specLen + floats * Float.BYTES + 8;
        if (specLen < 0 || floats < 0 || expected != all.length) {
            throw new ModelFileException(path, "its sizes do not add up (spec " + specLen + " bytes, " + floats
                    + " floats, file " + all.length + " bytes): truncated or corrupted");
        }
        CRC32 crc = new CRC32();
        crc.update(all, MAGIC.length, all.length - 8 - MAGIC.length);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (stored != crc.getValue()) {
            throw new ModelFileException(path, "its checksum does not match (stored " + Long.toHexString(stored)
                    + ", computed " + Long.toHexString(crc.getValue()) + "): the file is corrupted");
        }
        String spec = new String(all, HEADER, specLen, StandardCharsets.UTF_8);
        MemorySegment params = MemorySegment.ofArray(all).asSlice(HEADER + specLen, floats * Float.BYTES);
        return new Parsed(spec, floats, params);
    }

    private static String firstDifference(String a, String b) {
        String[] x = a.split("\n");
        String[] y = b.split("\n");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            String l = i < x.length ? x[i] : "<end>";
            String r = i < y.length ? y[i] : "<end>";
            if (!l.equals(r)) {
                return "line " + (i + 1) + " of the spec is '" + l + "' in the file but '" + r + "' in the model";
            }
        }
        return "specs differ";
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** A model file that cannot be used; the message names the file and what is wrong. */
    public static final class ModelFileException extends IOException {
        private static final long serialVersionUID = 1L;

        public ModelFileException(Path path, String problem) {
            super("model file " + path + ": " + problem);
        }
    }
}
