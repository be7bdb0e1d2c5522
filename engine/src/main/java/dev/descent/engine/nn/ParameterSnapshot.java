package dev.descent.engine.nn;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;

/** An owned off-heap copy of a model's parameter slab (see {@link Model#snapshot()}). Close it when done. */
public final class ParameterSnapshot implements AutoCloseable {
    private final String spec;
    private final OffHeapBlock block;

    ParameterSnapshot(String spec, long bytes) {
        this.spec = spec;
        this.block = OffHeapBlock.allocate(bytes, Purpose.PARAMETERS);
    }

    /** Spec of the model the snapshot was taken from. */
    public String spec() {
        return spec;
    }

    public OffHeapBlock block() {
        return block;
    }

    @Override
    public void close() {
        block.close();
    }
}
