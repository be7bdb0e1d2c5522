package dev.descent.engine.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An IDX file that cannot be used: wrong magic number or element type, truncated or over-long data,
 * unexpected dimensions, labels outside the class range, or image and label files that disagree.
 * The message names the file, the value found and the value expected.
 */
public final class IdxFormatException extends IOException {
    private final Path file;

    public IdxFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public IdxFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
