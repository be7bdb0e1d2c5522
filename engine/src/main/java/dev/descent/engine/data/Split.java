package dev.descent.engine.data;

/** Which part of a dataset: the training set or the held-out test set. */
public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String filePrefix;

    Split(String filePrefix) {
        this.filePrefix = filePrefix;
    }

    /** Prefix of the IDX file names of this split: {@code train} or {@code t10k}. */
    public String filePrefix() {
        return filePrefix;
    }

    /** Lower-case name, as used in metric labels and dataset names: {@code train} or {@code test}. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
