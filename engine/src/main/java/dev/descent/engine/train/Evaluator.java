package dev.descent.engine.train;

import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;

/**
 * Mean loss and accuracy of a model over a whole {@link Dataset}, in eval mode (Dropout off), in batches read
 * straight from the dataset's off-heap rows when they are floats (no copy); a dataset held as bytes
 * ({@link Dataset#ofUnitBytes}) is widened whole once when small, else a batch at a time into a buffer of this
 * evaluator's. Forward only, on two scratch activation buffers.
 */
public final class Evaluator implements AutoCloseable {
    /** Result of one evaluation. */
    public record Evaluation(double loss, double accuracy, int examples) {
    }

    /** Sum of per-sample losses, correctly classified samples and samples of an evaluated range. */
    public record Sums(double lossSum, long correct, int examples) {
    }

    private final Model model;
    private final KernelBackend kernels;
    private final int batchSize;
    private final BackpropExecutor executor;
    private final Loss loss;
    private final ExecutionContext ctx;
    private OffHeapBlock batch; // features of one batch, for datasets held as bytes; allocated on first use
    /** A dataset held as bytes with at most this many features is widened whole once and then read in place. */
    static final long WIDEN_ONCE_FLOATS = 1L << 22;

    public Evaluator(Model model, KernelBackend kernels, LossKind lossKind, int batchSize, int threads) {
        this.model = model;
        this.kernels = kernels;
        this.batchSize = batchSize;
        this.executor = BackpropExecutor.forwardOnly(model, batchSize);
        Loss l;
        try {
            l = lossKind.create(batchSize, model.outputSize());
        } catch (RuntimeException | Error e) {
            executor.close();
            throw e;
        }
        this.loss = l;
        this.ctx = new ExecutionContext(kernels).threads(threads).training(false);
    }

    public Evaluation evaluate(Dataset data) {
        Sums s = evaluateSums(data, 0, data.count());
        int count = s.examples();
        return new Evaluation(count == 0 ? Double.NaN : s.lossSum() / count,
                count == 0 ? Double.NaN : (double) s.correct() / count, count);
    }

    /**
     * Raw sums over samples [from, from + count) of {@code data}, in batches of this evaluator's batch size
     * starting at {@code from}: ranges evaluated by several evaluators combine exactly by adding their sums.
     */
    public Sums evaluateSums(Dataset data, int from, int count) {
        if (data.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("dataset " + data.name() + " has " + data.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        if (from < 0 || count < 0 || from > data.count() - count) {
            throw new IndexOutOfBoundsException(data.name() + ": range [" + from + ", " + ((long) from + count)
                    + ") is outside [0, " + data.count() + ")");
        }
        // float features are read in place, and so are small datasets held as bytes, widened once (a landscape
        // evaluates its subsets hundreds of times); a large one (a training run's test set, evaluated once an epoch)
        // is widened a batch at a time into a buffer rather than held twice
        boolean inPlace = data.hasFloatFeatures() || (long) data.count() * data.featureSize() <= WIDEN_ONCE_FLOATS;
        MemorySegment f = inPlace ? data.features().segment() : batchBuffer(data.featureSize());
        MemorySegment y = data.labels().segment();
        double lossSum = 0;
        long correct = 0;
        int end = from + count;
        for (int start = from; start < end; start += batchSize) {
            int rows = Math.min(batchSize, end - start);
            long fOff = 0;
            if (inPlace) {
                fOff = (long) start * data.featureSize();
            } else {
                data.copyRows(start, rows, f, 0);
            }
            executor.forward(ctx, f, fOff, rows);
            MemorySegment out = executor.segment();
            long outOff = executor.outputOffset();
            lossSum += loss.forward(kernels, out, outOff, y, start, rows) * rows;
            correct += Loss.correct(out, outOff, y, start, rows, model.outputSize());
        }
        return new Sums(lossSum, correct, count);
    }

    /** This evaluator's batch buffer for {@code featureSize} features per row (re-made when the size changes). */
    private MemorySegment batchBuffer(int featureSize) {
        long floats = (long) batchSize * featureSize;
        if (batch == null || batch.floatCount() != floats) {
            if (batch != null) {
                batch.close();
            }
            batch = OffHeapBlock.allocateFloats(floats, Purpose.BATCHES);
        }
        return batch.segment();
    }

    @Override
    public void close() {
        executor.close();
        loss.close();
        if (batch != null) {
            batch.close();
        }
    }
}
