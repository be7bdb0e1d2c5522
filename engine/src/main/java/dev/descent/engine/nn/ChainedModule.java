package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;

/**
 * A module made of an inner {@link ModuleChain} that does all the work: parameters, buffers, workspace, forward
 * and backward are the chain's. Subclasses say what the chain is ({@link #configure} builds or configures it),
 * how it is written in a spec and what it is called.
 */
abstract class ChainedModule implements CompositeModule {
    /** The inner chain; set in the constructor or, at the latest, in {@link #configure}. */
    protected ModuleChain chain;
    /** This module's position in the model, recorded by {@link #configure}. */
    protected int layerIndex;

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
