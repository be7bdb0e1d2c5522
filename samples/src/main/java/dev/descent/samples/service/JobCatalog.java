package dev.descent.samples.service;

import dev.descent.sdk.Activation;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Split;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * What the service can train, by name: models and datasets a request may pick. Requests never carry code or
 * paths, only these names and numeric hyperparameters.
 */
public final class JobCatalog {
    /**
     * A named dataset: its training and test sources (shared: jobs running at the same time use one off-heap copy,
     * see {@link DataSource#shared()}), the per-sample shape and how many examples train and test hold (for the
     * service's memory budget).
     */
    public record DatasetEntry(DataSource train, DataSource test, int[] inputShape, int classes, int trainExamples,
                               int testExamples) {
        /** Off-heap bytes of one loaded copy of train and test (float32 features and an int32 label each). */
        public long bytes() {
            long features = 1;
            for (int d : inputShape) {
                features *= d;
            }
            return ((long) trainExamples + testExamples) * (features + 1) * Float.BYTES;
        }

        /** Bytes of the per-job copy that {@code limit} first training examples take (0: none). */
        public long limitBytes(int limit) {
            if (limit <= 0 || limit >= trainExamples) {
                return 0;
            }
            return bytes() / ((long) trainExamples + testExamples) * limit;
        }
    }

    private final Map<String, DatasetEntry> datasets = java.util.Collections.synchronizedMap(new TreeMap<>());

    /** Models by name for a given dataset (the input and output sizes come from the dataset). */
    public interface ModelFactory {
        ModelDefinition build(int[] inputShape, int classes, long seed);
    }

    private final Map<String, ModelFactory> models = java.util.Collections.synchronizedMap(new TreeMap<>());

    /** The default catalog: datasets {@code blobs} (synthetic, in memory) and {@code fashion-mnist}. */
    public static JobCatalog standard() {
        JobCatalog c = new JobCatalog();
        c.datasets.put("blobs", blobs());
        c.datasets.put("fashion-mnist", new DatasetEntry(DataSource.fashionMnist(Split.TRAIN).shared(),
                DataSource.fashionMnist(Split.TEST).shared(), new int[]{1, 28, 28}, 10, 60_000, 10_000));
        c.models.put("tiny-mlp", (in, k, seed) -> ModelDefinition.mlp().input(in).hidden(32).output(k).seed(seed)
                .build());
        c.models.put("mlp", (in, k, seed) -> ModelDefinition.mlp().input(in).hidden(256, 128)
                .activation(Activation.RELU).output(k).seed(seed).build());
        c.models.put("wide-mlp", (in, k, seed) -> ModelDefinition.mlp().input(in).hidden(1024, 1024).output(k)
                .seed(seed).build());
        return c;
    }

    private static DatasetEntry blobs() {
        int n = 2048;
        int f = 16;
        SplittableRandom r = new SplittableRandom(42);
        float[][] centres = new float[4][f];
        for (float[] c : centres) {
            for (int i = 0; i < f; i++) {
                c[i] = (float) (r.nextGaussian() * 1.5);
            }
        }
        float[][] x = new float[n][f];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(4);
            for (int j = 0; j < f; j++) {
                x[i][j] = centres[y[i]][j] + (float) (r.nextGaussian() * 0.6);
            }
        }
        float[][] tx = java.util.Arrays.copyOfRange(x, 0, 512);
        int[] ty = java.util.Arrays.copyOfRange(y, 0, 512);
        return new DatasetEntry(DataSource.arrays("blobs", x, y, 4).shared(),
                DataSource.arrays("blobs-test", tx, ty, 4).shared(), new int[]{f}, 4, n, tx.length);
    }

    /** Adds (or replaces) a dataset a request may name; a service embedding the sample registers its own. */
    public JobCatalog withDataset(String name, DatasetEntry entry) {
        datasets.put(name, java.util.Objects.requireNonNull(entry, "entry"));
        return this;
    }

    /** Adds (or replaces) a model a request may name. */
    public JobCatalog withModel(String name, ModelFactory factory) {
        models.put(name, java.util.Objects.requireNonNull(factory, "factory"));
        return this;
    }

    public DatasetEntry dataset(String name) {
        DatasetEntry d = datasets.get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown dataset '" + name + "'; known: " + datasetNames());
        }
        return d;
    }

    public ModelFactory model(String name) {
        ModelFactory m = models.get(name);
        if (m == null) {
            throw new IllegalArgumentException("unknown model '" + name + "'; known: " + modelNames());
        }
        return m;
    }

    public List<String> datasetNames() {
        synchronized (datasets) {
            return List.copyOf(datasets.keySet());
        }
    }

    public List<String> modelNames() {
        synchronized (models) {
            return List.copyOf(models.keySet());
        }
    }
}
