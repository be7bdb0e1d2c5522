package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;

/**
 * One layer of a network: forward and backward side by side.
 *
 * <p>Tensors are dense, row-major, batch dimension first: an input is {@code [batch, inputSize]} where
 * {@code inputSize} is the product of the per-sample input shape (e.g. {@code [1, 28, 28]}). Arguments follow
 * the kernel convention: outputs, then saved values, then inputs, then sizes; every tensor is a pair
 * {@code (segment, offset in floats)}.
 *
 * <p>Lifecycle: {@link #configure} once (layer index and per-sample input shape -> output shape), then
 * {@link #declareParameters} (the model lays out one parameter slab and one gradient slab for all layers),
 * then {@link #bindParameters}. Besides parameters a module may hold non-trainable buffers
 * ({@link #bufferFloats}); composites report and copy their children's. The module owns no other memory: activations belong to the backprop executor, which
 * also gives each module a private <em>workspace</em> of {@link #workspaceFloats} floats for values its
 * forward saves for its backward (e.g. BatchNorm's mean and 1/std). A workspace is written by forward and read
 * by the backward that follows it; the executor guarantees that {@code backward} sees the workspace of a
 * forward run on the very same input.
 *
 * <p>Contract for backprop strategies: forward must be a pure function of (input, parameters, context
 * step/seed/mode), so that a recompute ({@link ExecutionContext#isRecompute()}) reproduces its output bit for
 * bit; forward must not update running state during a recompute. {@code backward} <em>overwrites</em> this
 * module's parameter gradients (each module's backward runs exactly once per step), and never allocates.
 */
public interface Module {

    /**
     * Called once when the model is built.
     *
     * @param layerIndex this module's position in the model (0 = first)
     * @param inputShape per-sample input shape
     * @return per-sample output shape
     */
    int[] configure(int layerIndex, int[] inputShape);

    /** One-line spec, e.g. {@code linear 256}; parsed back by {@link ModuleSpecs#parse(String)}. */
    String spec();

    /** Short layer name for reports, e.g. {@code linear}. */
    String kind();

    /** Declares this module's parameter tensors. Default: none. */
    default void declareParameters(ParameterLayout.Builder layout) {
    }

    /** Receives the slabs and the final layout (offsets of the tensors it declared). Default: nothing. */
    default void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
    }

    /**
     * Floats of non-trainable state ("buffers", e.g. BatchNorm running statistics) this module holds, nested
     * modules' included; fixed once {@link #configure} has run. Buffers are not parameters: no optimizer, weight
     * decay or gradient ever touches them, but they are part of the model's state, so model files, checkpoints,
     * snapshots and {@link Model#copyParametersFrom} carry them. Default: 0.
     */
    default long bufferFloats() {
        return 0;
    }

    /**
     * Writes this module's buffers as {@link #bufferFloats()} native-order float32 values to
     * {@code dst[off, off + bufferFloats())} ({@code off} in floats, any alignment). Never allocates.
     * Default: nothing.
     */
    default void writeBuffers(MemorySegment dst, long off) {
    }

    /** Reads this module's buffers back from the layout {@link #writeBuffers} writes. Never allocates. Default: nothing. */
    default void readBuffers(MemorySegment src, long off) {
    }

    /** Floats of workspace this module needs for a batch of {@code batch} samples. Default: 0. */
    default long workspaceFloats(int batch) {
        return 0;
    }

    /** out[batch, outSize] = f(in[batch, inSize]); may write the workspace. */
    void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                 MemorySegment in, long inOff, int batch);

    /**
     * Backward: given dOut[batch, outSize] and the forward input, overwrites this module's parameter gradients
     * and, when {@code needInputGrad}, writes dIn[batch, inSize]. {@code dIn} never aliases {@code dOut}.
     */
    void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                  MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                  boolean needInputGrad);

    /** Product of a shape's dimensions. */
    static int size(int[] shape) {
        int s = 1;
        for (int d : shape) {
            s = Math.multiplyExact(s, d);
        }
        return s;
    }
}
