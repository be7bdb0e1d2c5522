package dev.descent.engine.train;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Seeded per-epoch shuffling and batch assembly into an off-heap batch buffer ({@link Purpose#BATCHES}):
 * features [batchSize, featureSize] float32 and labels [batchSize] int32. The permutation of epoch e depends
 * only on (seed, e). The last batch of an epoch may be smaller.
 */
public final class BatchAssembler implements AutoCloseable {
    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final int[] order;
    private final OffHeapBlock features;
    private final OffHeapBlock labels;

    public BatchAssembler(Dataset data, int batchSize, long seed) {
        this(data, batchSize, seed, batchSize);
    }

    /**
     * An assembler whose own buffers hold {@code bufferRows} rows (at most the batch): with fewer rows than the batch
     * it serves a batch in slices ({@link #fill(int, int, int, MemorySegment, MemorySegment)}), e.g. one micro-batch
     * at a time, and never holds a whole batch.
     */
    public BatchAssembler(Dataset data, int batchSize, long seed, int bufferRows) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, was " + batchSize);
        }
        if (bufferRows < 1 || bufferRows > batchSize) {
            throw new IllegalArgumentException("buffer rows must be in [1, " + batchSize + "], was " + bufferRows);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
        this.order = new int[data.count()];
        this.features = OffHeapBlock.allocateFloats((long) bufferRows * data.featureSize(), Purpose.BATCHES);
        OffHeapBlock l;
        try {
            l = OffHeapBlock.allocate((long) bufferRows * Integer.BYTES, Purpose.BATCHES);
        } catch (RuntimeException | Error e) {
            features.close();
            throw e;
        }
        this.labels = l;
    }

    /** Number of batches per epoch (the last may be partial). */
    public int batchesPerEpoch() {
        return (data.count() + batchSize - 1) / batchSize;
    }

    /** Fisher-Yates shuffle of the sample order for {@code epoch} (0-based). */
    public void shuffle(int epoch) {
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch + 1);
        for (int i = order.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    /** Copies batch {@code b} of the current order into the buffers (which must hold a batch); returns its rows. */
    public int fill(int b) {
        if (features.segment().byteSize() < (long) batchSize * data.featureSize() * Float.BYTES) {
            throw new IllegalStateException("this assembler's buffers hold a slice of a batch: use fill(b, lo, rows, ...)");
        }
        return fill(b, features.segment(), labels.segment());
    }

    /** Rows of batch {@code b} of an epoch (the last may be partial). */
    public int rows(int b) {
        return Math.min(batchSize, data.count() - b * batchSize);
    }

    /**
     * Copies rows [lo, lo + rows) of batch {@code b} of the current order into {@code dst}/{@code dstLabels} at
     * offset 0: one slice of a batch, e.g. a micro-batch, without assembling the rest.
     */
    public void fill(int b, int lo, int rows, MemorySegment dst, MemorySegment dstLabels) {
        gather(b * batchSize + lo, rows, dst, dstLabels);
    }

    /** Rows at positions [start, start + rows) of the current order into {@code dst}/{@code dstLabels} from row 0. */
    private void gather(int start, int rows, MemorySegment dst, MemorySegment dstLabels) {
        data.gather(order, start, rows, dst, 0);
        MemorySegment srcLabels = data.labels().segment();
        for (int r = 0; r < rows; r++) {
            dstLabels.setAtIndex(ValueLayout.JAVA_INT, r, srcLabels.getAtIndex(ValueLayout.JAVA_INT, order[start + r]));
        }
    }

    /**
     * Copies batch {@code b} of the current order into caller-owned buffers (features [batchSize, featureSize]
     * float32, labels [batchSize] int32), e.g. one slot of a batch pool; returns its number of rows.
     */
    public int fill(int b, MemorySegment dst, MemorySegment dstLabels) {
        int start = b * batchSize;
        int rows = Math.min(batchSize, data.count() - start);
        gather(start, rows, dst, dstLabels);
        return rows;
    }

    /** Batch features [bufferRows, featureSize] (a whole batch unless built with fewer buffer rows). */
    public MemorySegment features() {
        return features.segment();
    }

    /** Batch labels int32 [batchSize]. */
    public MemorySegment labels() {
        return labels.segment();
    }

    @Override
    public void close() {
        features.close();
        labels.close();
    }
}
