package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;

/** Vector API kernels other than GEMM. */
public final class SimdOps {
    private SimdOps() {
    }

    public static void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        throw new UnsupportedOperationException("SimdOps.biasAdd");
    }

    public static void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols, boolean accumulate) {
        throw new UnsupportedOperationException("SimdOps.biasGrad");
    }

    public static void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        throw new UnsupportedOperationException("SimdOps.activationForward");
    }

    public static void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        throw new UnsupportedOperationException("SimdOps.activationBackward");
    }

    public static void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("SimdOps.axpy");
    }

    public static void scale(MemorySegment x, long xOff, float alpha, long n) {
        throw new UnsupportedOperationException("SimdOps.scale");
    }

    public static void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        throw new UnsupportedOperationException("SimdOps.mul");
    }

    public static void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        throw new UnsupportedOperationException("SimdOps.add");
    }

    public static double sum(MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("SimdOps.sum");
    }

    public static double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        throw new UnsupportedOperationException("SimdOps.dot");
    }

    public static double sumSquares(MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("SimdOps.sumSquares");
    }

    public static double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses, long lossesOff, MemorySegment logits, long logitsOff, MemorySegment labels, long labelsOff, int rows, int cols) {
        throw new UnsupportedOperationException("SimdOps.softmaxCrossEntropyForward");
    }

    public static void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs, long probsOff, MemorySegment labels, long labelsOff, int rows, int cols, float scale) {
        throw new UnsupportedOperationException("SimdOps.softmaxCrossEntropyBackward");
    }

    public static void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr, float weightDecay, long n) {
        throw new UnsupportedOperationException("SimdOps.sgdUpdate");
    }

    public static void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay, boolean nesterov, long n) {
        throw new UnsupportedOperationException("SimdOps.momentumUpdate");
    }

    public static void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        throw new UnsupportedOperationException("SimdOps.adamUpdate");
    }
}
