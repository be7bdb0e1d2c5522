package dev.descent.engine.landscape;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The resumable record of a landscape run: one line per finished point, appended as it arrives and pushed to the
 * OS at once (so a killed process loses nothing but the points under way), fsynced at most every
 * {@value #FSYNC_INTERVAL_MS} ms and on close. The header carries a fingerprint of every setting that changes the
 * numbers; a run resumes only from a file with the same fingerprint. Values are written with
 * {@link Double#toString}, which reads back to the very same doubles.
 */
public final class PartialResults implements AutoCloseable {
    static final String MAGIC_LINE = "# descent landscape partial v1";
    static final String FINGERPRINT_PREFIX = "# settings ";
    static final String HEADER = "index,a,b,train_loss,train_accuracy,test_loss,test_accuracy";
    private static final long FSYNC_INTERVAL_MS = 2000;

    private final Path path;
    private final FileChannel channel;
    private final List<PointResult> loaded;
    private long lastSync = System.nanoTime();

    private PartialResults(Path path, FileChannel channel, List<PointResult> loaded) {
        this.path = path;
        this.channel = channel;
        this.loaded = loaded;
    }

    /**
     * Opens {@code path} for appending. An existing file with the same fingerprint is resumed (its complete lines are
     * kept, a torn last line dropped); one with another fingerprint is an error unless {@code fresh}, which starts
     * over.
     */
    public static PartialResults open(Path path, String fingerprint, int points, boolean fresh) throws IOException {
        List<PointResult> kept = new ArrayList<>();
        if (Files.exists(path) && !fresh) {
            String text = Files.readString(path, StandardCharsets.UTF_8);
            String[] lines = text.split("\n", -1);
            if (lines.length < 3 || !lines[0].equals(MAGIC_LINE)) {
                throw new ResumeException(path + " is not a landscape partial-results file; delete it or start fresh");
            }
            String stored = lines[1].startsWith(FINGERPRINT_PREFIX) ? lines[1].substring(FINGERPRINT_PREFIX.length())
                    : "";
            if (!stored.equals(fingerprint)) {
                throw new ResumeException(path + " holds partial results of a run with other settings (" + stored
                        + " vs " + fingerprint + "); use another output folder or start fresh");
            }
            // the last element follows the last '\n': empty when the file ends cleanly, a torn line otherwise
            for (int i = 3; i < lines.length - 1; i++) {
                if (!lines[i].isBlank()) {
                    PointResult r = parse(lines[i], path);
                    if (r.index() < 0 || r.index() >= points) {
                        throw new ResumeException(path + ": point " + r.index() + " is outside this run's " + points
                                + " points");
                    }
                    kept.add(r);
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        sb.append(MAGIC_LINE).append('\n').append(FINGERPRINT_PREFIX).append(fingerprint).append('\n')
                .append(HEADER).append('\n');
        for (PointResult r : kept) {
            sb.append(format(r));
        }
        AtomicFiles.writeString(path, sb.toString());
        FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        return new PartialResults(path, ch, List.copyOf(kept));
    }

    /** Points already finished by an earlier run (empty when starting fresh). */
    public List<PointResult> loaded() {
        return loaded;
    }

    public Path path() {
        return path;
    }

    /** Appends one finished point. */
    public void append(PointResult r) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(format(r).getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            channel.write(b);
        }
        long now = System.nanoTime();
        if ((now - lastSync) / 1_000_000 >= FSYNC_INTERVAL_MS) {
            channel.force(false);
            lastSync = now;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.force(false);
        } finally {
            channel.close();
        }
    }

    static String format(PointResult r) {
        return r.index() + "," + r.a() + "," + r.b() + "," + r.trainLoss() + "," + r.trainAccuracy() + ","
                + r.testLoss() + "," + r.testAccuracy() + "\n";
    }

    private static PointResult parse(String line, Path path) {
        String[] t = line.split(",");
        if (t.length != 7) {
            throw new ResumeException(path + ": malformed line '" + line + "'");
        }
        try {
            return new PointResult(Integer.parseInt(t[0]), Double.parseDouble(t[1]), Double.parseDouble(t[2]),
                    Double.parseDouble(t[3]), Double.parseDouble(t[4]), Double.parseDouble(t[5]),
                    Double.parseDouble(t[6]));
        } catch (NumberFormatException e) {
            throw new ResumeException(path + ": malformed line '" + line + "'");
        }
    }

    /** Partial results that cannot be resumed; the message says why and what to do. */
    public static final class ResumeException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        public ResumeException(String message) {
            super(message);
        }
    }
}
