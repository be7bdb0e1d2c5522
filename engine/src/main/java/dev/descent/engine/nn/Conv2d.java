package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * 2-D convolution over {@code [C, H, W]} samples with a square kernel, stride and zero padding; weight
 * {@code [outC, C*k*k]}, bias {@code [outC]}.
 *
 * <p><b>Stride 1 (padding at most k-1): direct convolution over wide planes</b> ({@link LayerKernels#convWide}).
 * Each sample is zero-padded into planes of (H+2p) x (W+2p); an output plane of the same width W+2p ("wide": its
 * last k-1 columns are garbage, dropped when compacting) then reads, for kernel offset (ci, ky, kx), one contiguous
 * run of the padded plane shifted by ky*(W+2p) + kx: no unfold, no packing of a [C*k*k, P] matrix.
 * <ul>
 *   <li>forward: Y = conv(pad(X), W) + b ({@link LayerKernels#convPadded}: padded and compacted per sample inside
 *       the kernels)</li>
 *   <li>backward: db = Σ dY; dW = Σ pad(X) ⋆ dY ({@link LayerKernels#convWideWeightGrad}); dX = conv(pad(dY,
 *       k-1-p), W flipped in both spatial axes with its channel axes swapped): the forward kernel again</li>
 * </ul>
 * Measured against the im2col path on the default CNN's layers (bench/jmh ConvBenchmark, docs/performance.md
 * "Convolutions"). Workspace: the padded inputs of one chunk of samples (a chunk is sized by
 * {@value #DIRECT_CHUNK_FLOATS_DOC} floats, see {@code chunkSampleFloats}) plus one re-laid kernel.
 *
 * <p><b>Other strides: im2col + GEMM</b>, batched: G samples at a time are unfolded side by side into
 * col[C*k*k, G*P] (P = OH*OW), so one GEMM of n = G*P columns does the whole chunk. The GEMM writes [outC, G, P];
 * one row-copy transpose gives [G, outC, P].
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
    /** Direct (wide-plane) geometry, set by {@link #configure} when stride is 1 and pad <= k-1. */
    private boolean direct;
    private int hp;     // padded input plane: hp x wp
    private int wp;
    private int pd;     // padding of dY for the input gradient: k-1-pad
    private int hp2;    // padded dY plane: hp2 x wp2
    private int wp2;
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
        direct = stride == 1 && pad <= k - 1;
        hp = h + 2 * pad;
        wp = w + 2 * pad;
        pd = k - 1 - pad;
        hp2 = oh + 2 * pd;
        wp2 = ow + 2 * pd;
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
        if (direct) {
            return directWorkspace(batch);
        }
        long g = chunk(batch);
        long col = align((long) ckk * g * p);
        return col + align((long) outC * g * p) + (long) ckk * outC;
    }

    // ---------------------------------------------------------------- direct path (stride 1)
    //
    // Per sample: the input zero-padded into planes of hp x wp floats, the output computed over "wide" planes of the
    // same width (qp positions per channel, the columns ox >= ow garbage), then compacted: inside the kernels
    // (LayerKernels.convPadded). Backward: dW from the padded inputs (xp, in the workspace) and dY, over a chunk of
    // samples at once; dIn as the forward convolution of dY padded by k-1-pad with the kernel flipped and its channel
    // axes swapped. See LayerKernels.convWide.

    /** Wide planes may exceed oh*wp by less than this (the SIMD kernels' tiles round up by at most 32). */
    static final int MAX_TILE = 64;

    /** Default of {@link #DIRECT_CHUNK_FLOATS}. */
    static final long DIRECT_CHUNK_FLOATS_DOC = 1 << 17;

    /**
     * Target floats of one backward chunk of the direct path (see {@code chunkSampleFloats}); {@code -Ddescent.conv.chunkFloats}
     * overrides it for experiments.
     */
    static final long DIRECT_CHUNK_FLOATS = Long.getLong("descent.conv.chunkFloats", DIRECT_CHUNK_FLOATS_DOC);

    /*
     * The workspace holds a chunk of padded input samples (the weight gradient reads them) and the re-laid kernel.
     * Strides are sized for any kernels whose wide reads pass a plane by less than MAX_TILE, so the workspace, the
     * chunk and every offset are the same whichever kernels run the layer. The forward and the input gradient pad
     * and compact per sample inside the kernels (LayerKernels.convPadded): no chunk of their own.
     */

    /** Floats per padded input sample, with the tail its last plane's wide reads run into. */
    private long xStride() {
        return align((long) c * hp * wp + MAX_TILE - 1 + k - 1);
    }

    /**
     * Floats per sample that size a backward chunk. The chunk once also held the padded dY and the wide input
     * gradient of each sample; its sample count fixes the order in which the weight gradient sums the samples, so it
     * is still computed from all three (the results keep their bits), while only the padded inputs are laid out.
     */
    private long chunkSampleFloats() {
        long dyp = align((long) outC * hp2 * wp2 + MAX_TILE - 1 + k - 1);
        long dinw = align((long) c * (h * wp2 + MAX_TILE - 1));
        return xStride() + dyp + dinw;
    }

    /** Samples per backward chunk. */
    private int directChunk(int batch) {
        return (int) Math.max(1, Math.min(batch, DIRECT_CHUNK_FLOATS / chunkSampleFloats()));
    }

    /** The padded inputs of a backward chunk. */
    private long chunkFloats(int batch) {
        return directChunk(batch) * xStride();
    }

    private long directWorkspace(int batch) {
        return chunkFloats(batch) + align((long) ckk * outC);
    }

    private void forwardDirect(ExecutionContext ctx, LayerKernels lk, MemorySegment out, long outOff,
                               MemorySegment ws, long wsOff, MemorySegment in, long inOff, int batch) {
        long wtOff = wsOff + chunkFloats(batch);
        lk.swapLeadingAxes(ws, wtOff, params, wOff, outC, ckk, 1); // wT[ckk, outC]
        lk.convPadded(out, outOff, (long) outC * p, in, inOff, (long) c * h * w, batch, c, h, w, pad, ws, wtOff, params,
                bOff, outC, k, ctx.threads());
    }

    private void backwardDirect(ExecutionContext ctx, LayerKernels lk, MemorySegment dIn, long dInOff,
                                MemorySegment ws, long wsOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                                long inOff, int batch, boolean needInputGrad) {
        int plane = hp * wp;
        long xs = xStride();
        long xpOff = wsOff;                // [g][c, hp, wp] + tail
        long wfOff = wsOff + chunkFloats(batch);
        int inSize = c * h * w;
        int outSize = outC * p;
        if (needInputGrad) {
            flipKernels(ws, wfOff);
        }
        int gMax = directChunk(batch);
        for (int g0 = 0; g0 < batch; g0 += gMax) {
            int gn = Math.min(gMax, batch - g0);
            for (int g = 0; g < gn; g++) {
                long dy = dOutOff + (long) (g0 + g) * outSize;
                lk.channelSum(grads, bOff, dOut, dy, outC, p, g0 + g > 0);
                lk.padPlanes(ws, xpOff + g * xs, in, inOff + (long) (g0 + g) * inSize, c, h, w, pad, pad, hp, wp,
                        plane, xs - (long) c * plane);
            }
            lk.convWideWeightGrad(grads, wOff, dOut, dOutOff + (long) g0 * outSize, outSize, oh, ow, ws, xpOff, xs, gn,
                    c, plane, wp, outC, k, g0 > 0, ctx.threads());
            if (needInputGrad) {
                lk.convPadded(dIn, dInOff + (long) g0 * inSize, inSize, dOut, dOutOff + (long) g0 * outSize, outSize, gn,
                        outC, oh, ow, pd, ws, wfOff, null, 0, c, k, ctx.threads());
            }
        }
    }

    /**
     * The input gradient's kernel in the layout convWide reads (wT[(co*k + ky)*k + kx][ci]): the forward kernel
     * flipped in both spatial axes, its channel axes swapped, W[co, ci, k-1-ky, k-1-kx].
     */
    private void flipKernels(MemorySegment ws, long dst) {
        int kk = k * k;
        for (int co = 0; co < outC; co++) {
            for (int ci = 0; ci < c; ci++) {
                long src = wOff + (long) co * ckk + (long) ci * kk;
                for (int r = 0; r < kk; r++) {
                    // (ky, kx) = (r / k, r % k) reads the weight at (k-1-ky, k-1-kx), i.e. at kk-1-r
                    float v = params.getAtIndex(ValueLayout.JAVA_FLOAT, src + kk - 1 - r);
                    ws.setAtIndex(ValueLayout.JAVA_FLOAT, dst + ((long) co * kk + r) * c + ci, v);
                }
            }
        }
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        KernelBackend kb = ctx.kernels();
        LayerKernels lk = LayerKernels.forBackend(kb);
        if (direct) {
            forwardDirect(ctx, lk, out, outOff, ws, wsOff, in, inOff, batch);
            return;
        }
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
        if (direct) {
            backwardDirect(ctx, lk, dIn, dInOff, ws, wsOff, dOut, dOutOff, in, inOff, batch, needInputGrad);
            return;
        }
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
