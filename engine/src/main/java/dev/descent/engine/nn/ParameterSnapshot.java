package dev.descent.engine.nn;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;

/**
 * An owned off-heap copy of a model's state (see {@link Model#snapshot()}): the parameter slab and the
 * non-trainable buffers (BatchNorm running statistics), so that restoring it gives back a model that evaluates
 * exactly as the one it was taken from. Close it when done.
 */
public final class ParameterSnapshot implements AutoCloseable {
    private final String spec;
    private final OffHeapBlock block;
    private final OffHeapBlock buffers;

    ParameterSnapshot(String spec, long paramBytes, long bufferBytes) {
        this.spec = spec;
        this.block = OffHeapBlock.allocate(paramBytes, Purpose.PARAMETERS);
        OffHeapBlock b;
        try {
            b = OffHeapBlock.allocate(bufferBytes, Purpose.PARAMETERS);
        } catch (RuntimeException | Error e) {
            block.close();
            throw e;
        }
        this.buffers = b;
    }

    /** Spec of the model the snapshot was taken from. */
    public String spec() {
        return spec;
    }

    /** The copy of the parameter slab. */
    public OffHeapBlock block() {
        return block;
    }

    /** The copy of the model's buffers, {@link Model#bufferFloats()} native-order floats. */
    public OffHeapBlock buffers() {
        return buffers;
    }

    @Override
    public void close() {
        try {
            block.close();
        } finally {
            buffers.close();
        }
    }
}
