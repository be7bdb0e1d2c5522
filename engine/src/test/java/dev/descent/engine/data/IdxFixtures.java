package dev.descent.engine.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests: valid ones and deliberately broken ones. */
final class IdxFixtures {
    private IdxFixtures() {
    }

    /** IDX bytes: magic {0, 0, type, dims.length}, big-endian dims, then data. */
    static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        b.put(data);
        return b.array();
    }

    static byte[] images(int count, int rows, int cols, byte[] pixels) {
        return idx(IdxReader.UBYTE, new int[] {count, rows, cols}, pixels);
    }

    static byte[] labels(byte... labels) {
        return idx(IdxReader.UBYTE, new int[] {labels.length}, labels);
    }

    /** Pixels 0, 1, 2, ... wrapping at 256, so 0 and 255 both occur in larger fixtures. */
    static byte[] rampPixels(int n) {
        byte[] p = new byte[n];
        for (int i = 0; i < n; i++) {
            p[i] = (byte) (i * 37 + 11);
        }
        p[0] = 0;
        if (n > 1) {
            p[n - 1] = (byte) 255;
        }
        return p;
    }

    static byte[] gzip(byte[] raw) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(raw);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    static Path write(Path dir, String name, byte[] bytes) throws IOException {
        Path file = dir.resolve(name);
        Files.createDirectories(file.getParent());
        return Files.write(file, bytes);
    }

    /** Writes {@code raw}, gzip-compressed when {@code gzip} is set (the name is kept as given). */
    static Path write(Path dir, String name, byte[] raw, boolean gzip) throws IOException {
        return write(dir, name, gzip ? gzip(raw) : raw);
    }
}
