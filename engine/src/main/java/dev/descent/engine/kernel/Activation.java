package dev.descent.engine.kernel;

/** Elementwise activations with their derivatives (see {@link KernelBackend#activationForward}). */
public enum Activation {
    IDENTITY,
    RELU,
    /** max(x, 0.01 x). */
    LEAKY_RELU,
    SIGMOID,
    TANH,
    /** tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x³))). */
    GELU
}
