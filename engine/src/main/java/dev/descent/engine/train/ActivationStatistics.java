package dev.descent.engine.train;

import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The mean and standard deviation of every node of a model on a batch of real inputs, in eval mode (Dropout off):
 * how the signal's scale changes layer by layer, e.g. at initialization (He et al. 2015, section 2.2: with Xavier
 * weights a ReLU layer halves the variance, with Kaiming weights it keeps it). One forward pass that keeps every
 * node; not a hot path.
 */
public final class ActivationStatistics {
    /**
     * Statistics of one node over all its values in the batch.
     *
     * @param node  node index: 0 is the input, j >= 1 the output of module j - 1
     * @param layer {@code input}, or the producing module as {@code <index>:<kind>}, e.g. {@code 2:linear}
     * @param mean  mean of the node's values
     * @param std   population standard deviation of the node's values
     */
    public record Node(int node, String layer, double mean, double std) {
    }

    private ActivationStatistics() {
    }

    /** Statistics of every node on the first {@code examples} rows of {@code data} (one batch). */
    public static List<Node> measure(Model model, KernelBackend kernels, Dataset data, int examples) {
        if (data.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("dataset " + data.name() + " has " + data.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        if (examples < 1 || examples > data.count()) {
            throw new IllegalArgumentException("examples must be in [1, " + data.count() + "] for " + data.name()
                    + ", was " + examples);
        }
        List<Node> out = new ArrayList<>();
        // the first rows as floats: in place, or widened from a dataset held as bytes
        try (OffHeapBlock rows = OffHeapBlock.allocateFloats((long) examples * model.inputSize(), Purpose.BATCHES);
             BackpropExecutor ex = new BackpropExecutor(model, BackpropStrategy.VANILLA, examples)) {
            data.copyRows(0, examples, rows.segment(), 0);
            MemorySegment in = rows.segment();
            out.add(node(0, "input", in, 0, (long) examples * model.inputSize()));
            ExecutionContext ctx = new ExecutionContext(kernels).threads(1).training(false);
            ex.forward(ctx, in, 0, examples);
            for (int j = 1; j <= model.layerCount(); j++) {
                out.add(node(j, (j - 1) + ":" + model.layer(j - 1).kind(), ex.segment(), ex.retainedNodeOffset(j),
                        (long) examples * model.nodeSize(j)));
            }
        }
        return out;
    }

    private static Node node(int j, String layer, MemorySegment s, long off, long count) {
        double sum = 0;
        double sumSquares = 0;
        for (long i = 0; i < count; i++) {
            double v = s.getAtIndex(ValueLayout.JAVA_FLOAT, off + i);
            sum += v;
            sumSquares += v * v;
        }
        double mean = sum / count;
        return new Node(j, layer, mean, Math.sqrt(Math.max(0, sumSquares / count - mean * mean)));
    }
}
