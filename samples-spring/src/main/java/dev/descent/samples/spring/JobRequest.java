package dev.descent.samples.spring;

import java.util.List;

/**
 * A job request: every field optional, every value capped (one request must not be able to claim the machine).
 *
 * @param name       job name, 1-64 characters of [A-Za-z0-9._-] (default: {@code fmnist})
 * @param hidden     hidden layer widths, 1-4 layers of 1-2048 units (default [256, 128])
 * @param epochs     1-20 (default 1)
 * @param batchSize  1-4096 (default 128)
 * @param lr         (0, 10] (default 0.02)
 * @param trainLimit training examples, 1-60000 (default 60000)
 * @param seed       any (default 1)
 */
record JobRequest(String name, List<Integer> hidden, Integer epochs, Integer batchSize, Double lr, Integer trainLimit,
                  Long seed) {
    /** Throws IllegalArgumentException (400) naming the field, the value and what was expected. */
    void validate() {
        if (name != null && !name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("name must be 1-64 characters of [A-Za-z0-9._-], was '" + name + "'");
        }
        if (hidden != null) {
            if (hidden.isEmpty() || hidden.size() > 4) {
                throw new IllegalArgumentException("hidden must list 1 to 4 layer widths, had " + hidden.size());
            }
            for (Integer w : hidden) {
                range("hidden width", w, 1, 2048);
            }
        }
        range("epochs", epochs, 1, 20);
        range("batchSize", batchSize, 1, 4096);
        range("trainLimit", trainLimit, 1, 60000);
        if (lr != null && !(lr > 0 && lr <= 10)) {
            throw new IllegalArgumentException("lr must be in (0, 10], was " + lr);
        }
    }

    private static void range(String field, Integer v, int min, int max) {
        if (v != null && (v < min || v > max)) {
            throw new IllegalArgumentException(field + " must be in [" + min + ", " + max + "], was " + v);
        }
        if (v == null && field.equals("hidden width")) {
            throw new IllegalArgumentException("hidden widths must be numbers, was null");
        }
    }

    @Override
    public String name() {
        return name == null ? "fmnist" : name;
    }

    int[] hiddenOrDefault() {
        return hidden == null ? new int[] {256, 128} : hidden.stream().mapToInt(Integer::intValue).toArray();
    }

    int epochsOrDefault() {
        return epochs == null ? 1 : epochs;
    }

    int batchSizeOrDefault() {
        return batchSize == null ? 128 : batchSize;
    }

    double lrOrDefault() {
        return lr == null ? 0.02 : lr;
    }

    int trainLimitOrDefault() {
        return trainLimit == null ? 60000 : trainLimit;
    }

    long seedOrDefault() {
        return seed == null ? 1 : seed;
    }
}
