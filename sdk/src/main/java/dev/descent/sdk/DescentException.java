package dev.descent.sdk;

/** A request the engine cannot carry out (bad plan, missing data, memory budget exceeded, engine closed). */
public class DescentException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DescentException(String message) {
        super(message);
    }

    public DescentException(String message, Throwable cause) {
        super(message, cause);
    }
}
