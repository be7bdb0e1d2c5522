package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * Multi-head causal self-attention over {@code [T, C]} samples (GPT-2 style, as in llm.c): qkv = x·Wqkvᵀ + b
 * ([T, 3C]), per head softmax(q·kᵀ/sqrt(C/H)) with position i attending to j {@literal <=} i, y = att·v, out = y·Wpᵀ + bp.
 * Parameters {@code qkv.weight [3C, C]}, {@code qkv.bias [3C]}, {@code proj.weight [C, C]}, {@code proj.bias [C]}.
 *
 * <p>Workspace per batch B: qkv [B, T, 3C], y [B, T, C] (reused for dy in backward), dqkv [B, T, 3C],
 * att [B, H, T, T], and T floats of scratch.
 */
public final class CausalSelfAttention implements Module {
    private final int heads;
    int t;
    int c;
    private int wqIndex;
    private int bqIndex;
    private int wpIndex;
    private int bpIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long wq; // [3C, C]
    private long bq; // [3C]
    private long wp; // [C, C]
    private long bp; // [C]

    public CausalSelfAttention(int heads) {
        if (heads < 1) {
            throw new IllegalArgumentException("attention needs >= 1 head, was " + heads);
        }
        this.heads = heads;
    }

    public int heads() {
        return heads;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 2 || inputShape[1] % heads != 0) {
            throw new IllegalArgumentException("attention needs [T, C] samples with C divisible by " + heads
                    + " heads, got " + java.util.Arrays.toString(inputShape));
        }
        t = inputShape[0];
        c = inputShape[1];
        return inputShape.clone();
    }

    @Override
    public String spec() {
        return "attention " + heads;
    }

    @Override
    public String kind() {
        return "attention";
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        wqIndex = layout.add("qkv.weight", new int[]{3 * c, c}, c, 3 * c, false);
        bqIndex = layout.add("qkv.bias", new int[]{3 * c}, c, 3 * c, true);
        wpIndex = layout.add("proj.weight", new int[]{c, c}, c, c, false);
        bpIndex = layout.add("proj.bias", new int[]{c}, c, c, true);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        wq = layout.entry(wqIndex).offset();
        bq = layout.entry(bqIndex).offset();
        wp = layout.entry(wpIndex).offset();
        bp = layout.entry(bpIndex).offset();
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    @Override
    public long workspaceFloats(int batch) {
        long rows = (long) batch * t;
        return 2 * align(rows * 3 * c) + align(rows * c) + align((long) batch * heads * t * t) + align(t);
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        KernelBackend k = ctx.kernels();
        int rows = batch * t;
        long qkv = wsOff;
        long y = qkv + 2 * align((long) rows * 3 * c);
        long att = y + align((long) rows * c);
        k.gemmNT(ws, qkv, in, inOff, params, wq, rows, 3 * c, c, false, ctx.threads());
        k.biasAdd(ws, qkv, params, bq, rows, 3 * c);
        LayerKernels.forBackend(k).attentionForward(ws, y, ws, att, ws, qkv, batch, t, c, heads);
        k.gemmNT(out, outOff, ws, y, params, wp, rows, c, c, false, ctx.threads());
        k.biasAdd(out, outOff, params, bp, rows, c);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        KernelBackend k = ctx.kernels();
        int rows = batch * t;
        long qkv = wsOff;
        long dqkv = qkv + align((long) rows * 3 * c);
        long y = qkv + 2 * align((long) rows * 3 * c);
        long att = y + align((long) rows * c);
        long scratch = att + align((long) batch * heads * t * t);
        // projection: dWp = dOutᵀ·y, dbp = Σ dOut, then dy = dOut·Wp written over y (y is no longer needed)
        k.gemmTN(grads, wp, dOut, dOutOff, ws, y, c, c, rows, false, ctx.threads());
        k.biasGrad(grads, bp, dOut, dOutOff, rows, c, false);
        k.gemmNN(ws, y, dOut, dOutOff, params, wp, rows, c, c, false, ctx.threads());
        LayerKernels.forBackend(k).attentionBackward(ws, dqkv, ws, scratch, ws, y, ws, qkv, ws, att, batch, t, c,
                heads);
        k.gemmTN(grads, wq, ws, dqkv, in, inOff, 3 * c, c, rows, false, ctx.threads());
        k.biasGrad(grads, bq, ws, dqkv, rows, 3 * c, false);
        if (needInputGrad) {
            k.gemmNN(dIn, dInOff, ws, dqkv, params, wq, rows, c, 3 * c, false, ctx.threads());
        }
    }
}
