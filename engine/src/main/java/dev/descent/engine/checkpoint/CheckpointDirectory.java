package dev.descent.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A folder of checkpoints named by step ({@code checkpoint-000000001200.dck}), keeping the newest {@code keep}.
 * {@link #readLatest} returns the newest checkpoint that verifies; corrupted or truncated ones are reported to a
 * callback (the error names the file) and skipped, so a crash during a write, or a damaged disk block, costs at
 * most the steps since the previous checkpoint.
 */
public final class CheckpointDirectory {
    private static final Pattern NAME = Pattern.compile("checkpoint-(\\d{12})\\.dck");

    /** A verified checkpoint: its file, step and sections by tag. */
    public record Found(Path path, long step, Map<String, byte[]> sections) {
    }

    private final Path dir;
    private final int keep;

    /** @param keep how many checkpoints to keep (>= 1); older ones are deleted after each successful write */
    public CheckpointDirectory(Path dir, int keep) {
        if (keep < 1) {
            throw new IllegalArgumentException("keep must be >= 1 checkpoint, was " + keep);
        }
        this.dir = dir;
        this.keep = keep;
    }

    public Path dir() {
        return dir;
    }

    /** The file name used for {@code step}. */
    public Path pathFor(long step) {
        return dir.resolve(String.format(Locale.ROOT, "checkpoint-%012d.dck", step));
    }

    /** Writes the checkpoint of {@code step} atomically, then deletes all but the newest {@code keep}. */
    public long write(long step, List<CheckpointFile.Section> sections) throws IOException {
        long bytes = CheckpointFile.write(pathFor(step), sections);
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            Files.deleteIfExists(all.get(i));
        }
        return bytes;
    }

    /** Checkpoint files, oldest first (by step in the name). Missing folder: empty. */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> NAME.matcher(p.getFileName().toString()).matches()).sorted().forEach(out::add);
        }
        return out;
    }

    /** The step encoded in a checkpoint file name. */
    public static long stepOf(Path file) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (!m.matches()) {
            throw new IllegalArgumentException("not a checkpoint file name: " + file.getFileName());
        }
        return Long.parseLong(m.group(1));
    }

    /**
     * The newest checkpoint that verifies, or null when there is none; each newer one that fails verification is
     * passed to {@code onCorrupt} first.
     */
    public Found readLatest(Consumer<CheckpointException> onCorrupt) throws IOException {
        List<Path> all = list();
        for (int i = all.size() - 1; i >= 0; i--) {
            Path p = all.get(i);
            try {
                return new Found(p, stepOf(p), CheckpointFile.read(p));
            } catch (CheckpointException e) {
                onCorrupt.accept(e);
            }
        }
        return null;
    }
}
