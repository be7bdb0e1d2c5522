package dev.descent.engine.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint file that cannot be used (truncated, corrupted, wrong format); the message names the file. */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path path;

    public CheckpointException(Path path, String problem) {
        super("checkpoint " + path + ": " + problem);
        this.path = path;
    }

    /** The file that could not be used. */
    public Path path() {
        return path;
    }
}
