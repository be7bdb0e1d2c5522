package dev.descent.engine.loss;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A loss over a batch of network outputs and int32 class labels, forward and backward side by side. The
 * reported loss is the mean over the batch; backward writes dL/dOutputs of that mean. Each instance owns a
 * small workspace sized for {@code maxBatch} rows (allocated once); close it to free it.
 */
public interface Loss extends AutoCloseable {

    /** Which loss this is. */
    LossKind kind();

    /**
     * Computes the mean loss of {@code outputs[batch, classes]} against {@code labels[batch]} (int32) and keeps
     * what backward needs.
     */
    double forward(KernelBackend k, MemorySegment outputs, long outOff, MemorySegment labels, long labelsOff,
                   int batch);

    /** dOutputs[batch, classes] = dL/dOutputs of the last {@link #forward}'s mean loss. */
    void backward(KernelBackend k, MemorySegment dOutputs, long dOff, MemorySegment labels, long labelsOff, int batch);

    @Override
    void close();

    /** Number of rows whose arg-max output equals the label (ties go to the lowest index). */
    static int correct(MemorySegment outputs, long outOff, MemorySegment labels, long labelsOff, int batch,
                       int classes) {
        int correct = 0;
        for (int r = 0; r < batch; r++) {
            long row = outOff + (long) r * classes;
            int best = 0;
            float bestV = outputs.getAtIndex(ValueLayout.JAVA_FLOAT, row);
            for (int c = 1; c < classes; c++) {
                float v = outputs.getAtIndex(ValueLayout.JAVA_FLOAT, row + c);
                if (v > bestV) {
                    bestV = v;
                    best = c;
                }
            }
            if (best == labels.getAtIndex(ValueLayout.JAVA_INT, labelsOff + r)) {
                correct++;
            }
        }
        return correct;
    }
}
