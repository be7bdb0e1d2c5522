package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * 2-D convolution over {@code [C, H, W]} samples with a square kernel, stride and zero padding; weight
 * {@code [outC, C*k*k]}, bias {@code [outC]}.
 *
 * <p>im2col + GEMM, batched: G samples at a time are unfolded side by side into col[C*k*k, G*P] (P = OH*OW),
 * so one GEMM of n = G*P columns does the whole chunk (a per-sample GEMM of n = P is too thin to run the packed
 * kernel near peak). The GEMM writes [outC, G, P]; one row-copy transpose gives [G, outC, P].
 * <ul>
 *   <li>forward: Y' = W · col (gemmNN), Y' += b, Y = swap(Y')</li>
 *   <li>backward: dY' = swap(dY); db = Σ dY'; dWᵀ (+)= col · dY'ᵀ (gemmNT with the big unfold as the row
 *       operand: measured ~2x faster than dW = dY'·colᵀ, whose transposing pack of col dominates), transposed into
 *       the gradient slab after the last chunk; dCol = Wᵀ · dY' (gemmTN) written over col, then col2im per
 *       sample</li>
 * </ul>
 * Workspace is the scratch for one chunk (col and Y') plus dWᵀ, about {@value #CHUNK_FLOATS} floats, not the whole batch:
 * backward recomputes the unfold instead of keeping it, which costs a memory pass and saves C*k*k*P floats per
 * sample of activation memory.
 */
public final class Conv2d implements Module {
    /** Target size of the unfolded chunk in floats (4 MiB). */
    static final int CHUNK_FLOATS = 1 << 20;

    private final int outC;
    private final int k;
    private final int stride;
    private final int pad;
    int c;
    int h;
    int w;
    private int oh;
    private int ow;
    private int ckk;
    private int p;
    private int weightIndex;
    private int biasIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long wOff; // [outC, C*k*k]
    private long bOff; // [outC]

    public Conv2d(int outChannels, int kernel, int stride, int padding) {
        if (outChannels < 1 || kernel < 1 || stride < 1 || padding < 0) {
            throw new IllegalArgumentException("conv2d: bad geometry out=" + outChannels + " kernel=" + kernel
                    + " stride=" + stride + " padding=" + padding);
        }
        this.outC = outChannels;
        this.k = kernel;
        this.stride = stride;
        this.pad = padding;
    }

    /** Stride 1, "same" padding for odd kernels. */
    public Conv2d(int outChannels, int kernel) {
        this(outChannels, kernel, 1, kernel / 2);
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException("conv2d needs [C, H, W] samples, got rank " + inputShape.length);
        }
        c = inputShape[0];
        h = inputShape[1];
        w = inputShape[2];
        oh = (h + 2 * pad - k) / stride + 1;
        ow = (w + 2 * pad - k) / stride + 1;
        if (oh < 1 || ow < 1 || h + 2 * pad < k || w + 2 * pad < k) {
            throw new IllegalArgumentException("conv2d: kernel " + k + " with padding " + pad + " does not fit input ["
                    + c + ", " + h + ", " + w + "]");
        }
        ckk = Math.multiplyExact(c, k * k);
        p = oh * ow;
        return new int[]{outC, oh, ow};
    }

    @Override
    public String spec() {
        return "conv2d " + outC + " " + k + " " + stride + " " + pad;
    }

    @Override
    public String kind() {
        return "conv2d";
    }

    public int outChannels() {
        return outC;
    }

    public int kernel() {
        return k;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return pad;
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        weightIndex = layout.add("weight", new int[]{outC, c, k, k}, ckk, outC * k * k, false);
        biasIndex = layout.add("bias", new int[]{outC}, ckk, outC * k * k, true);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        this.wOff = layout.entry(weightIndex).offset();
        this.bOff = layout.entry(biasIndex).offset();
    }

    /** Samples per chunk at this batch size. */
    private int chunk(int batch) {
        return Math.max(1, Math.min(batch, CHUNK_FLOATS / Math.max(1, ckk * p)));
    }

    @Override
    public long workspaceFloats(int batch) {
        long g = chunk(batch);
        long col = align((long) ckk * g * p);
        return col + align((long) outC * g * p) + (long) ckk * outC;
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        KernelBackend kb = ctx.kernels();
        LayerKernels lk = LayerKernels.forBackend(kb);
        int gMax = chunk(batch);
        long colOff = wsOff;                                // [ckk, g*p]
        long tmpOff = wsOff + align((long) ckk * gMax * p); // [outC, g, p]
        int inSize = c * h * w;
        int outSize = outC * p;
        for (int g0 = 0; g0 < batch; g0 += gMax) {
            int gn = Math.min(gMax, batch - g0);
            int cols = gn * p;
            for (int g = 0; g < gn; g++) {
                lk.im2col(ws, colOff + (long) g * p, cols, in, inOff + (long) (g0 + g) * inSize, c, h, w, k, k,
                        stride, pad, oh, ow);
            }
            kb.gemmNN(ws, tmpOff, params, wOff, ws, colOff, outC, cols, ckk, false, ctx.threads());
            lk.channelBiasAdd(ws, tmpOff, params, bOff, outC, cols);
            lk.swapLeadingAxes(out, outOff + (long) g0 * outSize, ws, tmpOff, outC, gn, p);
        }
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        KernelBackend kb = ctx.kernels();
        LayerKernels lk = LayerKernels.forBackend(kb);
        int gMax = chunk(batch);
        long colOff = wsOff;
        long tmpOff = wsOff + align((long) ckk * gMax * p);
        long dwtOff = tmpOff + align((long) outC * gMax * p); // dWᵀ [ckk, outC]
        int inSize = c * h * w;
        int outSize = outC * p;
        for (int g0 = 0; g0 < batch; g0 += gMax) {
            int gn = Math.min(gMax, batch - g0);
            int cols = gn * p;
            boolean acc = g0 > 0;
            lk.swapLeadingAxes(ws, tmpOff, dOut, dOutOff + (long) g0 * outSize, gn, outC, p); // dY' [outC, gn, p]
            lk.channelSum(grads, bOff, ws, tmpOff, outC, cols, acc);
            for (int g = 0; g < gn; g++) {
                lk.im2col(ws, colOff + (long) g * p, cols, in, inOff + (long) (g0 + g) * inSize, c, h, w, k, k,
                        stride, pad, oh, ow);
            }
            // dWᵀ[ckk, outC] (+)= col[ckk, cols] · dY'[outC, cols]ᵀ
            kb.gemmNT(ws, dwtOff, ws, colOff, ws, tmpOff, ckk, outC, cols, acc, ctx.threads());
            if (needInputGrad) {
                // dCol[ckk, cols] = W[outC, ckk]ᵀ · dY'[outC, cols]
                kb.gemmTN(ws, colOff, params, wOff, ws, tmpOff, ckk, cols, outC, false, ctx.threads());
                for (int g = 0; g < gn; g++) {
                    lk.col2im(dIn, dInOff + (long) (g0 + g) * inSize, ws, colOff + (long) g * p, cols, c, h, w, k, k,
                            stride, pad, oh, ow);
                }
            }
        }
        lk.swapLeadingAxes(grads, wOff, ws, dwtOff, ckk, outC, 1); // dW[outC, ckk] = (dWᵀ)ᵀ
    }
}
