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

    private OutputDir(Path dir) {
        this.dir = dir;
    }

    /** Creates (if needed) and returns the folder; a path that exists and is not a folder is an error. */
    public static OutputDir create(Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new UserError("--out " + dir + " exists and is not a folder");
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserError("cannot create output folder " + dir + ": " + e.getMessage(), e);
        }
        return new OutputDir(dir.toAbsolutePath().normalize());
    }

    /**
     * Fails fast (before any training) when files cannot be created here: a read-only mount, a full disk, no
     * permission. {@code option} names the flag in the message.
     */
    public OutputDir requireWritable(String option) {
        try {
            Path probe = Files.createTempFile(dir, ".descent-write-probe", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new UserError(option + " " + dir + " is not writable: " + e.getMessage(), e);
        }
        return this;
    }

    public Path path() {
        return dir;
    }

    public Path resolve(String name) {
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
