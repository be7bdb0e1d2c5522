package dev.descent.engine.train;

import dev.descent.engine.io.AtomicFiles;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
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
 * The model file: a versioned binary format holding the architecture spec, the parameter slab and the model's
 * non-trainable buffers (BatchNorm running statistics, {@link Model#writeBuffers}).
 * <pre>
 *   magic      8 bytes  "DESCENTM"
 *   version    int32    {@value #VERSION}
 *   specLen    int32    bytes of the UTF-8 spec
 *   floats     int64    floats of the parameter slab (padding included)
 *   bufFloats  int64    floats of the buffers                       (version 2+)
 *   spec       specLen bytes, {@link Model#spec()}
 *   params     floats × float32
 *   buffers    bufFloats × float32                                  (version 2+)
 *   crc32      int64    CRC32 of everything from version through the last section
 * </pre>
 * All numbers little-endian. Writes are atomic: a temp file in the same folder, fsync, rename over the target.
 * Reads check magic, version, sizes and CRC, and (for {@link #load(Path, Model)}) the spec, and say what
 * differs, naming the file.
 *
 * <p>Version 1 files (no buffers) are still read when the model they describe has no buffers, where nothing is
 * missing. A version 1 file of a model with buffers (BatchNorm) is refused, naming the file and both versions:
 * its running statistics were never saved, and evaluating with the defaults (mean 0, variance 1) would give
 * silently wrong results.
 *
 * <p>Version 3 has the layout of version 2; it marks that BatchNorm's scale is stored as γ itself. Version 1 and 2
 * files stored γ−1, and reading them adds 1 to every scale tensor ({@link Model#upgradeLegacyScales}), so old
 * files describe the same network as before.
 */
public final class ModelFile {
    public static final int VERSION = 3;
    /** The format that stored BatchNorm's scale as γ−1 (same layout as {@link #VERSION}); converted on reading. */
    static final int VERSION_GAMMA_MINUS_1 = 2;
    /** The format before buffers; read when the model has none. */
    static final int VERSION_WITHOUT_BUFFERS = 1;
    private static final byte[] MAGIC = "DESCENTM".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER_V1 = 8 + 4 + 4 + 8;
    private static final int HEADER = HEADER_V1 + 8;

    private ModelFile() {
    }

    /** Writes {@code model} to {@code path} atomically. */
    public static void save(Model model, Path path) throws IOException {
        write(model.spec(), model.params().segment(), model.params().floatCount(), model.buffers(), path);
    }

    /**
     * Writes a snapshot of a model ({@link Model#snapshot()}) to {@code path} atomically: the same bytes as
     * {@link #save(Model, Path)} of the model it was taken from.
     */
    public static void save(ParameterSnapshot snapshot, Path path) throws IOException {
        write(snapshot.spec(), snapshot.block().segment(), snapshot.block().floatCount(),
                snapshot.buffers().segment().toArray(ValueLayout.JAVA_FLOAT), path);
    }

    private static void write(String modelSpec, MemorySegment paramSlab, long floats, float[] bufferValues, Path path)
            throws IOException {
        byte[] spec = modelSpec.getBytes(StandardCharsets.UTF_8);
        long paramBytes = floats * Float.BYTES;
        long bufFloats = bufferValues.length;
        AtomicFiles.write(path, ch -> {
            CRC32 crc = new CRC32();
            ByteBuffer head = ByteBuffer.allocate(HEADER + spec.length).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(VERSION).putInt(spec.length).putLong(floats).putLong(bufFloats).put(spec).flip();
            crc.update(head.duplicate().position(MAGIC.length));
            AtomicFiles.writeFully(ch, head);
            ByteBuffer params = paramSlab.asSlice(0, paramBytes).asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            crc.update(params.duplicate());
            AtomicFiles.writeFully(ch, params);
            ByteBuffer buffers = ByteBuffer.allocate(Math.toIntExact(bufFloats * Float.BYTES))
                    .order(ByteOrder.LITTLE_ENDIAN);
            buffers.asFloatBuffer().put(bufferValues);
            crc.update(buffers.duplicate());
            AtomicFiles.writeFully(ch, buffers);
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip();
            AtomicFiles.writeFully(ch, tail);
        });
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
        if (p.version == VERSION_WITHOUT_BUFFERS && m.bufferFloats() > 0) {
            throw new ModelFileException(path, "it has format version " + p.version + ", which does not store the "
                    + m.bufferFloats() + " floats of non-trainable buffers (BatchNorm running statistics) this model"
                    + " needs; this build writes version " + VERSION + ": save the model again with this build");
        }
        if (p.bufFloats != m.bufferFloats()) {
            throw new ModelFileException(path, "it holds " + p.bufFloats + " buffer floats, the model has "
                    + m.bufferFloats());
        }
        ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        MemorySegment.copy(p.params, le, 0, m.params().segment(), ValueLayout.JAVA_FLOAT, 0, p.floats);
        if (p.version < VERSION) {
            m.upgradeLegacyScales();
        }
        if (p.bufFloats > 0) {
            float[] b = new float[Math.toIntExact(p.bufFloats)];
            MemorySegment.copy(p.buffers, le, 0, b, 0, b.length);
            m.readBuffers(MemorySegment.ofArray(b), 0);
        }
    }

    private record Parsed(int version, String spec, long floats, MemorySegment params, long bufFloats,
                          MemorySegment buffers) {
    }

    private static Parsed parse(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new ModelFileException(path, "it does not exist or is not a file");
        }
        byte[] all = Files.readAllBytes(path);
        if (all.length < HEADER_V1 + 8) {
            throw new ModelFileException(path, "it is truncated (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        buf.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new ModelFileException(path, "it is not a Descent model file (bad magic)");
        }
        int version = buf.getInt();
        if (version != VERSION && version != VERSION_GAMMA_MINUS_1 && version != VERSION_WITHOUT_BUFFERS) {
            throw new ModelFileException(path, "it has format version " + version + ", this build reads versions "
                    + VERSION_WITHOUT_BUFFERS + " to " + VERSION);
        }
        int header = version == VERSION_WITHOUT_BUFFERS ? HEADER_V1 : HEADER;
        if (all.length < header + 8) {
            throw new ModelFileException(path, "it is truncated (" + all.length + " bytes)");
        }
        int specLen = buf.getInt();
        long floats = buf.getLong();
        long bufFloats = version == VERSION_WITHOUT_BUFFERS ? 0 : buf.getLong();
        boolean sane = specLen >= 0 && floats >= 0 && bufFloats >= 0 && floats < Integer.MAX_VALUE
                && bufFloats < Integer.MAX_VALUE;
        long expected = (long) header + specLen + (floats + bufFloats) * Float.BYTES + 8;
        if (!sane || expected != all.length) {
            throw new ModelFileException(path, "its sizes do not add up (spec " + specLen + " bytes, " + floats
                    + " parameter floats, " + bufFloats + " buffer floats, file " + all.length
                    + " bytes): truncated or corrupted");
        }
        CRC32 crc = new CRC32();
        crc.update(all, MAGIC.length, all.length - 8 - MAGIC.length);
        long stored = ByteBuffer.wrap(all, all.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (stored != crc.getValue()) {
            throw new ModelFileException(path, "its checksum does not match (stored " + Long.toHexString(stored)
                    + ", computed " + Long.toHexString(crc.getValue()) + "): the file is corrupted");
        }
        String spec = new String(all, header, specLen, StandardCharsets.UTF_8);
        long paramsAt = (long) header + specLen;
        MemorySegment params = MemorySegment.ofArray(all).asSlice(paramsAt, floats * Float.BYTES);
        MemorySegment buffers = MemorySegment.ofArray(all).asSlice(paramsAt + floats * Float.BYTES,
                bufFloats * Float.BYTES);
        return new Parsed(version, spec, floats, params, bufFloats, buffers);
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

    /** A model file that cannot be used; the message names the file and what is wrong. */
    public static final class ModelFileException extends IOException {
        private static final long serialVersionUID = 1L;

        public ModelFileException(Path path, String problem) {
            super("model file " + path + ": " + problem);
        }
    }
}
