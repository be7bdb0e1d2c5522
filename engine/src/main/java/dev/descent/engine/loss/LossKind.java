package dev.descent.engine.loss;

import java.util.Locale;

/** The losses, with a factory for each. */
public enum LossKind {
    /** Softmax + cross-entropy, fused: L = mean_b(-log softmax(z_b)[y_b]). */
    CROSS_ENTROPY,
    /** Squared error against one-hot targets on the raw outputs: L = mean_b Σ_c (z_bc - onehot_bc)². */
    MSE;

    /** A new loss instance with a workspace for {@code maxBatch} rows of {@code classes} outputs. */
    public Loss create(int maxBatch, int classes) {
        return switch (this) {
            case CROSS_ENTROPY -> new CrossEntropyLoss(maxBatch, classes);
            case MSE -> new MseLoss(maxBatch, classes);
        };
    }

    /** Parses {@code cross-entropy}/{@code ce} or {@code mse}. */
    public static LossKind parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "cross-entropy", "ce", "crossentropy" -> CROSS_ENTROPY;
            case "mse" -> MSE;
            default -> throw new IllegalArgumentException("unknown loss '" + text + "'; expected cross-entropy or mse");
        };
    }

    /** CLI spelling. */
    public String cliName() {
        return this == CROSS_ENTROPY ? "cross-entropy" : "mse";
    }
}
