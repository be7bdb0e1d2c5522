package dev.descent.engine.memory;

/** What an off-heap block is for; bytes are counted per purpose (see {@link MemoryAccounting}). */
public enum Purpose {
    PARAMETERS,
    GRADIENTS,
    OPTIMIZER_STATE,
    ACTIVATIONS,
    BATCHES,
    WORKSPACE
}
