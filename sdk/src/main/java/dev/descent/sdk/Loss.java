package dev.descent.sdk;

import dev.descent.engine.loss.LossKind;

/** Training losses. */
public enum Loss {
    /** Softmax + cross-entropy (fused). */
    CROSS_ENTROPY(LossKind.CROSS_ENTROPY),
    /** Mean squared error against one-hot targets. */
    MSE(LossKind.MSE);

    private final LossKind engine;

    Loss(LossKind engine) {
        this.engine = engine;
    }

    LossKind engine() {
        return engine;
    }

    /** {@code cross-entropy} or {@code mse}. */
    public static Loss parse(String name) {
        LossKind k = LossKind.parse(name);
        return k == LossKind.MSE ? MSE : CROSS_ENTROPY;
    }
}
