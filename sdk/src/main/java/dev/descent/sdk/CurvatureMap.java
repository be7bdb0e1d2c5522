package dev.descent.sdk;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The extreme Hessian eigenvalues over a plane of the landscape (Li et al. 2018, Fig. 7), from
 * {@link Curvature#plane}: at every grid point {@code (xs[i], ys[j])}, λ_min and λ_max of the Hessian of the loss on
 * {@code examples} training examples ({@code [j][i]} arrays), by {@code lanczosSteps} Lanczos steps.
 *
 * @param loss the loss at each point on the same examples
 */
public record CurvatureMap(double[] xs, double[] ys, double[][] lambdaMin, double[][] lambdaMax, double[][] loss,
                           int examples, int lanczosSteps, double seconds) {
    /**
     * Li et al.'s non-convexity |λ_min / λ_max| where the Hessian has negative curvature (λ_min &lt; 0), 0 where it
     * has none (locally convex), NaN where λ_max is not positive.
     */
    public double[][] negativeRatio() {
        double[][] r = new double[ys.length][xs.length];
        for (int j = 0; j < ys.length; j++) {
            for (int i = 0; i < xs.length; i++) {
                double lo = lambdaMin[j][i];
                double hi = lambdaMax[j][i];
                r[j][i] = !(hi > 0) ? Double.NaN : lo < 0 ? -lo / hi : 0;
            }
        }
        return r;
    }

    /** Fraction of the grid points whose {@link #negativeRatio()} is above {@code threshold} (NaN points count). */
    public double nonconvexFraction(double threshold) {
        double[][] r = negativeRatio();
        int above = 0;
        for (double[] row : r) {
            for (double v : row) {
                if (!(v <= threshold)) {
                    above++;
                }
            }
        }
        return (double) above / (xs.length * ys.length);
    }

    /** {@code a,b,loss,lambda_min,lambda_max,negative_ratio} per point. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("a,b,loss,lambda_min,lambda_max,negative_ratio\n");
        double[][] r = negativeRatio();
        for (int j = 0; j < ys.length; j++) {
            for (int i = 0; i < xs.length; i++) {
                sb.append(String.format(Locale.ROOT, "%.6g,%.6g,%.8g,%.8g,%.8g,%.6g%n", xs[i], ys[j], loss[j][i],
                        lambdaMin[j][i], lambdaMax[j][i], r[j][i]));
            }
        }
        return sb.toString();
    }

    public void writeCsv(Path csv) {
        try {
            AtomicFiles.writeString(csv, toCsv());
        } catch (IOException e) {
            throw new DescentException("cannot write " + csv + ": " + e.getMessage(), e);
        }
    }
}
