package dev.descent.sdk;

import java.nio.file.Path;

/**
 * A landscape's partial-results file cannot be resumed from: it belongs to a run with other settings (network,
 * directions, geometry, data, loss, BatchNorm mode, evaluation batch or kernels) or is malformed. Start the plan
 * fresh ({@link LandscapePlan.Builder#partialResults(Path, boolean)} with {@code fresh} true) or delete the file.
 */
public final class LandscapeResumeException extends DescentException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    LandscapeResumeException(String message, Path file, Throwable cause) {
        super(message, cause);
        this.file = file;
    }

    /** The partial-results file that could not be used. */
    public Path file() {
        return file;
    }
}
