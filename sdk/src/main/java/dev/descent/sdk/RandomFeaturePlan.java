package dev.descent.sdk;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.List;
import java.util.TreeSet;

/**
 * A sweep of random-Fourier-feature regressions over the number of features N; run it with
 * {@link RandomFeatures#sweep(RandomFeaturePlan)}.
 *
 * <pre>{@code
 * RandomFeaturePlan plan = RandomFeaturePlan.builder()
 *         .train(DataSource.mnist(Split.TRAIN).limit(1000))
 *         .test(DataSource.mnist(Split.TEST).limit(2000))
 *         .featureCounts(RandomFeaturePlan.featureCountsAround(1000, 0.1, 10, 20))
 *         .ridges(0.1).bandwidth(5).seed(1)
 *         .build();
 * List<RandomFeaturePoint> points = RandomFeatures.sweep(plan);
 * }</pre>
 */
public final class RandomFeaturePlan {
    /** How the least-squares problems are solved (both in double precision, with EJML). */
    public enum Solver {
        /** Eigendecomposition of the smaller Gram matrix (fast; resolves singular values to ~1e-6 of the largest). */
        GRAM,
        /** SVD of the feature matrix itself (slower reference; resolves singular values to ~1e-12 of the largest). */
        SVD
    }

    private final DataSource train;
    private final DataSource test;
    private final int[] featureCounts;
    private final double[] ridges;
    private final double bandwidth;
    private final long seed;
    private final Solver solver;
    private final Consumer<List<RandomFeaturePoint>> listener;

    private RandomFeaturePlan(Builder b) {
        this.train = b.train;
        this.test = b.test;
        this.featureCounts = b.featureCounts.clone();
        this.ridges = b.ridges.clone();
        this.bandwidth = b.bandwidth;
        this.seed = b.seed;
        this.solver = b.solver;
        this.listener = b.listener;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Feature counts for a sweep across the interpolation threshold {@code n} (the number of train examples):
     * {@code coarse} log-spaced counts over [lo·n, hi·n], plus a dense band at n·{0.7, 0.8, 0.85, 0.9, 0.95, 0.98,
     * 1, 1.02, 1.05, 1.1, 1.2, 1.3, 1.5}; sorted, without duplicates.
     */
    public static int[] featureCountsAround(int n, double lo, double hi, int coarse) {
        if (n < 1 || !(lo > 0) || !(hi > lo) || coarse < 2) {
            throw new IllegalArgumentException("need n >= 1, 0 < lo < hi and coarse >= 2; got n=" + n + ", lo=" + lo
                    + ", hi=" + hi + ", coarse=" + coarse);
        }
        TreeSet<Integer> set = new TreeSet<>();
        for (int i = 0; i < coarse; i++) {
            double f = lo * Math.pow(hi / lo, i / (double) (coarse - 1));
            set.add(Math.max(1, (int) Math.round(f * n)));
        }
        for (double f : new double[] {0.7, 0.8, 0.85, 0.9, 0.95, 0.98, 1, 1.02, 1.05, 1.1, 1.2, 1.3, 1.5}) {
            if (f >= lo && f <= hi) {
                set.add(Math.max(1, (int) Math.round(f * n)));
            }
        }
        return set.stream().mapToInt(Integer::intValue).toArray();
    }

    public DataSource train() {
        return train;
    }

    public DataSource test() {
        return test;
    }

    public int[] featureCounts() {
        return featureCounts.clone();
    }

    public double[] ridges() {
        return ridges.clone();
    }

    public double bandwidth() {
        return bandwidth;
    }

    public long seed() {
        return seed;
    }

    public Solver solver() {
        return solver;
    }

    Consumer<List<RandomFeaturePoint>> listener() {
        return listener;
    }

    @Override
    public String toString() {
        return "RandomFeaturePlan[train=" + train + ", test=" + test + ", features=" + Arrays.toString(featureCounts)
                + ", ridges=" + Arrays.toString(ridges) + ", bandwidth=" + bandwidth + ", seed=" + seed + ", solver="
                + solver + "]";
    }

    /** Fluent builder; {@link #build} checks the settings and names any bad value. */
    public static final class Builder {
        private DataSource train;
        private DataSource test;
        private int[] featureCounts;
        private double[] ridges = new double[0];
        private double bandwidth = 5.0;
        private long seed = 1;
        private Solver solver = Solver.GRAM;
        private Consumer<List<RandomFeaturePoint>> listener;

        private Builder() {
        }

        /** Train examples (their count n is the interpolation threshold). */
        public Builder train(DataSource train) {
            this.train = train;
            return this;
        }

        /** Test examples, scored at every point. */
        public Builder test(DataSource test) {
            this.test = test;
            return this;
        }

        /** Feature counts N, strictly increasing, each >= 1 (see {@link #featureCountsAround}). */
        public Builder featureCounts(int... counts) {
            this.featureCounts = counts.clone();
            return this;
        }

        /** Ridge λ values (> 0) solved beside the minimum-norm solution at every N (default: none). */
        public Builder ridges(double... ridges) {
            this.ridges = ridges.clone();
            return this;
        }

        /** σ of the Gaussian kernel the features approximate, in input units (default 5, for pixels in [0, 1]). */
        public Builder bandwidth(double bandwidth) {
            this.bandwidth = bandwidth;
            return this;
        }

        /** Seed of the random directions and phases (default 1). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Solver (default {@link Solver#GRAM}). */
        public Builder solver(Solver solver) {
            this.solver = solver;
            return this;
        }

        /** Called after each feature count with its points (minimum norm first, then one per ridge). */
        public Builder listener(Consumer<List<RandomFeaturePoint>> listener) {
            this.listener = listener;
            return this;
        }

        public RandomFeaturePlan build() {
            if (train == null || test == null || featureCounts == null) {
                throw new IllegalArgumentException("a random-feature plan needs train(...), test(...) and featureCounts(...)");
            }
            if (solver == null) {
                throw new IllegalArgumentException("solver must not be null");
            }
            if (featureCounts.length == 0) {
                throw new IllegalArgumentException("featureCounts must not be empty");
            }
            for (int i = 0; i < featureCounts.length; i++) {
                if (featureCounts[i] < 1 || (i > 0 && featureCounts[i] <= featureCounts[i - 1])) {
                    throw new IllegalArgumentException("featureCounts must be >= 1 and strictly increasing, were "
                            + Arrays.toString(featureCounts));
                }
            }
            for (double r : ridges) {
                if (!(r > 0) || !Double.isFinite(r)) {
                    throw new IllegalArgumentException("ridge values must be finite and > 0, got " + r);
                }
            }
            if (!(bandwidth > 0) || !Double.isFinite(bandwidth)) {
                throw new IllegalArgumentException("bandwidth must be a finite number > 0, was " + bandwidth);
            }
            return new RandomFeaturePlan(this);
        }
    }
}
