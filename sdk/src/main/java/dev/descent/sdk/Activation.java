package dev.descent.sdk;

import java.util.Locale;

/** Elementwise activations of hidden layers. */
public enum Activation {
    RELU(dev.descent.engine.kernel.Activation.RELU),
    LEAKY_RELU(dev.descent.engine.kernel.Activation.LEAKY_RELU),
    SIGMOID(dev.descent.engine.kernel.Activation.SIGMOID),
    TANH(dev.descent.engine.kernel.Activation.TANH),
    GELU(dev.descent.engine.kernel.Activation.GELU),
    IDENTITY(dev.descent.engine.kernel.Activation.IDENTITY);

    private final dev.descent.engine.kernel.Activation engine;

    Activation(dev.descent.engine.kernel.Activation engine) {
        this.engine = engine;
    }

    dev.descent.engine.kernel.Activation engine() {
        return engine;
    }

    /** {@code relu}, {@code leaky-relu}, {@code sigmoid}, {@code tanh}, {@code gelu}, {@code identity}. */
    public static Activation parse(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown activation '" + name
                    + "'; expected relu, leaky-relu, sigmoid, tanh, gelu or identity", e);
        }
    }
}
