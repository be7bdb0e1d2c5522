package dev.descent.engine.data;

import java.io.FileNotFoundException;

/**
 * A dataset's files are not where they were looked for. The message lists the files and directories
 * searched, where the data directory setting came from, and how to fetch the data.
 */
public final class DatasetNotFoundException extends FileNotFoundException {
    public DatasetNotFoundException(String message) {
        super(message);
    }
}
