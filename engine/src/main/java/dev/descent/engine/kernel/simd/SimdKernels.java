package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.GemmShape;
import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * The Java Vector API backend. The only package that imports jdk.incubator.vector. The no-argument instance runs
 * the GEMM shape chosen for this machine at start-up; {@link #SimdKernels(GemmShape)} forces another (every tile
 * whose vectors are no wider than the native ones runs correctly anywhere; the tuner and the tests use this).
 */
public final class SimdKernels implements KernelBackend {
    private final SimdGemm.Plan plan;

    /** The backend with the GEMM shape {@link dev.descent.engine.kernel.GemmSelection} chose for this machine. */
    public SimdKernels() {
        this.plan = SimdGemm.DEFAULT;
    }

    /**
     * The backend with a forced GEMM shape.
     *
     * @throws IllegalArgumentException if the tile's vectors are wider than this machine's (they would run in the
     *                                  Vector API's Java fallback, ~100x slower)
     */
    public SimdKernels(GemmShape shape) {
        if (shape.tile().vectorBits() > SimdGemm.preferredBits()) {
            throw new IllegalArgumentException("GEMM tile " + shape.tile().name() + " needs "
                    + shape.tile().vectorBits() + "-bit vectors; this CPU's widest are " + SimdGemm.preferredBits()
                    + "-bit");
        }
        this.plan = new SimdGemm.Plan(shape);
    }

    @Override
    public Optional<GemmShape> gemmShape() {
        return Optional.of(plan.shape);
    }

    @Override
    public int vectorBits() {
        return SimdGemm.preferredBits();
    }

    @Override
    public String name() {
        return "simd";
    }

    @Override
    public void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        SimdGemm.gemm(plan, false, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        SimdGemm.gemm(plan, false, true, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        SimdGemm.gemm(plan, true, false, c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        SimdOps.biasAdd(out, outOff, bias, biasOff, rows, cols);
    }

    @Override
    public void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols, boolean accumulate) {
        SimdOps.biasGrad(dBias, dBiasOff, dOut, dOutOff, rows, cols, accumulate);
    }

    @Override
    public void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        SimdOps.activationForward(act, out, outOff, in, inOff, n);
    }

    @Override
    public void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        SimdOps.activationBackward(act, dIn, dInOff, dOut, dOutOff, in, inOff, n, accumulate);
    }

    @Override
    public void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        SimdOps.axpy(y, yOff, alpha, x, xOff, n);
    }

    @Override
    public void combine(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y,
                        long yOff, float b, MemorySegment z, long zOff, long n) {
        SimdOps.combine(out, outOff, x, xOff, a, y, yOff, b, z, zOff, n);
    }

    @Override
    public void scale(MemorySegment x, long xOff, float alpha, long n) {
        SimdOps.scale(x, xOff, alpha, n);
    }

    @Override
    public void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        SimdOps.mul(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        SimdOps.add(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public double sum(MemorySegment x, long xOff, long n) {
        return SimdOps.sum(x, xOff, n);
    }

    @Override
    public double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        return SimdOps.dot(x, xOff, y, yOff, n);
    }

    @Override
    public double sumSquares(MemorySegment x, long xOff, long n) {
        return SimdOps.sumSquares(x, xOff, n);
    }

    @Override
    public void unitBytesToFloats(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        SimdOps.unitBytesToFloats(src, srcOff, dst, dstOff, n);
    }

    @Override
    public double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses, long lossesOff, MemorySegment logits, long logitsOff, MemorySegment labels, long labelsOff, int rows, int cols) {
        return SimdOps.softmaxCrossEntropyForward(probs, probsOff, losses, lossesOff, logits, logitsOff, labels, labelsOff, rows, cols);
    }

    @Override
    public void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs, long probsOff, MemorySegment labels, long labelsOff, int rows, int cols, float scale) {
        SimdOps.softmaxCrossEntropyBackward(dLogits, dLogitsOff, probs, probsOff, labels, labelsOff, rows, cols, scale);
    }

    @Override
    public void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr, float weightDecay, long n) {
        SimdOps.sgdUpdate(params, pOff, grads, gOff, lr, weightDecay, n);
    }

    @Override
    public void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay, boolean nesterov, long n) {
        SimdOps.momentumUpdate(params, pOff, grads, gOff, velocity, vOff, lr, momentum, weightDecay, nesterov, n);
    }

    @Override
    public void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        SimdOps.adamUpdate(params, pOff, grads, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, step, n);
    }
}
