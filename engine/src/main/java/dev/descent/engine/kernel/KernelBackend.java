package dev.descent.engine.kernel;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The compute kernels of the engine, over float32 data in off-heap {@link MemorySegment}s.
 *
 * <p>Conventions (llm.c style): arguments are outputs first, then values saved for backward, then inputs,
 * then weights, then sizes. Every array argument is a pair {@code (segment, offset)} where the offset is
 * counted in floats, not bytes. All matrices are dense row-major with no padding between rows. Shapes are
 * given in comments as {@code [rows, cols]}. Kernels never allocate.
 *
 * <p>Two implementations exist: {@code scalar} (the plain reference, always present) and {@code simd} (Java
 * Vector API). {@link Kernels} picks one at start-up.
 */
public interface KernelBackend {

    /** Backend name, {@code "scalar"} or {@code "simd"}. */
    String name();

    /** The GEMM's register tile and cache blocking, for backends that have one (simd); empty for scalar. */
    default Optional<GemmShape> gemmShape() {
        return Optional.empty();
    }

    /** Width of the widest native vectors the backend uses, in bits; 0 for scalar code. */
    default int vectorBits() {
        return 0;
    }

    // ---------------------------------------------------------------- GEMM (the three layouts backprop needs)

    /**
     * C[m,n] = (accumulate ? C : 0) + A[m,k] · B[k,n]. {@code threads} > 1 splits the work over the shared
     * kernel pool (see {@link Kernels#pool()}); 1 runs on the calling thread.
     */
    void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                int m, int n, int k, boolean accumulate, int threads);

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[n,k]ᵀ (forward of a Linear layer with W as [out, in]). */
    void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                int m, int n, int k, boolean accumulate, int threads);

    /** C[m,n] = (accumulate ? C : 0) + A[k,m]ᵀ · B[k,n] (weight gradient: dW = dYᵀ · X). */
    void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                int m, int n, int k, boolean accumulate, int threads);

    // ---------------------------------------------------------------- bias

    /** out[rows, cols] += bias[cols] (broadcast over rows). */
    void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols);

    /** dBias[cols] (+)= sum over rows of dOut[rows, cols]. */
    void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols,
                  boolean accumulate);

    // ---------------------------------------------------------------- activations: forward and backward side by side
    // Forward: out[n] = f(in[n]) (out may alias in). Backward: dIn[n] (+)= dOut[n] * f'(in[n]) computed from
    // the forward input (dIn may alias dOut when accumulate is false).

    void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n);

    void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                            MemorySegment in, long inOff, long n, boolean accumulate);

    // ---------------------------------------------------------------- elementwise, BLAS-1

    /** y[n] += alpha * x[n]. */
    void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n);

    /**
     * out[n] = x[n] + a * y[n] + b * z[n] in one pass ({@code z} may be null: then out = x + a * y), with exactly
     * the rounding of copying x to out, then {@code axpy(out, a, y)}, then {@code axpy(out, b, z)} on this backend.
     * A point of a landscape, {@code w + a·d1 + b·d2}, written into an evaluator's own slab. {@code out} may alias
     * {@code x}.
     */
    void combine(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y, long yOff,
                 float b, MemorySegment z, long zOff, long n);

    /** x[n] *= alpha. */
    void scale(MemorySegment x, long xOff, float alpha, long n);

    /** out[n] = a[n] * b[n] (out may alias a or b). */
    void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n);

    /** out[n] = a[n] + b[n] (out may alias a or b). */
    void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n);

    // ---------------------------------------------------------------- reductions (accumulated in double)

    double sum(MemorySegment x, long xOff, long n);

    double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n);

    /** Σ x². */
    double sumSquares(MemorySegment x, long xOff, long n);

    // ---------------------------------------------------------------- data

    /**
     * dst[dstOff + i] = (unsigned byte src[srcOff + i]) / 255f for i in [0, n): pixels widened to [0, 1] (the IDX
     * datasets are held as their bytes). The byte widens exactly and the division is IEEE-exact, so every backend
     * and every JIT tier gives the same bits.
     */
    void unitBytesToFloats(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n);

    // ---------------------------------------------------------------- losses

    /**
     * Fused softmax + cross-entropy over a batch. probs[rows, cols] = softmax(logits) (numerically stable);
     * losses[rows] = -log probs[r, labels[r]]; returns the sum of the losses. {@code labels} holds one int32
     * class index per row at int offset {@code labelsOff}.
     */
    double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses, long lossesOff,
                                      MemorySegment logits, long logitsOff, MemorySegment labels, long labelsOff,
                                      int rows, int cols);

    /**
     * dLogits[rows, cols] = (probs - onehot(labels)) * scale, with scale usually 1/rows (mean loss).
     */
    void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs, long probsOff,
                                     MemorySegment labels, long labelsOff, int rows, int cols, float scale);

    // ---------------------------------------------------------------- optimizer updates (flat fused loops over the slabs)

    /** Plain SGD with coupled L2 weight decay: p -= lr * (g + wd * p). */
    void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr, float weightDecay,
                   long n);

    /**
     * SGD with momentum (PyTorch convention): g' = g + wd*p; v = mu*v + g'; p -= lr * (nesterov ? g' + mu*v : v).
     */
    void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment velocity,
                        long vOff, float lr, float momentum, float weightDecay, boolean nesterov, long n);

    /**
     * Adam / AdamW. {@code decoupledWeightDecay} false: g' = g + wd*p (Adam with L2); true: p -= lr*wd*p
     * before the Adam step (AdamW). m = b1*m + (1-b1)g'; v = b2*v + (1-b2)g'²;
     * p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). {@code step} t starts at 1.
     */
    void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m, long mOff,
                    MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay,
                    boolean decoupledWeightDecay, long step, long n);
}
