package dev.descent.sdk.toy;

import java.util.SplittableRandom;

/**
 * A differentiable objective with finite-sum structure: f(x) = (1/n) Σ_{i<n} f_i(x) over x in R^d, like a
 * training loss over n examples. Full-batch gradient descent follows ∇f; mini-batch SGD follows the mean gradient
 * of a few terms, whose spread around ∇f is the real noise of the finite sum.
 *
 * <p>Bring your own surface: implement {@link #term} (and {@link #dimension}, {@link #terms}), build one from a
 * lambda with {@link #ofTerms}, or shift a base {@link Surface} by n random offsets with {@link #shifted} (each
 * "example" sees the landscape slightly moved, as each data point sees a slightly different loss). Everything is
 * in double precision, so Hessians by finite differences of the gradient are accurate.
 */
public interface Objective {

    /** Dimension d of a point. */
    int dimension();

    /** Number n of terms. */
    int terms();

    /** f_i(x); when {@code grad} is non-null, also writes ∇f_i(x) into it. */
    double term(int i, double[] x, double[] grad);

    /** f(x), the mean of all terms. */
    default double value(double[] x) {
        double s = 0;
        for (int i = 0; i < terms(); i++) {
            s += term(i, x, null);
        }
        return s / terms();
    }

    /**
     * Mean value and gradient of the terms {@code idx[0..count)} at {@code x}: writes the gradient into {@code out}
     * and returns the mean value. {@code scratch} has length d.
     */
    default double batch(double[] x, int[] idx, int count, double[] out, double[] scratch) {
        java.util.Arrays.fill(out, 0);
        double s = 0;
        for (int k = 0; k < count; k++) {
            s += term(idx[k], x, scratch);
            for (int j = 0; j < out.length; j++) {
                out[j] += scratch[j];
            }
        }
        for (int j = 0; j < out.length; j++) {
            out[j] /= count;
        }
        return s / count;
    }

    /** f(x), and ∇f(x) written into {@code out}. */
    default double gradient(double[] x, double[] out) {
        int n = terms();
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        return batch(x, all, n, out, new double[dimension()]);
    }

    /**
     * The Hessian of f at x by central differences of the exact gradient (step {@code h}, e.g. 1e-5),
     * symmetrized: [d][d].
     */
    default double[][] hessian(double[] x, double h) {
        int d = dimension();
        double[][] hm = new double[d][d];
        double[] gp = new double[d];
        double[] gm = new double[d];
        double[] p = x.clone();
        for (int j = 0; j < d; j++) {
            p[j] = x[j] + h;
            gradient(p, gp);
            p[j] = x[j] - h;
            gradient(p, gm);
            p[j] = x[j];
            for (int i = 0; i < d; i++) {
                hm[i][j] = (gp[i] - gm[i]) / (2 * h);
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < i; j++) {
                double m = 0.5 * (hm[i][j] + hm[j][i]);
                hm[i][j] = m;
                hm[j][i] = m;
            }
        }
        return hm;
    }

    /** A term function of (i, x, grad) as an objective of dimension d with n terms. */
    static Objective ofTerms(int dimension, int terms, Term term) {
        if (dimension < 1 || terms < 1) {
            throw new IllegalArgumentException("an objective needs dimension >= 1 and terms >= 1, was dimension="
                    + dimension + " terms=" + terms);
        }
        return new Objective() {
            @Override
            public int dimension() {
                return dimension;
            }

            @Override
            public int terms() {
                return terms;
            }

            @Override
            public double term(int i, double[] x, double[] grad) {
                return term.value(i, x, grad);
            }
        };
    }

    /**
     * f_i(x) = base(x − s_i) for n offsets s_i drawn from N(0, noise²·I) with {@code seed} and then centred (their
     * mean is 0). The mean f is {@code base} smoothed over the offsets; a mini-batch gradient is the gradient of a
     * few shifted copies. {@code noise} 0 gives n identical terms (SGD = GD).
     */
    static Objective shifted(Surface base, int dimension, int terms, double noise, long seed) {
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("noise must be finite and >= 0, was " + noise);
        }
        if (dimension < 1 || terms < 1) {
            throw new IllegalArgumentException("a shifted objective needs dimension >= 1 and terms >= 1, was dimension="
                    + dimension + " terms=" + terms);
        }
        SplittableRandom r = new SplittableRandom(seed);
        double[][] s = new double[terms][dimension];
        double[] mean = new double[dimension];
        for (double[] row : s) {
            for (int j = 0; j < dimension; j++) {
                row[j] = r.nextGaussian() * noise;
                mean[j] += row[j] / terms;
            }
        }
        for (double[] row : s) {
            for (int j = 0; j < dimension; j++) {
                row[j] -= mean[j];
            }
        }
        ThreadLocal<double[]> shiftedPoint = ThreadLocal.withInitial(() -> new double[dimension]);
        return ofTerms(dimension, terms, (i, x, grad) -> {
            double[] y = shiftedPoint.get();
            for (int j = 0; j < dimension; j++) {
                y[j] = x[j] - s[i][j];
            }
            return base.value(y, grad);
        });
    }

    /** One term of an objective as a function. */
    @FunctionalInterface
    interface Term {
        /** f_i(x); when {@code grad} is non-null, also writes ∇f_i(x) into it. */
        double value(int i, double[] x, double[] grad);
    }
}
