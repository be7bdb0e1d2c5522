package dev.descent.engine.init;

/** Which fan a variance-scaling initializer divides by. */
public enum FanMode {
    /** Preserve the variance of activations in the forward pass (He et al. default). */
    FAN_IN,
    /** Preserve the variance of gradients in the backward pass. */
    FAN_OUT
}
