package dev.descent.samples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.descent.sdk.OutputFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A command's output folder. Every file is written atomically and durably through the SDK's one mechanism
 * ({@link OutputFiles}: temp file in the same folder, fsync, rename), so an interrupted run never leaves a
 * half-written summary or CSV behind.
 */
public final class OutputDir {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private boolean created; // once created, later writes and resolves skip the file-system call

    private OutputDir(Path dir) {
        this.dir = dir;
    }

    /** Set by the command line's {@code --overwrite} (every command has it); reset for each command line. */
    private static volatile boolean overwrite;

    /** Whether a command may write into an {@code --out} folder that already holds results. */
    public static void allowOverwrite(boolean allow) {
        overwrite = allow;
    }

    /**
     * The output folder of a new run. Validated now, created on the first write, so a command that fails on its
     * inputs leaves no empty folder behind. A folder that already holds results (a {@code summary.json}) is
     * refused unless {@code --overwrite} was given: a rerun must not silently replace a longer run's results.
     */
    public static OutputDir create(Path dir) {
        return create(dir, false);
    }

    /** As {@link #create(Path)}; {@code continuing} (a resumed run, a benchmark rerun) may write over earlier results. */
    public static OutputDir create(Path dir, boolean continuing) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UserError("--out " + dir + " exists and is not a folder");
        }
        if (!continuing && !overwrite && Files.exists(dir.resolve("summary.json"))) {
            throw new UserError("--out " + dir + " already holds the results of an earlier run (summary.json); "
                    + "choose another folder or pass --overwrite to replace them");
        }
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new UserError("cannot create output folder " + dir + ": "
                    + (existing == null ? "no existing parent" : existing + " is not a writable folder"));
        }
        return new OutputDir(dir.toAbsolutePath().normalize());
    }

    /** Creates the folder (on the first write). */
    private void ensureExists() {
        if (created) {
            return;
        }
        try {
            Files.createDirectories(dir);
            created = true;
        } catch (IOException e) {
            throw new UserError("cannot create output folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A subfolder, created (with this folder) on its first write, like this one. */
    public OutputDir sub(String name) {
        return new OutputDir(dir.resolve(name));
    }

    public Path path() {
        return dir;
    }

    /**
     * A path in the folder for a file the caller writes itself (or hands to the SDK): the folder is created now, so
     * every writer finds it (until the first resolve or write, a command leaves no folder behind).
     */
    public Path resolve(String name) {
        ensureExists();
        return dir.resolve(name);
    }

    /** Writes {@code value} (a Map, record or list) as indented JSON. */
    public Path writeJson(String name, Object value) {
        try {
            return writeString(name, JSON.writeValueAsString(value) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serialise " + name + ": " + e.getMessage(), e);
        }
    }

    /** Writes text atomically and durably (temp file, fsync, rename: {@link OutputFiles#writeString}). */
    public Path writeString(String name, String text) {
        Path target = dir.resolve(name);
        ensureExists();
        try {
            OutputFiles.writeString(target, text);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** The shared JSON mapper (for commands that read JSON back). */
    public static ObjectMapper json() {
        return JSON;
    }
}
