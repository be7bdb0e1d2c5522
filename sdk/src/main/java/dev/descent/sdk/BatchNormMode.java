package dev.descent.sdk;

import dev.descent.engine.landscape.BnMode;
import java.util.Locale;

/** How BatchNorm layers normalize while a landscape is evaluated (Dropout is always off: eval mode). */
public enum BatchNormMode {
    /** The running statistics of the network the landscape is drawn around, the same at every point. */
    RUNNING(BnMode.RUNNING),
    /**
     * Statistics recomputed at every point from each evaluation batch, so the normalization follows the perturbed
     * weights. Networks with Dropout are refused in this mode.
     */
    RECOMPUTE(BnMode.RECOMPUTE);

    private final BnMode engine;

    BatchNormMode(BnMode engine) {
        this.engine = engine;
    }

    BnMode engine() {
        return engine;
    }

    /** {@code running} or {@code recompute} (also {@code batch}); anything else is an IllegalArgumentException. */
    public static BatchNormMode parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "running" -> RUNNING;
            case "recompute", "batch" -> RECOMPUTE;
            default -> throw new IllegalArgumentException("unknown BatchNorm mode '" + text
                    + "'; expected running or recompute");
        };
    }

    /** The lower-case name {@link #parse} accepts. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
