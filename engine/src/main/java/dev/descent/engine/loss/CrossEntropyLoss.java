package dev.descent.engine.loss;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;

/**
 * Softmax fused with cross-entropy (one kernel each way): forward keeps the probabilities, backward is
 * (probs - onehot) / batch.
 */
public final class CrossEntropyLoss implements Loss {
    private final int maxBatch;
    private final int classes;
    private final OffHeapBlock probs;   // [maxBatch, classes]
    private final OffHeapBlock losses;  // [maxBatch]

    public CrossEntropyLoss(int maxBatch, int classes) {
        this.maxBatch = maxBatch;
        this.classes = classes;
        this.probs = OffHeapBlock.allocateFloats((long) maxBatch * classes, Purpose.ACTIVATIONS);
        this.losses = OffHeapBlock.allocateFloats(maxBatch, Purpose.ACTIVATIONS);
    }

    @Override
    public LossKind kind() {
        return LossKind.CROSS_ENTROPY;
    }

    @Override
    public double forward(KernelBackend k, MemorySegment outputs, long outOff, MemorySegment labels, long labelsOff,
                          int batch) {
        checkBatch(batch);
        double sum = k.softmaxCrossEntropyForward(probs.segment(), 0, losses.segment(), 0, outputs, outOff, labels,
                labelsOff, batch, classes);
        return sum / batch;
    }

    @Override
    public void backward(KernelBackend k, MemorySegment dOutputs, long dOff, MemorySegment labels, long labelsOff,
                         int batch) {
        checkBatch(batch);
        k.softmaxCrossEntropyBackward(dOutputs, dOff, probs.segment(), 0, labels, labelsOff, batch, classes,
                1.0f / batch);
    }

    /** Softmax probabilities of the last forward, [batch, classes]. */
    public OffHeapBlock probabilities() {
        return probs;
    }

    private void checkBatch(int batch) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " outside [1, " + maxBatch + "]");
        }
    }

    @Override
    public void close() {
        probs.close();
        losses.close();
    }
}
