package dev.descent.engine.loss;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Squared error against one-hot targets, on the raw outputs (no softmax):
 * L = (1/B) Σ_b Σ_c (z_bc - t_bc)², the mean over the batch of the per-sample sum over classes
 * (so its gradient 2(z - t)/B has the same scale as cross-entropy's (p - t)/B, and the same learning rates
 * work; a mean over all B·C elements would shrink the gradient C-fold). Accumulated in double.
 */
public final class MseLoss implements Loss {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private final int maxBatch;
    private final int classes;
    private MemorySegment lastOutputs;
    private long lastOff;

    public MseLoss(int maxBatch, int classes) {
        this.maxBatch = maxBatch;
        this.classes = classes;
    }

    @Override
    public LossKind kind() {
        return LossKind.MSE;
    }

    @Override
    public double forward(KernelBackend k, MemorySegment outputs, long outOff, MemorySegment labels, long labelsOff,
                          int batch) {
        checkBatch(batch);
        double sum = 0.0;
        for (int r = 0; r < batch; r++) {
            long row = outOff + (long) r * classes;
            int y = labels.getAtIndex(I, labelsOff + r);
            for (int c = 0; c < classes; c++) {
                double d = outputs.getAtIndex(F, row + c) - (c == y ? 1.0 : 0.0);
                sum += d * d;
            }
        }
        lastOutputs = outputs;
        lastOff = outOff;
        return sum / batch;
    }

    @Override
    public void backward(KernelBackend k, MemorySegment dOutputs, long dOff, MemorySegment labels, long labelsOff,
                         int batch) {
        checkBatch(batch);
        if (lastOutputs == null) {
            throw new IllegalStateException("MSE backward before forward");
        }
        float scale = 2.0f / batch;
        for (int r = 0; r < batch; r++) {
            long row = (long) r * classes;
            int y = labels.getAtIndex(I, labelsOff + r);
            for (int c = 0; c < classes; c++) {
                float d = lastOutputs.getAtIndex(F, lastOff + row + c) - (c == y ? 1.0f : 0.0f);
                dOutputs.setAtIndex(F, dOff + row + c, d * scale);
            }
        }
    }

    private void checkBatch(int batch) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " outside [1, " + maxBatch + "]");
        }
    }

    @Override
    public void close() {
        lastOutputs = null;
    }
}
