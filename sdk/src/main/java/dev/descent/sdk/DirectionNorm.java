package dev.descent.sdk;

import dev.descent.engine.landscape.NormType;
import java.util.Locale;

/**
 * How a random landscape direction is scaled to the parameters it perturbs (Li et al. 2018, "Visualizing the Loss
 * Landscape of Neural Nets").
 */
public enum DirectionNorm {
    /** Per filter: each output unit's incoming weights scaled to the norm of the same weights of the network. */
    FILTER(NormType.FILTER),
    /** Per parameter tensor: each tensor scaled to the norm of the same tensor of the network. */
    LAYER(NormType.LAYER),
    /** Raw Gaussian N(0, 1) entries. */
    NONE(NormType.NONE);

    private final NormType engine;

    DirectionNorm(NormType engine) {
        this.engine = engine;
    }

    NormType engine() {
        return engine;
    }

    /** {@code filter}, {@code layer} or {@code none}; anything else is an IllegalArgumentException naming it. */
    public static DirectionNorm parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "filter" -> FILTER;
            case "layer" -> LAYER;
            case "none" -> NONE;
            default -> throw new IllegalArgumentException("unknown normalization '" + text
                    + "'; expected filter, layer or none");
        };
    }

    /** The lower-case name {@link #parse} accepts. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
