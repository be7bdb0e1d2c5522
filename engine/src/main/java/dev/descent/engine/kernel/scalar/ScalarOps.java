package dev.descent.engine.kernel.scalar;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;

/** Plain reference kernels other than GEMM. */
public final class ScalarOps {
    private ScalarOps() {
    }

    public static void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        throw new UnsupportedOperationException("ScalarOps.biasAdd");
    }

    public static void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols, boolean accumulate) {
        throw new UnsupportedOperationException("ScalarOps.biasGrad");
    }

    public static void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.activationForward");
    }

    public static void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        throw new UnsupportedOperationException("ScalarOps.activationBackward");
    }

    public static void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.axpy");
    }

    public static void scale(MemorySegment x, long xOff, float alpha, long n) {
        throw new UnsupportedOperationException("ScalarOps.scale");
    }

    public static void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.mul");
    }

    public static void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.add");
    }

    public static double sum(MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.sum");
    }

    public static double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.dot");
    }

    public static double sumSquares(MemorySegment x, long xOff, long n) {
        throw new UnsupportedOperationException("ScalarOps.sumSquares");
    }

    public static double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses, long lossesOff, MemorySegment logits, long logitsOff, MemorySegment labels, long labelsOff, int rows, int cols) {
        throw new UnsupportedOperationException("ScalarOps.softmaxCrossEntropyForward");
    }

    public static void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs, long probsOff, MemorySegment labels, long labelsOff, int rows, int cols, float scale) {
        throw new UnsupportedOperationException("ScalarOps.softmaxCrossEntropyBackward");
    }

    public static void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr, float weightDecay, long n) {
        throw new UnsupportedOperationException("ScalarOps.sgdUpdate");
    }

    public static void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay, boolean nesterov, long n) {
        throw new UnsupportedOperationException("ScalarOps.momentumUpdate");
    }

    public static void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m, long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps, float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        throw new UnsupportedOperationException("ScalarOps.adamUpdate");
    }
}
