package dev.descent.sdk;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/** The blocking wait the job handles share. */
final class Futures {
    private Futures() {
    }

    /**
     * Waits for {@code f}; rethrows its failure as it is when unchecked, else wrapped in a {@link DescentException}
     * whose message starts with {@code what} ("job fmnist", "landscape").
     */
    static <T> T await(CompletableFuture<T> f, String what) throws InterruptedException {
        try {
            return f.get();
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new DescentException(what + " failed: " + (c instanceof java.io.IOException && c.getMessage() != null
                    ? c.getMessage() : c.toString()), c);
        }
    }
}
