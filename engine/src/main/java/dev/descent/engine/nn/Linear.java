package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/**
 * Fully connected layer y = x·Wᵀ + b with W stored as {@code [out, in]}: forward is one gemmNT, the input
 * gradient dX = dY·W is gemmNN, the weight gradient dW = dYᵀ·X is gemmTN, db is a column sum of dY.
 */
public final class Linear implements Module {
    private final int outFeatures;
    private int inFeatures;
    private int weightIndex;
    private int biasIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long wOff;  // [out, in]
    private long bOff;  // [out]

    public Linear(int outFeatures) {
        if (outFeatures <= 0) {
            throw new IllegalArgumentException("linear layer needs >= 1 output, was " + outFeatures);
        }
        this.outFeatures = outFeatures;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        inFeatures = Module.size(inputShape);
        return new int[]{outFeatures};
    }

    @Override
    public String spec() {
        return "linear " + outFeatures;
    }

    @Override
    public String kind() {
        return "linear";
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        weightIndex = layout.add("weight", new int[]{outFeatures, inFeatures}, inFeatures, outFeatures, false);
        biasIndex = layout.add("bias", new int[]{outFeatures}, inFeatures, outFeatures, true);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        this.wOff = layout.entry(weightIndex).offset();
        this.bOff = layout.entry(biasIndex).offset();
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        KernelBackend k = ctx.kernels();
        k.gemmNT(out, outOff, in, inOff, params, wOff, batch, outFeatures, inFeatures, false, ctx.threads());
        k.biasAdd(out, outOff, params, bOff, batch, outFeatures);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        KernelBackend k = ctx.kernels();
        // dW[out, in] = dYᵀ[out, batch] · X[batch, in]
        k.gemmTN(grads, wOff, dOut, dOutOff, in, inOff, outFeatures, inFeatures, batch, false, ctx.threads());
        // db[out] = Σ_rows dY
        k.biasGrad(grads, bOff, dOut, dOutOff, batch, outFeatures, false);
        if (needInputGrad) {
            // dX[batch, in] = dY[batch, out] · W[out, in]
            k.gemmNN(dIn, dInOff, dOut, dOutOff, params, wOff, batch, inFeatures, outFeatures, false, ctx.threads());
        }
    }
}
