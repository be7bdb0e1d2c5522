package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.IdxReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * Where a job's examples come from. The engine loads a source into off-heap memory when the job is submitted
 * and frees it when the job ends: {@link #fashionMnist}, {@link #mnist}, {@link #idx} files, in-memory
 * {@link #arrays}, or the user's own {@link #fromIterator iterator}. {@link #limit} keeps the first N examples.
 */
public final class DataSource {
    /** Loads the source; sources that can read a prefix cheaply (IDX files) read only the first {@code first}. */
    private interface Loader {
        Dataset load(int first) throws IOException;
    }

    /** A loader that always loads everything ({@link #limit} then copies the first examples out). */
    private interface WholeLoader {
        Dataset load() throws IOException;
    }

    private static Loader whole(WholeLoader l) {
        return first -> l.load();
    }

    private final String name;
    private final Loader loader;

    private DataSource(String name, Loader loader) {
        this.name = name;
        this.loader = loader;
    }

    /** Fashion-MNIST from the data folder ({@code dataDir} null: $DESCENT_DATA_DIR or the checkout's data/). */
    public static DataSource fashionMnist(Split split, Path dataDir) {
        return new DataSource("fashion-mnist/" + split.name().toLowerCase(java.util.Locale.ROOT),
                first -> IdxDatasets.load(IdxDatasets.Corpus.FASHION_MNIST, split.engine(), dataDir, first));
    }

    public static DataSource fashionMnist(Split split) {
        return fashionMnist(split, null);
    }

    /** MNIST from the data folder ({@code dataDir} null: resolved as for Fashion-MNIST). */
    public static DataSource mnist(Split split, Path dataDir) {
        return new DataSource("mnist/" + split.name().toLowerCase(java.util.Locale.ROOT),
                first -> IdxDatasets.load(IdxDatasets.Corpus.MNIST, split.engine(), dataDir, first));
    }

    public static DataSource mnist(Split split) {
        return mnist(split, null);
    }

    /** A pair of IDX files (raw or .gz): images [n, rows, cols] uint8 scaled to [0, 1], labels [n] {@literal <} classes. */
    public static DataSource idx(String name, Path images, Path labels, int rows, int cols, int classes) {
        return new DataSource(name, first -> IdxReader.readDataset(name, images, labels, rows, cols, classes, first));
    }

    /** In-memory examples: {@code features[i]} all of one length, {@code labels[i]} in [0, classes). */
    public static DataSource arrays(String name, float[][] features, int[] labels, int classes) {
        if (features.length != labels.length) {
            throw new IllegalArgumentException(name + ": " + features.length + " feature rows but " + labels.length
                    + " labels");
        }
        if (features.length == 0) {
            throw new IllegalArgumentException(name + ": no examples");
        }
        int f = features[0].length;
        float[] flat = new float[Math.multiplyExact(features.length, f)];
        for (int i = 0; i < features.length; i++) {
            if (features[i].length != f) {
                throw new IllegalArgumentException(name + ": row " + i + " has " + features[i].length
                        + " features, row 0 has " + f);
            }
            System.arraycopy(features[i], 0, flat, i * f, f);
        }
        int[] y = labels.clone();
        return new DataSource(name, whole(() -> Dataset.of(name, flat, y, new int[]{f}, classes)));
    }

    /**
     * The user's own examples, read once when the job starts (all of them are copied off-heap; an iterator can be
     * consumed only once, so such a source serves one job).
     */
    public static DataSource fromIterator(String name, Iterator<Sample> samples, int featureSize, int classes) {
        return new DataSource(name, whole(() -> {
            java.util.List<Sample> all = new java.util.ArrayList<>();
            samples.forEachRemaining(all::add);
            float[][] x = new float[all.size()][];
            int[] y = new int[all.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = all.get(i).features();
                y[i] = all.get(i).label();
                if (x[i].length != featureSize) {
                    throw new IllegalArgumentException(name + ": sample " + i + " has " + x[i].length
                            + " features, expected " + featureSize);
                }
            }
            return arrays(name, x, y, classes).loader.load(Integer.MAX_VALUE);
        }));
    }

    /** A source over a generated engine dataset, made afresh for every job (package use: synthetic sets). */
    static DataSource generated(String name, java.util.function.Supplier<Dataset> make) {
        return new DataSource(name, whole(make::get));
    }

    /** The first {@code n} examples of this source (all of them when it has fewer). */
    public DataSource limit(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("limit must be >= 1, was " + n);
        }
        Loader inner = loader;
        return new DataSource(name + "[:" + n + "]", first -> {
            Dataset all = inner.load(Math.min(first, n)); // IDX files: only the first n are read
            if (all.count() <= n) {
                return all;
            }
            try (all) {
                return all.subset(0, n);
            }
        });
    }

    /**
     * This source loaded once and shared read-only by every job that uses it at the same time: the first job loads
     * it, later ones borrow the same off-heap copy, and the last one to end frees it (the next job loads it again).
     * For a service that runs many jobs on one dataset ({@code limit} of a shared source copies its first N
     * examples per job).
     */
    public DataSource shared() {
        Loader inner = loader;
        Object lock = new Object();
        Dataset[] owner = new Dataset[1];
        int[] users = new int[1];
        return new DataSource(name, whole(() -> {
            synchronized (lock) {
                if (owner[0] == null) {
                    owner[0] = inner.load(Integer.MAX_VALUE);
                }
                users[0]++;
                return owner[0].view(() -> {
                    synchronized (lock) {
                        if (--users[0] == 0) {
                            owner[0].close();
                            owner[0] = null;
                        }
                    }
                });
            }
        }));
    }

    public String name() {
        return name;
    }

    /** Loads the examples off-heap; the caller owns (closes) the result. */
    Dataset open() {
        try {
            return loader.load(Integer.MAX_VALUE);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
