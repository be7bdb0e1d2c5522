package dev.descent.engine.data;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An in-memory labelled dataset held off-heap: features as float32 rows [count, featureSize] and labels as
 * int32 class indices [count]. Owns both blocks; close it to free them.
 *
 * <p>The features may also be held as unsigned bytes that read as {@code byte / 255} ({@link #ofUnitBytes}: the
 * IDX image files, mapped from the file itself): 4x less memory, and nothing to allocate and fault in at load time,
 * which on the VMs measured was most of a short command's start (docs/performance.md). The hot paths ask for rows
 * ({@link #gather}, {@link #copyRows}) and get floats either way, with the same bits; {@link #features()} widens all
 * of them into a float block on its first call and keeps it, for the code that wants the whole matrix.
 */
public final class Dataset implements AutoCloseable {
    private final String name;
    private final Features features; // [count, featureSize]
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
        this(name, new Features(features), labels, count, sampleShape, classes);
    }

    /**
     * A dataset whose features are the unsigned bytes of {@code pixels} [count, featureSize], read as
     * {@code byte / 255}; closing it closes {@code pixelsOwner} (e.g. the arena of a file mapping) and the labels.
     */
    public static Dataset ofUnitBytes(String name, MemorySegment pixels, AutoCloseable pixelsOwner, OffHeapBlock labels,
                                      int count, int[] sampleShape, int classes) {
        return new Dataset(name, new Features(pixels, pixelsOwner), labels, count, sampleShape, classes);
    }

    private Dataset(String name, Features features, OffHeapBlock labels, int count, int[] sampleShape, int classes) {
        int size = 1;
        for (int d : sampleShape) {
            size = Math.multiplyExact(size, d);
        }
        if (features.elements() != (long) count * size) {
            throw new IllegalArgumentException(name + ": features hold " + features.elements() + " "
                    + features.unit() + ", expected " + count + " x " + size);
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

    /**
     * Features, float32 [count, featureSize]. For a dataset held as bytes ({@link #ofUnitBytes}) the first call widens
     * every row into a new float block (once; later calls and every view share it); the training and evaluation
     * paths read rows with {@link #gather} and {@link #copyRows} instead and never need it.
     */
    public OffHeapBlock features() {
        return features.floats();
    }

    /** Whether {@link #features()} returns without widening anything (float features, or bytes already widened). */
    public boolean hasFloatFeatures() {
        return features.hasFloats();
    }

    /**
     * Copies the features of samples {@code order[from]}, ..., {@code order[from + rows - 1]} as consecutive float
     * rows into {@code dst} from float {@code dstFloat} (a shuffled batch).
     */
    public void gather(int[] order, int from, int rows, MemorySegment dst, long dstFloat) {
        if (features.bytes != null) { // from the bytes even when widened: a quarter of the memory traffic
            UnitBytes.gather(features.bytes, featureSize, order, from, rows, dst, dstFloat);
            return;
        }
        OffHeapBlock f = features.floats;
        long rowBytes = (long) featureSize * Float.BYTES;
        for (int r = 0; r < rows; r++) {
            MemorySegment.copy(f.segment(), order[from + r] * rowBytes, dst, dstFloat * Float.BYTES + r * rowBytes,
                    rowBytes);
        }
    }

    /** Copies the features of samples [from, from + rows) as floats into {@code dst} from float {@code dstFloat}. */
    public void copyRows(int from, int rows, MemorySegment dst, long dstFloat) {
        if (from < 0 || rows < 0 || from > count - rows) {
            throw new IndexOutOfBoundsException(name + ": rows [" + from + ", " + ((long) from + rows)
                    + ") are outside [0, " + count + ")");
        }
        features.copy((long) from * featureSize, (long) rows * featureSize, dst, dstFloat);
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
        Features f = features.subset((long) from * featureSize, (long) count * featureSize, labels.purpose());
        OffHeapBlock l = null;
        try {
            l = OffHeapBlock.allocate((long) count * Integer.BYTES, labels.purpose());
            MemorySegment.copy(labels.segment(), (long) from * Integer.BYTES, l.segment(), 0, l.byteSize());
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

    /**
     * The feature storage, shared by a dataset and its views: a float block, or unsigned bytes (with what owns them)
     * plus the float block widened from them on the first {@link #floats()} call.
     */
    private static final class Features {
        private final MemorySegment bytes;      // null: float features
        private final AutoCloseable bytesOwner;
        private volatile OffHeapBlock floats;   // the float features, or the widened bytes once asked for

        Features(OffHeapBlock floats) {
            if (floats.byteSize() % Float.BYTES != 0) {
                throw new IllegalArgumentException("a float feature block of " + floats.byteSize()
                        + " bytes is not a whole number of floats");
            }
            this.bytes = null;
            this.bytesOwner = null;
            this.floats = floats;
        }

        Features(MemorySegment bytes, AutoCloseable bytesOwner) {
            this.bytes = java.util.Objects.requireNonNull(bytes, "bytes");
            this.bytesOwner = java.util.Objects.requireNonNull(bytesOwner, "bytesOwner");
        }

        long elements() {
            return bytes != null ? bytes.byteSize() : floats.floatCount();
        }

        String unit() {
            return bytes != null ? "bytes" : "floats";
        }

        boolean hasFloats() {
            return floats != null;
        }

        OffHeapBlock floats() {
            OffHeapBlock f = floats;
            if (f != null) {
                return f;
            }
            synchronized (this) {
                if (floats == null) {
                    OffHeapBlock widened = OffHeapBlock.allocateFloats(bytes.byteSize(), Purpose.BATCHES);
                    UnitBytes.copyCold(bytes, 0, widened.segment(), 0, bytes.byteSize());
                    floats = widened;
                }
                return floats;
            }
        }

        void copy(long from, long n, MemorySegment dst, long dstFloat) {
            OffHeapBlock f = floats;
            if (f != null) {
                MemorySegment.copy(f.segment(), from * Float.BYTES, dst, dstFloat * Float.BYTES, n * Float.BYTES);
            } else {
                UnitBytes.copy(bytes, from, dst, dstFloat, n);
            }
        }

        /** A copy of elements [from, from + n) that owns its memory: bytes stay bytes. */
        Features subset(long from, long n, Purpose purpose) {
            if (bytes == null) {
                OffHeapBlock f = OffHeapBlock.allocateFloats(n, floats.purpose());
                MemorySegment.copy(floats.segment(), from * Float.BYTES, f.segment(), 0, n * Float.BYTES);
                return new Features(f);
            }
            OffHeapBlock b = OffHeapBlock.allocate(n, purpose);
            MemorySegment.copy(bytes, from, b.segment(), 0, n);
            return new Features(b.segment(), b);
        }

        void close() {
            OffHeapBlock f = floats;
            if (f != null) {
                f.close();
            }
            if (bytesOwner != null) {
                try {
                    bytesOwner.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the feature bytes failed", e);
                }
            }
        }
    }
}
