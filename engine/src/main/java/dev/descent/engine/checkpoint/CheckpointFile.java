package dev.descent.engine.checkpoint;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * The checkpoint container: a versioned file of tagged sections, each with its own CRC32C.
 * <pre>
 *   magic     8 bytes  "DESCENTC"
 *   version   int32    {@value #VERSION}
 *   sections  int32    number of data sections that follow
 *   then per section:
 *     tag     4 bytes  ASCII, e.g. "PARA"
 *     length  int64    payload bytes
 *     crc32c  int32    CRC32C of the payload
 *     payload length bytes
 *   end       4 bytes  "END!" (a file without it was cut short)
 * </pre>
 * All numbers little-endian. {@link #write} is atomic (temp file in the same folder, fsync, rename, fsync of the
 * folder), so a reader sees the previous file or the new one, never half of one. {@link #read} checks magic,
 * version, every section's bounds and checksum and the end marker, and names the file and the section in its
 * error.
 */
public final class CheckpointFile {
    public static final int VERSION = 1;
    private static final byte[] MAGIC = "DESCENTC".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "END!".getBytes(StandardCharsets.US_ASCII);
    private static final int SECTION_HEADER = 4 + 8 + 4;

    private CheckpointFile() {
    }

    /** One section to write: a 4-character tag and its payload (a byte view of heap or off-heap memory). */
    public record Section(String tag, MemorySegment payload) {
        public Section {
            if (tag.length() != 4 || !StandardCharsets.US_ASCII.newEncoder().canEncode(tag)) {
                throw new IllegalArgumentException("section tag must be 4 ASCII characters, was '" + tag + "'");
            }
        }

        public static Section ofText(String tag, String text) {
            return new Section(tag, MemorySegment.ofArray(text.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /** Writes the sections to {@code path} atomically; returns the file size in bytes. */
    public static long write(Path path, List<Section> sections) throws IOException {
        long[] bytes = {0};
        AtomicFiles.write(path, ch -> {
            ByteBuffer head = ByteBuffer.allocate(MAGIC.length + 8).order(ByteOrder.LITTLE_ENDIAN);
            head.put(MAGIC).putInt(VERSION).putInt(sections.size()).flip();
            bytes[0] += AtomicFiles.writeFully(ch, head);
            for (Section s : sections) {
                ByteBuffer payload = s.payload().asByteBuffer();
                CRC32C crc = new CRC32C();
                crc.update(payload.duplicate());
                ByteBuffer sh = ByteBuffer.allocate(SECTION_HEADER).order(ByteOrder.LITTLE_ENDIAN);
                sh.put(s.tag().getBytes(StandardCharsets.US_ASCII)).putLong(payload.remaining())
                        .putInt((int) crc.getValue()).flip();
                bytes[0] += AtomicFiles.writeFully(ch, sh);
                bytes[0] += AtomicFiles.writeFully(ch, payload);
            }
            bytes[0] += AtomicFiles.writeFully(ch, ByteBuffer.wrap(END));
        });
        return bytes[0];
    }

    /** Reads and verifies every section of a checkpoint file; returns them by tag, in file order. */
    public static Map<String, byte[]> read(Path path) throws CheckpointException {
        byte[] all;
        try {
            all = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new CheckpointException(path, "cannot be read: " + e);
        }
        if (all.length < MAGIC.length + 8 + END.length) {
            throw new CheckpointException(path, "it is truncated (" + all.length + " bytes)");
        }
        ByteBuffer buf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MAGIC.length];
        buf.get(magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CheckpointException(path, "it is not a Descent checkpoint (bad magic)");
        }
        int version = buf.getInt();
        if (version != VERSION) {
            throw new CheckpointException(path, "it has format version " + version + ", this build reads version "
                    + VERSION);
        }
        int count = buf.getInt();
        if (count < 0 || count > 1024) {
            throw new CheckpointException(path, "its section count " + count + " is implausible: corrupted");
        }
        Map<String, byte[]> sections = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            if (buf.remaining() < SECTION_HEADER) {
                throw new CheckpointException(path, "it is truncated in the header of section " + (i + 1) + " of "
                        + count);
            }
            byte[] tagBytes = new byte[4];
            buf.get(tagBytes);
            String tag = new String(tagBytes, StandardCharsets.US_ASCII);
            long length = buf.getLong();
            int stored = buf.getInt();
            if (length < 0 || length > buf.remaining()) {
                throw new CheckpointException(path, "it is truncated: section " + tag + " declares " + length
                        + " bytes, " + buf.remaining() + " remain");
            }
            byte[] payload = new byte[(int) length];
            buf.get(payload);
            CRC32C crc = new CRC32C();
            crc.update(payload);
            if ((int) crc.getValue() != stored) {
                throw new CheckpointException(path, "section " + tag + " fails its CRC32C check (stored "
                        + Integer.toHexString(stored) + ", computed " + Integer.toHexString((int) crc.getValue())
                        + "): the file is corrupted");
            }
            sections.put(tag, payload);
        }
        byte[] end = new byte[Math.min(END.length, buf.remaining())];
        buf.get(end);
        if (!Arrays.equals(end, END)) {
            throw new CheckpointException(path, "it is truncated: the end marker is missing");
        }
        if (buf.hasRemaining()) {
            throw new CheckpointException(path, buf.remaining() + " unexpected bytes follow the end marker");
        }
        return sections;
    }
}
