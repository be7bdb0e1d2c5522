package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/**
 * Fully connected layer y = x·Wᵀ + b with W stored as {@code [out, in]}: forward is one gemmNT, the input
 * gradient dX = dY·W is gemmNN, the weight gradient dW = dYᵀ·X is gemmTN, db is a column sum of dY.
 * {@code new Linear(out, false)} (spec {@code linear OUT nobias}) has no bias: y = x·Wᵀ, e.g. before a BatchNorm,
 * which subtracts any bias again.
 */
public final class Linear implements Module {
    private final int outFeatures;
    private final boolean hasBias;
    private int inFeatures;
    private int weightIndex;
    private int biasIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long wOff;  // [out, in]
    private long bOff;  // [out]

    public Linear(int outFeatures) {
        this(outFeatures, true);
    }

    /** @param bias false: no bias tensor (y = x·Wᵀ) */
    public Linear(int outFeatures, boolean bias) {
        if (outFeatures <= 0) {
            throw new IllegalArgumentException("linear layer needs >= 1 output, was " + outFeatures);
        }
        this.outFeatures = outFeatures;
        this.hasBias = bias;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        inFeatures = Module.size(inputShape);
        return new int[]{outFeatures};
    }

    @Override
    public String spec() {
        return "linear " + outFeatures + (hasBias ? "" : " nobias");
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

    public boolean hasBias() {
        return hasBias;
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        weightIndex = layout.add("weight", new int[]{outFeatures, inFeatures}, inFeatures, outFeatures, false);
        biasIndex = hasBias ? layout.add("bias", new int[]{outFeatures}, inFeatures, outFeatures, true) : -1;
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        this.wOff = layout.entry(weightIndex).offset();
        this.bOff = hasBias ? layout.entry(biasIndex).offset() : -1;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        KernelBackend k = ctx.kernels();
        k.gemmNT(out, outOff, in, inOff, params, wOff, batch, outFeatures, inFeatures, false, ctx.threads());
        if (hasBias) {
            k.biasAdd(out, outOff, params, bOff, batch, outFeatures);
        }
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        KernelBackend k = ctx.kernels();
        // dW[out, in] = dYᵀ[out, batch] · X[batch, in]
        k.gemmTN(grads, wOff, dOut, dOutOff, in, inOff, outFeatures, inFeatures, batch, false, ctx.threads());
        // db[out] = Σ_rows dY
        if (hasBias) {
            k.biasGrad(grads, bOff, dOut, dOutOff, batch, outFeatures, false);
        }
        if (needInputGrad) {
            // dX[batch, in] = dY[batch, out] · W[out, in]
            k.gemmNN(dIn, dInOff, dOut, dOutOff, params, wOff, batch, inFeatures, outFeatures, false, ctx.threads());
        }
    }
}
