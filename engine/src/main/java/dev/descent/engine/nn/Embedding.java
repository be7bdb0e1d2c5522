package dev.descent.engine.nn;

import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * Token plus learned position embedding: samples are {@code [T]} token ids (floats holding integers in
 * [0, vocab)), outputs {@code [T, dim]} = tok[id] + pos[t]. Parameters {@code token [vocab, dim]} and
 * {@code position [T, dim]} (weights, fan-in dim). Ids carry no gradient: with {@code needInputGrad} the input
 * gradient is written as zeros.
 */
public final class Embedding implements Module {
    private final int vocab;
    private final int dim;
    int t;
    private int tokIndex;
    private int posIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long tokOff; // [vocab, dim]
    private long posOff; // [T, dim]

    public Embedding(int vocab, int dim) {
        if (vocab < 1 || dim < 1) {
            throw new IllegalArgumentException("embedding: vocab and dim must be >= 1, was " + vocab + ", " + dim);
        }
        this.vocab = vocab;
        this.dim = dim;
    }

    public int vocab() {
        return vocab;
    }

    public int dim() {
        return dim;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 1) {
            throw new IllegalArgumentException("embedding needs [T] token samples, got rank " + inputShape.length);
        }
        t = inputShape[0];
        return new int[]{t, dim};
    }

    @Override
    public String spec() {
        return "embedding " + vocab + " " + dim;
    }

    @Override
    public String kind() {
        return "embedding";
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        tokIndex = layout.add("token", new int[]{vocab, dim}, dim, dim, false);
        posIndex = layout.add("position", new int[]{t, dim}, dim, dim, false);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        this.tokOff = layout.entry(tokIndex).offset();
        this.posOff = layout.entry(posIndex).offset();
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        LayerKernels.forBackend(ctx.kernels()).embeddingForward(out, outOff, in, inOff, params, tokOff, params, posOff,
                batch, t, dim, vocab);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        LayerKernels.forBackend(ctx.kernels()).embeddingBackward(grads, tokOff, grads, posOff, dOut, dOutOff, in, inOff,
                batch, t, dim, vocab);
        if (needInputGrad) {
            ctx.kernels().scale(dIn, dInOff, 0f, (long) batch * t);
        }
    }
}
