package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Applies a row-wise module to each position of a {@code [T, C]} sample independently: the inner module sees
 * samples of shape {@code [C]} and a batch of {@code batch * T} rows. {@code new PerToken(new Linear(512))}
 * is a position-wise dense layer {@code [T, C] -> [T, 512]}. Only for modules whose forward treats rows
 * independently (Linear, activations, LayerNorm) — not BatchNorm or Dropout keyed by sample.
 */
public final class PerToken implements CompositeModule {
    private final Module inner;
    private final ModuleChain chain;
    int t;
    private int layerIndex;

    public PerToken(Module inner) {
        this.inner = inner;
        this.chain = new ModuleChain(List.of(inner));
    }

    @Override
    public List<Module> children() {
        return List.of(inner);
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 2) {
            throw new IllegalArgumentException("pertoken needs [T, C] samples, got rank " + inputShape.length);
        }
        this.layerIndex = layerIndex;
        t = inputShape[0];
        int[] o = chain.configure(layerIndex, new int[]{inputShape[1]}, t);
        return new int[]{t, Module.size(o)};
    }

    @Override
    public String spec() {
        return "pertoken " + chain.spec();
    }

    @Override
    public String kind() {
        return "pertoken";
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        declareParameters(layout, layerIndex, kind());
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout, int topIndex, String prefix) {
        chain.declareParameters(layout, topIndex, prefix);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        chain.bindParameters(layout, params, grads);
    }

    @Override
    public long bufferFloats() {
        return chain.bufferFloats();
    }

    @Override
    public void writeBuffers(MemorySegment dst, long off) {
        chain.writeBuffers(dst, off);
    }

    @Override
    public void readBuffers(MemorySegment src, long off) {
        chain.readBuffers(src, off);
    }

    @Override
    public long workspaceFloats(int batch) {
        return chain.workspaceFloats(batch);
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        chain.forward(ctx, out, outOff, ws, wsOff, in, inOff, batch);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        chain.backward(ctx, dIn, dInOff, ws, wsOff, dOut, dOutOff, in, inOff, batch, needInputGrad);
    }
}
