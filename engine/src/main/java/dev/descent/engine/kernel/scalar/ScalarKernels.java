package dev.descent.engine.kernel.scalar;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/** The plain scalar reference backend: always present, the oracle every fast kernel is tested against. */
public final class ScalarKernels implements KernelBackend {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        ScalarGemm.gemmNN(c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        ScalarGemm.gemmNT(c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        ScalarGemm.gemmTN(c, cOff, a, aOff, b, bOff, m, n, k, accumulate, threads);
    }

    @Override
    public void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        ScalarOps.biasAdd(out, outOff, bias, biasOff, rows, cols);
    }

    @Override
    public void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols, boolean accumulate) {
        ScalarOps.biasGrad(dBias, dBiasOff, dOut, dOutOff, rows, cols, accumulate);
    }

    @Override
    public void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        ScalarOps.activationForward(act, out, outOff, in, inOff, n);
    }

    @Override
    public void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        ScalarOps.activationBackward(act, dIn, dInOff, dOut, dOutOff, in, inOff, n, accumulate);
    }

    @Override
    public void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        ScalarOps.axpy(y, yOff, alpha, x, xOff, n);
    }

    @Override
    public void combine(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y,
                        long yOff, float b, MemorySegment z, long zOff, long n) {
        ScalarOps.combine(out, outOff, x, xOff, a, y, yOff, b, z, zOff, n);
    }

    @Override
    public void scale(MemorySegment x, long xOff, float alpha, long n) {
        ScalarOps.scale(x, xOff, alpha, n);
    }

    @Override
    public void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        ScalarOps.mul(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        ScalarOps.add(out, outOff, a, aOff, b, bOff, n);
    }

    @Override
    public double sum(MemorySegment x, long xOff, long n) {
        return ScalarOps.sum(x, xOff, n);
    }

    @Override
    public double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        return ScalarOps.dot(x, xOff, y, yOff, n);
    }

    @Override
    public double sumSquares(MemorySegment x, long xOff, long n) {
        return ScalarOps.sumSquares(x, xOff, n);
    }

    @Override
    public void unitBytesToFloats(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        ScalarOps.unitBytesToFloats(src, srcOff, dst, dstOff, n);
    }

    @Override
    public double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses, long lossesOff, MemorySegment logits, long logitsOff, MemorySegment labels, long labelsOff, int rows, int cols) {
        return ScalarOps.softmaxCrossEntropyForward(probs, probsOff, losses, lossesOff, logits, logitsOff, labels, labelsOff, rows, cols);
    }

    @Override
    public void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs, long probsOff, MemorySegment labels, long labelsOff, int rows, int cols, float scale) {
        ScalarOps.softmaxCrossEntropyBackward(dLogits, dLogitsOff, probs, probsOff, labels, labelsOff, rows, cols, scale);
    }

    @Override
    public void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr, float weightDecay, long n) {
        ScalarOps.sgdUpdate(params, pOff, grads, gOff, lr, weightDecay, n);
    }

    @Override
    public void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay, boolean nesterov, long n) {
        ScalarOps.momentumUpdate(params, pOff, grads, gOff, velocity, vOff, lr, momentum, weightDecay, nesterov, n);
    }

    @Override
    public void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        ScalarOps.adamUpdate(params, pOff, grads, gOff, m, mOff, v, vOff, lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, step, n);
    }
}
