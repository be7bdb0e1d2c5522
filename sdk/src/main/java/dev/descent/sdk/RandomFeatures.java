package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.linalg.RandomFeatureSweep;
import java.util.ArrayList;
import java.util.List;

/**
 * Random-Fourier-feature regression solved in closed form, swept over the number of features: the experiment of
 * Belkin, Hsu, Ma &amp; Mandal (2019) that shows double descent. For each feature count N of a
 * {@link RandomFeaturePlan}, the features {@code sqrt(2/N)·cos(v·x + b)} (v Gaussian with standard deviation
 * 1/σ, b uniform in [0, 2π)) of the train inputs are fitted to one-hot targets by the minimum-norm least-squares
 * solution and by ridge regression, in double precision; train and test squared loss, zero-one error and the
 * coefficient norm are reported. The features are nested (the first N of a larger draw), so the curve is over one
 * family of features. Inputs are flattened examples (pixels in [0, 1] for the image corpora).
 *
 * <p>Cost: the train and test features of the largest N are computed once (float32 projections by the SIMD GEMM),
 * then one eigendecomposition of a min(n, N)-sized Gram matrix per N ({@link RandomFeaturePlan.Solver#GRAM});
 * memory holds both feature matrices in double: 8·(n + test)·N_max bytes.
 */
public final class RandomFeatures {
    private RandomFeatures() {
    }

    /** Runs the sweep; for each feature count, the minimum-norm point then one point per ridge, in plan order. */
    public static List<RandomFeaturePoint> sweep(RandomFeaturePlan plan) {
        try (Dataset train = plan.train().open();
             Dataset test = plan.test().open()) {
            if (train.featureSize() != test.featureSize() || train.classes() != test.classes()) {
                throw new IllegalArgumentException("train and test data differ: " + train.featureSize() + " vs "
                        + test.featureSize() + " features, " + train.classes() + " vs " + test.classes() + " classes");
            }
            int d = train.featureSize();
            RandomFeatureSweep.Config config = new RandomFeatureSweep.Config(plan.featureCounts(), plan.ridges(),
                    plan.bandwidth(), plan.seed(), plan.solver() == RandomFeaturePlan.Solver.SVD);
            List<RandomFeaturePoint> out = new ArrayList<>();
            RandomFeatureSweep.run(inputs(train), labels(train), inputs(test), labels(test), d, train.classes(), config,
                    (done, total, points) -> {
                        List<RandomFeaturePoint> mapped = new ArrayList<>(points.size());
                        for (RandomFeatureSweep.Point p : points) {
                            mapped.add(new RandomFeaturePoint(p.features(), p.ridge(), p.trainMse(), p.testMse(),
                                    p.trainError(), p.testError(), p.coefNorm(), p.rank(), p.minSingular()));
                        }
                        out.addAll(mapped);
                        if (plan.listener() != null) {
                            plan.listener().accept(List.copyOf(mapped));
                        }
                    });
            return List.copyOf(out);
        }
    }

    private static float[] inputs(Dataset data) {
        return data.features().toArray(0, Math.multiplyExact(data.count(), data.featureSize()));
    }

    private static int[] labels(Dataset data) {
        int[] y = new int[data.count()];
        for (int i = 0; i < y.length; i++) {
            y[i] = data.label(i);
        }
        return y;
    }
}
