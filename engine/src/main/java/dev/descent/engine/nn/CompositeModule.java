package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** A module made of other modules (Residual, TransformerBlock, PerToken): lets tools visit nested layers. */
public interface CompositeModule extends Module {
    /** The directly nested modules, in execution order. */
    List<Module> children();

    /**
     * Declares the nested tensors under the top-level module's index {@code topIndex}, with kinds prefixed by
     * {@code prefix} (e.g. {@code transformer/0.residual/1.attention}), so that the layout groups them with the
     * model-level module that owns them.
     */
    void declareParameters(ParameterLayout.Builder layout, int topIndex, String prefix);

    /**
     * The children's buffers, concatenated in {@link #children()} order. Composites override the three buffer
     * methods with allocation-free versions; these defaults keep a new composite correct (no lost state).
     */
    @Override
    default long bufferFloats() {
        long n = 0;
        for (Module m : children()) {
            n += m.bufferFloats();
        }
        return n;
    }

    @Override
    default void writeBuffers(MemorySegment dst, long off) {
        for (Module m : children()) {
            m.writeBuffers(dst, off);
            off += m.bufferFloats();
        }
    }

    @Override
    default void readBuffers(MemorySegment src, long off) {
        for (Module m : children()) {
            m.readBuffers(src, off);
            off += m.bufferFloats();
        }
    }
}
