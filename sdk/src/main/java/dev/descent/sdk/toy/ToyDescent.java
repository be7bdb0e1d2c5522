package dev.descent.sdk.toy;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Runs (stochastic) gradient descent on an {@link Objective}: {@code batch >= terms} is full-batch gradient descent;
 * a smaller batch draws its terms without replacement from a permutation reshuffled every pass over the terms
 * (as an epoch of SGD does), seeded. Also: the local minimum near a point, and the Hessian's eigenvalues there.
 */
public final class ToyDescent {
    private ToyDescent() {
    }

    /**
     * {@code steps} steps x ← x − lr·g from {@code start}, g the mean gradient of {@code batch} terms. Stops early
     * (shorter trajectory) if x stops being finite. Seeded: the same arguments give the same path.
     */
    public static ToyTrajectory run(Objective f, double[] start, double lr, int batch, int steps, long seed) {
        int d = f.dimension();
        int n = f.terms();
        if (start.length != d) {
            throw new IllegalArgumentException("start has " + start.length + " coordinates, the objective " + d);
        }
        if (!(lr > 0) || Double.isInfinite(lr) || batch < 1 || steps < 0) {
            throw new IllegalArgumentException("need lr > 0, batch >= 1 and steps >= 0, was lr=" + lr + " batch="
                    + batch + " steps=" + steps);
        }
        int b = Math.min(batch, n);
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        int[] idx = new int[b];
        int cursor = n;
        SplittableRandom rng = new SplittableRandom(seed);
        double[] g = new double[d];
        double[] scratch = new double[d];
        double[] x = start.clone();
        double[][] pts = new double[steps + 1][];
        double[] losses = new double[steps + 1];
        pts[0] = x.clone();
        losses[0] = f.value(x);
        int done = 0;
        for (int t = 0; t < steps; t++) {
            if (b == n) {
                System.arraycopy(order, 0, idx, 0, n);
            } else {
                for (int k = 0; k < b; k++) {
                    if (cursor == n) {
                        shuffle(order, rng);
                        cursor = 0;
                    }
                    idx[k] = order[cursor++];
                }
            }
            f.batch(x, idx, b, g, scratch);
            boolean finite = true;
            for (int j = 0; j < d; j++) {
                x[j] -= lr * g[j];
                finite &= Double.isFinite(x[j]);
            }
            if (!finite) {
                break;
            }
            pts[t + 1] = x.clone();
            losses[t + 1] = f.value(x);
            done = t + 1;
        }
        return new ToyTrajectory(Arrays.copyOf(pts, done + 1), Arrays.copyOf(losses, done + 1), lr, b);
    }

    private static void shuffle(int[] a, SplittableRandom rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    /**
     * The local minimum of f reached from {@code start} by full-batch gradient descent with step {@code lr} (small
     * enough to be stable there), until the gradient norm is below 1e-10 or 200,000 steps; throws if it does not
     * settle.
     */
    public static double[] minimum(Objective f, double[] start, double lr) {
        double[] x = start.clone();
        double[] g = new double[f.dimension()];
        for (int t = 0; t < 200_000; t++) {
            f.gradient(x, g);
            double norm = 0;
            for (double v : g) {
                norm += v * v;
            }
            if (Math.sqrt(norm) < 1e-10) {
                return x;
            }
            for (int j = 0; j < x.length; j++) {
                x[j] -= lr * g[j];
            }
        }
        throw new IllegalStateException("gradient descent from " + Arrays.toString(start) + " with lr " + lr
                + " did not settle (gradient norm still >= 1e-10 after 200000 steps): lower lr or move the start");
    }

    /** Eigenvalues of the Hessian of f at x (finite differences of the gradient, step 1e-5), ascending. */
    public static double[] hessianEigenvalues(Objective f, double[] x) {
        return symmetricEigenvalues(f.hessian(x, 1e-5));
    }

    /** Eigenvalues of a symmetric matrix (cyclic Jacobi rotations), ascending. */
    static double[] symmetricEigenvalues(double[][] m) {
        int n = m.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = m[i].clone();
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += a[p][q] * a[p][q];
                }
            }
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                }
            }
        }
        double[] ev = new double[n];
        for (int i = 0; i < n; i++) {
            ev[i] = a[i][i];
        }
        Arrays.sort(ev);
        return ev;
    }
}
