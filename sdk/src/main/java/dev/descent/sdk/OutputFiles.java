package dev.descent.sdk;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Files written whole or not at all, by the same mechanism as the engine's model files, checkpoints and CSVs: a
 * temp file in the same folder, forced to disk, renamed over the target, the folder forced too. A reader sees the
 * old file or the new one; a crash leaves at most a stray temp file.
 */
public final class OutputFiles {
    private OutputFiles() {
    }

    /** Writes {@code text} (UTF-8) to {@code file} atomically, creating its folder. */
    public static void writeString(Path file, String text) throws IOException {
        AtomicFiles.writeString(file, text);
    }
}
