package dev.descent.sdk;

import dev.descent.engine.data.IdxDatasets;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The standard image corpora Descent reads from its data folder (IDX files, raw or .gz; fetch them with
 * {@code descent data fetch}): 28x28 grey images of 10 classes.
 */
public enum Corpus {
    FASHION_MNIST(IdxDatasets.Corpus.FASHION_MNIST),
    MNIST(IdxDatasets.Corpus.MNIST);

    private final IdxDatasets.Corpus engine;

    Corpus(IdxDatasets.Corpus engine) {
        this.engine = engine;
    }

    /** {@code fashion-mnist} (or {@code fashionmnist}, {@code fashion_mnist}) or {@code mnist}. */
    public static Corpus parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "fashion-mnist", "fashionmnist" -> FASHION_MNIST;
            case "mnist" -> MNIST;
            default -> throw new IllegalArgumentException("unknown dataset '" + name
                    + "'; expected fashion-mnist or mnist");
        };
    }

    /** Human-readable name: {@code Fashion-MNIST}, {@code MNIST}. */
    public String displayName() {
        return engine.displayName();
    }

    /** Shape of one example: {@code [1, 28, 28]}. */
    public int[] sampleShape() {
        return new int[] {1, IdxDatasets.ROWS, IdxDatasets.COLS};
    }

    /** Number of classes (10). */
    public int classes() {
        return IdxDatasets.CLASSES;
    }

    /** A split of this corpus from {@code dataDir} (null: $DESCENT_DATA_DIR or the checkout's data/). */
    public DataSource source(Split split, Path dataDir) {
        return this == MNIST ? DataSource.mnist(split, dataDir) : DataSource.fashionMnist(split, dataDir);
    }

    /**
     * Examples in a split, read from its small label file alone (the images are not loaded). Throws
     * {@link DescentException} naming the files looked for (and how to fetch them) when the split is missing or
     * malformed.
     */
    public int count(Split split, Path dataDir) {
        try {
            return IdxDatasets.count(engine, split.engine(), dataDir);
        } catch (IOException e) {
            throw new DescentException(e.getMessage(), e);
        }
    }
}
