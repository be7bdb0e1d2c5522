package dev.descent.engine.linalg;

import java.util.ArrayList;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.NormOps_DDRM;

/**
 * Random-Fourier-feature regression for one-hot targets at a series of feature counts N (Belkin et al. 2019,
 * "Reconciling modern machine learning practice and the bias-variance trade-off"): for each N, the
 * minimum-norm least-squares solution and the ridge solutions, with train and test squared loss, zero-one error
 * and the norm of the coefficients.
 *
 * <p>The features are nested ({@link RandomFourierFeatures}): the sweep draws once for the largest N, computes
 * the features of every train and test input once, and accumulates the train Gram matrix {@code ZZᵀ} feature
 * block by feature block, so that the N ≥ rows points cost one eigendecomposition each on top of a single pass
 * over the features (below the threshold the smaller {@code ZᵀZ} is formed directly).
 */
public final class RandomFeatureSweep {
    /** What a sweep computes. */
    public record Config(int[] featureCounts, double[] ridges, double bandwidth, long seed, boolean svd) {
        public Config {
            featureCounts = featureCounts.clone();
            ridges = ridges.clone();
            if (featureCounts.length == 0) {
                throw new IllegalArgumentException("no feature counts");
            }
            for (int i = 0; i < featureCounts.length; i++) {
                if (featureCounts[i] < 1 || (i > 0 && featureCounts[i] <= featureCounts[i - 1])) {
                    throw new IllegalArgumentException("feature counts must be >= 1 and strictly increasing, were "
                            + java.util.Arrays.toString(featureCounts));
                }
            }
            for (double r : ridges) {
                if (!(r > 0) || !Double.isFinite(r)) {
                    throw new IllegalArgumentException("ridge values must be finite and > 0, got " + r);
                }
            }
        }
    }

    /** One solution: {@code ridge} 0 is the minimum-norm one. MSE is the mean over examples of Σ_classes (f - y)². */
    public record Point(int features, double ridge, double trainMse, double testMse, double trainError,
                        double testError, double coefNorm, int rank, double minSingular) {
    }

    /** Called after each feature count with the points solved for it; {@code done} of {@code total} counts. */
    public interface Progress {
        void onFeatureCount(int done, int total, List<Point> points);
    }

    private RandomFeatureSweep() {
    }

    /**
     * Runs the sweep.
     *
     * @param trainX [trainRows, inputSize]; {@code trainY} labels in [0, classes)
     * @param testX  [testRows, inputSize]; {@code testY} labels in [0, classes)
     * @return for each feature count, the minimum-norm point followed by one point per ridge value
     */
    public static List<Point> run(float[] trainX, int[] trainY, float[] testX, int[] testY, int inputSize,
                                  int classes, Config config, Progress progress) {
        int n = trainY.length;
        int m = testY.length;
        if (trainX.length != (long) n * inputSize || testX.length != (long) m * inputSize) {
            throw new IllegalArgumentException("inputs do not match labels x inputSize " + inputSize + ": train "
                    + trainX.length + " values for " + n + " labels, test " + testX.length + " for " + m);
        }
        int[] counts = config.featureCounts();
        int max = counts[counts.length - 1];
        RandomFourierFeatures rff = new RandomFourierFeatures(inputSize, max, config.bandwidth(), config.seed());
        double[] ztrain = rff.cosines(trainX, n);   // [n, max]
        double[] ztest = rff.cosines(testX, m);     // [m, max]
        DMatrixRMaj y = oneHot(trainY, classes);
        DMatrixRMaj gramRows = new DMatrixRMaj(n, n);  // Σ_j c_j c_jᵀ over the unscaled features so far
        int accumulated = 0;
        List<Point> all = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            int features = counts[i];
            double scale = RandomFourierFeatures.scale(features);
            DMatrixRMaj z = columns(ztrain, n, max, features, scale);
            SpectralLeastSquares ls;
            if (config.svd()) {
                ls = SpectralLeastSquares.svd(z);
            } else if (features >= n) {
                DMatrixRMaj block = columns(ztrain, n, max, accumulated, features);
                CommonOps_DDRM.multAddTransB(block, block, gramRows);
                accumulated = features;
                DMatrixRMaj g = gramRows.copy();
                CommonOps_DDRM.scale(scale * scale, g);
                ls = SpectralLeastSquares.gram(z, g);
            } else {
                ls = SpectralLeastSquares.gram(z);
            }
            double[] sv = ls.singularValues();
            double minSingular = sv[sv.length - 1];
            DMatrixRMaj zt = columns(ztest, m, max, features, scale);
            List<Point> points = new ArrayList<>();
            double[] ridges = new double[config.ridges().length + 1];
            System.arraycopy(config.ridges(), 0, ridges, 1, ridges.length - 1);
            for (double ridge : ridges) {
                DMatrixRMaj a = ls.solve(y, ridge);
                double[] train = evaluate(z, a, trainY);
                double[] test = evaluate(zt, a, testY);
                points.add(new Point(features, ridge, train[0], test[0], train[1], test[1],
                        NormOps_DDRM.normF(a), ls.rank(), minSingular));
            }
            all.addAll(points);
            if (progress != null) {
                progress.onFeatureCount(i + 1, counts.length, points);
            }
        }
        return all;
    }

    /** Columns [0, features) of a row-major [rows, stride] array, times {@code scale}. */
    private static DMatrixRMaj columns(double[] src, int rows, int stride, int features, double scale) {
        DMatrixRMaj z = new DMatrixRMaj(rows, features);
        for (int r = 0; r < rows; r++) {
            int s = r * stride;
            int d = r * features;
            for (int j = 0; j < features; j++) {
                z.data[d + j] = src[s + j] * scale;
            }
        }
        return z;
    }

    /** Columns [from, to) of a row-major [rows, stride] array, unscaled. */
    private static DMatrixRMaj columns(double[] src, int rows, int stride, int from, int to) {
        DMatrixRMaj z = new DMatrixRMaj(rows, to - from);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(src, r * stride + from, z.data, r * (to - from), to - from);
        }
        return z;
    }

    /** One-hot targets [labels, classes]. */
    public static DMatrixRMaj oneHot(int[] labels, int classes) {
        DMatrixRMaj y = new DMatrixRMaj(labels.length, classes);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of example " + i + " is not in [0, "
                        + classes + ")");
            }
            y.unsafe_set(i, labels[i], 1.0);
        }
        return y;
    }

    /** {mse, error} of predictions Z·A against labels: MSE as the mean over examples of Σ_classes (f - y)². */
    static double[] evaluate(DMatrixRMaj z, DMatrixRMaj a, int[] labels) {
        DMatrixRMaj f = new DMatrixRMaj(z.numRows, a.numCols);
        CommonOps_DDRM.mult(z, a, f);
        double sse = 0;
        int wrong = 0;
        for (int r = 0; r < f.numRows; r++) {
            int best = 0;
            for (int c = 0; c < f.numCols; c++) {
                double v = f.unsafe_get(r, c);
                double d = v - (c == labels[r] ? 1 : 0);
                sse += d * d;
                if (v > f.unsafe_get(r, best)) {
                    best = c;
                }
            }
            wrong += best == labels[r] ? 0 : 1;
        }
        return new double[] {sse / f.numRows, (double) wrong / f.numRows};
    }
}
