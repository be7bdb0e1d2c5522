package dev.descent.engine.landscape;

import java.util.Locale;

/** How BatchNorm layers normalize while the landscape is evaluated (always eval mode otherwise: Dropout off). */
public enum BnMode {
    /** Eval mode: the running statistics of the model the landscape is drawn around, the same at every point. */
    RUNNING,
    /**
     * Statistics recomputed at every point, from each evaluation batch (training-mode normalization with the running
     * statistics frozen), so the normalization follows the perturbed weights. Models with Dropout are refused in this
     * mode (training mode would turn their Dropout on).
     */
    RECOMPUTE;

    public static BnMode parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "running" -> RUNNING;
            case "recompute", "batch" -> RECOMPUTE;
            default -> throw new IllegalArgumentException("unknown BatchNorm mode '" + text
                    + "'; expected running or recompute");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
