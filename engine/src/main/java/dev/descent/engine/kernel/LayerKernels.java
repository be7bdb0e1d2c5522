package dev.descent.engine.kernel;

import dev.descent.engine.kernel.scalar.ScalarLayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * Kernels of the layers beyond the MLP: convolution (im2col/col2im around the GEMM of {@link KernelBackend}),
 * pooling, batch and layer normalization, causal self-attention, embedding. Same conventions as
 * {@link KernelBackend}: outputs, then saved values, then inputs, then weights, then sizes; every tensor is a
 * {@code (segment, offset in floats)} pair; dense row-major; nothing allocates.
 *
 * <p>BatchNorm's scale is stored as γ itself ({@code gamma}), so weight decay pulls it toward 0 as in every other
 * framework. LayerNorm's is still stored as γ−1 ({@code gammaM1}): its effective scale is {@code 1 + gammaM1[c]}.
 *
 * <p>Two implementations: {@link ScalarLayerKernels} (reference, always present) and {@code SimdLayerKernels}
 * (Vector API), which vectorizes the arithmetic-heavy loops and inherits the pure data movement (im2col,
 * pooling, transposes), where a plain loop or {@link MemorySegment#copy} is already as fast.
 */
public interface LayerKernels {

    /** {@code scalar} or {@code simd}. */
    String name();

    // ---------------------------------------------------------------- convolution helpers

    /**
     * Unfolds one sample: col[(ci*kh + ky)*kw + kx, oy*ow + ox] = in[ci, oy*stride-pad+ky, ox*stride-pad+kx]
     * (0 outside the image). {@code col} rows are {@code colStride} floats apart ({@code >= oh*ow}), so several
     * samples can sit side by side in one [c*kh*kw, G*oh*ow] matrix.
     */
    void im2col(MemorySegment col, long colOff, int colStride, MemorySegment in, long inOff,
                int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow);

    /**
     * Adjoint of {@link #im2col}: dIn[c, h, w] = Σ of the col entries that read each pixel (overwrites dIn). May set
     * the col entries that read no pixel (the zero padding) to zero: they are scratch to every caller.
     */
    void col2im(MemorySegment dIn, long dInOff, MemorySegment col, long colOff, int colStride,
                int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow);

    // ---------------------------------------------------------------- direct stride-1 convolution, wide planes
    //
    // A zero-padded input plane of width wp, read at q + ky*wp + kx, holds the receptive field of output position
    // q = oy*wp + ox of an output plane of the same width ("wide": its columns ox >= ow are garbage that
    // convPadded drops). So a stride-1 convolution is, per kernel offset, one shifted contiguous run: no unfold.

    /**
     * Floats of one wide output plane that {@link #convWide} writes for {@code oh} output rows of width {@code wp}
     * and a k x k kernel: at least oh*wp (the kernels round it up to their register tiles).
     */
    int convWidePlane(int oh, int wp, int k);

    /**
     * dst[ci*dstPlane + y*wp + x] = src[ci, y - top, x - left] for y < hp, x < wp where that lies inside the [c, h, w]
     * source, else 0; the rest of each plane ({@code dstPlane >= hp*wp}) and {@code tail} floats after the last one
     * are zeroed. Needs top + h <= hp and left + w <= wp.
     */
    void padPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w, int top,
                   int left, int hp, int wp, int dstPlane, long tail);

    /**
     * For each of {@code n} samples s: out[s*outStride + co*qp + oy*wp + ox] = bias[co] + Σ_{ci,ky,kx}
     * wT[((ci*k + ky)*k + kx)*cout + co] * in[s*inStride + ci*plane + (oy + ky)*wp + ox + kx] for oy < oh and
     * ox < wp-k+1 ({@code bias} null: 0); the plane's other floats up to {@link #convWidePlane} are garbage. Planes are
     * {@code qp >= convWidePlane(oh, wp, k)} floats apart. Each sample of {@code in} must be readable (and finite) up
     * to {@code (cin-1)*plane + convWidePlane(oh, wp, k) + (k-1)*(wp+1)} floats. Samples may be split over
     * {@code threads}.
     */
    void convWide(MemorySegment out, long outOff, long outStride, int oh, int qp, MemorySegment in, long inOff,
                  long inStride, int n, int cin, int plane, int wp, MemorySegment wT, long wTOff, MemorySegment bias,
                  long biasOff, int cout, int k, int threads);

    /**
     * A stride-1 convolution from compact samples to compact outputs: for each of {@code n} samples s,
     * out[s*outStride + (co*oh + oy)*ow + ox] = bias[co] + Σ_{ci,ky,kx} wT[((ci*k + ky)*k + kx)*cout + co] *
     * x[ci, oy + ky - pad, ox + kx - pad] ({@code bias} null: 0), where x is the [cin, h, w] sample at
     * {@code in[inOff + s*inStride]}, zero outside it, and oh = h + 2*pad - k + 1, ow = w + 2*pad - k + 1. The same sums
     * in the same order as {@link #padPlanes} (top = left = pad) and {@link #convWide} (its valid columns), without
     * the padded and wide copies in memory (the SIMD kernels keep them per sample in buffers of their own).
     */
    void convPadded(MemorySegment out, long outOff, long outStride, MemorySegment in, long inOff, long inStride, int n,
                    int cin, int h, int w, int pad, MemorySegment wT, long wTOff, MemorySegment bias, long biasOff,
                    int cout, int k, int threads);

    /**
     * dw[co*cin*k*k + (ci*k + ky)*k + kx] (+)= Σ_{s<n} Σ_{oy<oh, ox<ow} dy[s*dyStride + (co*oh + oy)*ow + ox] *
     * in[s*inStride + ci*plane + oy*wp + ox + ky*wp + kx]: the weight gradient of {@link #convWide} over n samples
     * of a compact dY (the wide planes' garbage columns take no gradient). Each sample of {@code in} must be readable
     * (and finite) up to {@code (cin-1)*plane + oh*wp + (k-1)*(wp+1)} floats.
     */
    void convWideWeightGrad(MemorySegment dw, long dwOff, MemorySegment dy, long dyOff, long dyStride, int oh, int ow,
                            MemorySegment in, long inOff, long inStride, int n, int cin, int plane, int wp, int cout,
                            int k, boolean accumulate, int threads);

    /** dst[b, a, p] = src[a, b, p]: swaps the two leading axes of an [a, b, p] tensor. */
    void swapLeadingAxes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int a, int b, int p);

    /** out[c, p] += bias[c] (per-channel bias over p spatial positions). */
    void channelBiasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int channels, int p);

    /** dBias[c] (+)= Σ_p dOut[c, p]. */
    void channelSum(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int channels, int p,
                    boolean accumulate);

    // ---------------------------------------------------------------- pooling over planes [planes, h, w]

    /** out[pl, oy, ox] = max over the k x k window (padding never wins). */
    void maxPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h, int w,
                        int k, int stride, int pad, int oh, int ow);

    /** dIn = 0, then each dOut goes to the first maximum of its window (found again from {@code in}). */
    void maxPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                         long inOff, int planes, int h, int w, int k, int stride, int pad, int oh, int ow);

    /** out = mean over the k x k window, padding counted as zeros (divisor k*k). */
    void avgPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h, int w,
                        int k, int stride, int pad, int oh, int ow);

    /** Adjoint of {@link #avgPoolForward} (overwrites dIn). */
    void avgPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, int planes, int h, int w,
                         int k, int stride, int pad, int oh, int ow);

    /** out[pl] = mean of in[pl, 0..size). */
    void planeMeanForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int size);

    /** dIn[pl, i] = dOut[pl] / size. */
    void planeMeanBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, int planes, int size);

    // ---------------------------------------------------------------- batch norm over x[n, c, s] per channel c

    /** mean[c], var[c] (biased, over n*s values) accumulated in double. */
    void batchNormStats(MemorySegment mean, long meanOff, MemorySegment var, long varOff, MemorySegment in,
                        long inOff, int n, int c, int s);

    /** out = (x - mean[c]) * rstd[c] * gamma[c] + beta[c]. */
    void batchNormForward(MemorySegment out, long outOff, MemorySegment in, long inOff, MemorySegment mean,
                          long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gamma, long gOff,
                          MemorySegment beta, long betaOff, int n, int c, int s);

    /**
     * dGamma[c] = Σ dy·x̂, dBeta[c] = Σ dy (overwritten). When {@code dIn} is non-null: with
     * {@code batchStats} (the statistics came from this batch) dx = γ·rstd·(dy − mean(dy) − x̂·mean(dy·x̂)),
     * else (fixed statistics) dx = γ·rstd·dy.
     */
    void batchNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                           MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                           MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                           long rstdOff, MemorySegment gamma, long gOff, int n, int c, int s, boolean batchStats);

    // ---------------------------------------------------------------- layer norm over rows of [rows, c]

    /** mean[r], rstd[r] saved; out = x̂ * (1 + gammaM1) + beta. */
    void layerNormForward(MemorySegment out, long outOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                          long rstdOff, MemorySegment in, long inOff, MemorySegment gammaM1, long gOff,
                          MemorySegment beta, long betaOff, int rows, int c, float eps);

    /** dGamma, dBeta overwritten; dIn (if non-null) overwritten. */
    void layerNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                           MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                           long inOff, MemorySegment mean, long meanOff, MemorySegment rstd, long rstdOff,
                           MemorySegment gammaM1, long gOff, int rows, int c);

    // ---------------------------------------------------------------- causal multi-head self-attention

    /**
     * qkv[b, t, 3c] holds q | k | v per token; heads split c into nh slices of c/nh. Saves att[b, nh, t, t]
     * (softmax of q·k/sqrt(hs) over positions {@literal <=} t, 0 above the diagonal) and writes out[b, t, c] = att·v.
     */
    void attentionForward(MemorySegment out, long outOff, MemorySegment att, long attOff, MemorySegment qkv,
                          long qkvOff, int b, int t, int c, int nh);

    /** dqkv[b, t, 3c] (overwritten) from dOut[b, t, c]; {@code scratch} holds t floats. */
    void attentionBackward(MemorySegment dqkv, long dqkvOff, MemorySegment scratch, long scratchOff,
                           MemorySegment dOut, long dOutOff, MemorySegment qkv, long qkvOff, MemorySegment att,
                           long attOff, int b, int t, int c, int nh);

    // ---------------------------------------------------------------- embedding

    /**
     * out[b, t, :] = tok[ids[b, t], :] + pos[t, :]. Ids are floats holding integers in [0, vocab).
     *
     * @throws IllegalArgumentException naming the value and position of an id outside [0, vocab)
     */
    void embeddingForward(MemorySegment out, long outOff, MemorySegment ids, long idsOff, MemorySegment tok,
                          long tokOff, MemorySegment pos, long posOff, int b, int t, int c, int vocab);

    /** dTok[vocab, c] and dPos[t, c] overwritten with the sums of dOut rows. */
    void embeddingBackward(MemorySegment dTok, long dTokOff, MemorySegment dPos, long dPosOff, MemorySegment dOut,
                           long dOutOff, MemorySegment ids, long idsOff, int b, int t, int c, int vocab);

    // ---------------------------------------------------------------- choice

    /** The layer kernels matching a backend: scalar for {@code scalar}, SIMD for {@code simd}. */
    static LayerKernels forBackend(KernelBackend backend) {
        return "simd".equals(backend.name()) ? Holder.simd() : Holder.SCALAR;
    }

    /** Holder of the two instances (the SIMD one is loaded reflectively, on first need). */
    final class Holder {
        static final LayerKernels SCALAR = new ScalarLayerKernels();
        private static final String SIMD_CLASS = "dev.descent.engine.kernel.simd.SimdLayerKernels";
        private static volatile LayerKernels simd;

        private Holder() {
        }

        static LayerKernels simd() {
            LayerKernels s = simd;
            if (s == null) {
                if (!Kernels.vectorModulePresent()) {
                    throw new IllegalStateException("the simd layer kernels need --add-modules jdk.incubator.vector");
                }
                try {
                    s = (LayerKernels) Class.forName(SIMD_CLASS).getDeclaredConstructor().newInstance();
                } catch (ReflectiveOperationException | LinkageError e) {
                    throw new IllegalStateException("cannot load " + SIMD_CLASS + ": " + e, e);
                }
                simd = s;
            }
            return s;
        }
    }
}
