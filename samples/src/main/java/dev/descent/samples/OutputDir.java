package dev.descent.samples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A command's output folder. Every file is written atomically (temp file in the same folder, then rename),
 * so an interrupted run never leaves a half-written summary or CSV behind.
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

    /** Writes text atomically. */
    public Path writeString(String name, String text) {
        Path target = dir.resolve(name);
        try {
            Path tmp = Files.createTempFile(dir, name, ".tmp");
            try {
                Files.writeString(tmp, text, StandardCharsets.UTF_8);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
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
