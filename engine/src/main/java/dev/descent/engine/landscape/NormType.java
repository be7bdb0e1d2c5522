package dev.descent.engine.landscape;

import java.util.Locale;

/**
 * How a random direction is scaled to the parameters it perturbs (Li et al. 2018, "Visualizing the Loss Landscape
 * of Neural Nets").
 */
public enum NormType {
    /**
     * Per filter: each output unit's (or channel's) incoming weights — row {@code i} of a {@code [out, ...]} weight
     * tensor — scaled to the norm of the same row of the weights. Removes the scale invariance of ReLU networks, so
     * plots of different networks can be compared.
     */
    FILTER,
    /** Per parameter tensor: each tensor of the direction scaled to the norm of the same tensor of the weights. */
    LAYER,
    /** Raw Gaussian N(0, 1) entries. */
    NONE;

    public static NormType parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "filter" -> FILTER;
            case "layer" -> LAYER;
            case "none" -> NONE;
            default -> throw new IllegalArgumentException("unknown normalization '" + text
                    + "'; expected filter, layer or none");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
