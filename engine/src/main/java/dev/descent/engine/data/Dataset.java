package dev.descent.engine.data;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.ValueLayout;

/**
 * An in-memory labelled dataset held off-heap: features as float32 rows [count, featureSize] and labels as
 * int32 class indices [count]. Owns both blocks; close it to free them.
 */
public final class Dataset implements AutoCloseable {
    private final String name;
    private final OffHeapBlock features; // [count, featureSize]
    private final OffHeapBlock labels;   // [count] int32
    private final int count;
    private final int featureSize;
    private final int classes;
    private final int[] sampleShape;
    private final Runnable release; // null: this dataset owns its blocks; else a borrowed view that runs this on close

    /**
     * @param sampleShape shape of one sample, e.g. {1, 28, 28} for an image (product must equal featureSize)
     */
    public Dataset(String name, OffHeapBlock features, OffHeapBlock labels, int count, int[] sampleShape,
                   int classes) {
        int size = 1;
        for (int d : sampleShape) {
            size = Math.multiplyExact(size, d);
        }
        if (features.byteSize() != (long) count * size * Float.BYTES) {
            throw new IllegalArgumentException(name + ": features hold " + features.byteSize() + " bytes, expected "
                    + count + " x " + size + " floats");
        }
        if (labels.byteSize() != (long) count * Integer.BYTES) {
            throw new IllegalArgumentException(name + ": labels hold " + labels.byteSize() + " bytes, expected "
                    + count + " int32");
        }
        this.name = name;
        this.features = features;
        this.labels = labels;
        this.count = count;
        this.featureSize = size;
        this.classes = classes;
        this.sampleShape = sampleShape.clone();
        this.release = null;
    }

    private Dataset(Dataset owner, Runnable release) {
        this.name = owner.name;
        this.features = owner.features;
        this.labels = owner.labels;
        this.count = owner.count;
        this.featureSize = owner.featureSize;
        this.classes = owner.classes;
        this.sampleShape = owner.sampleShape;
        this.release = java.util.Objects.requireNonNull(release, "release");
    }

    /**
     * A read-only view of this dataset's blocks for one more user: closing the view runs {@code release} (once)
     * instead of freeing the blocks, which stay owned by this dataset. The engine never writes a dataset's blocks,
     * so concurrent jobs can share one copy; the owner must outlive every view (count them in {@code release}).
     */
    public Dataset view(Runnable release) {
        return new Dataset(this, new Runnable() {
            private final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

            @Override
            public void run() {
                if (done.compareAndSet(false, true)) {
                    release.run();
                }
            }
        });
    }

    /** Builds a dataset from heap arrays (copied off-heap); convenient for tests and small synthetic sets. */
    public static Dataset of(String name, float[] features, int[] labels, int[] sampleShape, int classes) {
        OffHeapBlock f = OffHeapBlock.allocateFloats(features.length, Purpose.BATCHES);
        OffHeapBlock l = OffHeapBlock.allocate((long) labels.length * Integer.BYTES, Purpose.BATCHES);
        f.copyFrom(features, 0);
        java.lang.foreign.MemorySegment.copy(labels, 0, l.segment(), ValueLayout.JAVA_INT, 0, labels.length);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                f.close();
                l.close();
                throw new IllegalArgumentException(name + ": label " + labels[i] + " at index " + i
                        + " is outside [0, " + classes + ")");
            }
        }
        return new Dataset(name, f, l, labels.length, sampleShape, classes);
    }

    public String name() {
        return name;
    }

    /** Features, float32 [count, featureSize]. */
    public OffHeapBlock features() {
        return features;
    }

    /** Labels, int32 [count]. */
    public OffHeapBlock labels() {
        return labels;
    }

    public int count() {
        return count;
    }

    public int featureSize() {
        return featureSize;
    }

    public int classes() {
        return classes;
    }

    /** Shape of one sample, e.g. [1, 28, 28]. */
    public int[] sampleShape() {
        return sampleShape.clone();
    }

    /** Label of sample {@code index}. */
    public int label(int index) {
        return labels.segment().getAtIndex(ValueLayout.JAVA_INT, index);
    }

    /** Number of samples of each class: element {@code c} counts the labels equal to {@code c}. */
    public int[] labelCounts() {
        int[] counts = new int[classes];
        for (int i = 0; i < count; i++) {
            counts[label(i)]++;
        }
        return counts;
    }

    /**
     * A new dataset holding a copy of samples [from, from + count) (features and labels), owned by the
     * caller and independent of this one; its blocks have the same purposes as this dataset's.
     */
    public Dataset subset(int from, int count) {
        if (from < 0 || count < 0 || from > this.count - count) {
            throw new IndexOutOfBoundsException(name + ": subset [" + from + ", " + ((long) from + count)
                    + ") is outside [0, " + this.count + ")");
        }
        long featureBytes = (long) featureSize * Float.BYTES;
        OffHeapBlock f = OffHeapBlock.allocate(count * featureBytes, features.purpose());
        OffHeapBlock l = null;
        try {
            l = OffHeapBlock.allocate((long) count * Integer.BYTES, labels.purpose());
            java.lang.foreign.MemorySegment.copy(features.segment(), from * featureBytes, f.segment(), 0, f.byteSize());
            java.lang.foreign.MemorySegment.copy(labels.segment(), (long) from * Integer.BYTES, l.segment(), 0,
                    l.byteSize());
            return new Dataset(name + "[" + from + ", " + (from + count) + ")", f, l, count, sampleShape, classes);
        } catch (RuntimeException | Error e) {
            f.close();
            if (l != null) {
                l.close();
            }
            throw e;
        }
    }

    @Override
    public void close() {
        if (release != null) {
            release.run();
            return;
        }
        features.close();
        labels.close();
    }
}
