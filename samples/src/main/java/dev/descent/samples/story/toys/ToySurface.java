package dev.descent.samples.story.toys;

import dev.descent.samples.UserError;
import dev.descent.sdk.toy.Objective;
import dev.descent.sdk.toy.ToyDescent;
import dev.descent.sdk.toy.TwoBasins;
import java.util.LinkedHashMap;
import java.util.Map;

/** The two-basin toy objective both toy stories use, its two minima and their sharpness. */
final class ToySurface {
    static final double[] X_RANGE = {-2.6, 2.6};
    static final double[] Y_RANGE = {-2.0, 2.0};
    /** The window of the 3-D views: the two basins without most of the bowl's walls. */
    static final double[] X_3D = {-2.0, 2.0};
    static final double[] Y_3D = {-1.6, 1.6};

    final TwoBasins surface = TwoBasins.standard();
    final Objective f;
    final double[] narrow;
    final double[] wide;
    final double narrowLoss;
    final double wideLoss;
    final double lambdaSharp;
    final double lambdaFlat;

    ToySurface(int terms, double noise, long seed) {
        if (terms < 1) {
            throw new UserError("--terms must be >= 1, was " + terms);
        }
        if (!(noise >= 0 && noise <= 1)) {
            throw new UserError("--noise must be in [0, 1], was " + noise);
        }
        f = surface.objective(terms, noise, seed);
        try {
            narrow = ToyDescent.minimum(f, surface.narrowCentre(), 0.02);
            wide = ToyDescent.minimum(f, surface.wideCentre(), 0.02);
        } catch (IllegalStateException e) {
            throw new UserError("the toy surface has no minimum near its basins with --noise " + noise + ": " + e.getMessage());
        }
        if (distance(narrow, wide) < 0.5) {
            throw new UserError("with --noise " + noise + " the narrow basin is smoothed away (both searches end at "
                    + fmt(wide) + "): use a smaller --noise");
        }
        narrowLoss = f.value(narrow);
        wideLoss = f.value(wide);
        double[] es = ToyDescent.hessianEigenvalues(f, narrow);
        double[] ew = ToyDescent.hessianEigenvalues(f, wide);
        lambdaSharp = es[es.length - 1];
        lambdaFlat = ew[ew.length - 1];
    }

    /** Which minimum small-step gradient descent from {@code x} reaches: "narrow", "wide" or "other". */
    String basinOf(double[] x) {
        double[] m;
        try {
            m = ToyDescent.minimum(f, x, 0.02);
        } catch (IllegalStateException e) {
            return "other";
        }
        return distance(m, wide) < 1e-3 ? "wide" : distance(m, narrow) < 1e-3 ? "narrow" : "other";
    }

    double[][] grid(int n, double[] xs, double[] ys) {
        return grid(n, xs, ys, X_RANGE, Y_RANGE);
    }

    /** f on an n x n grid over xr x yr, filling xs and ys. */
    double[][] grid(int n, double[] xs, double[] ys, double[] xr, double[] yr) {
        for (int i = 0; i < n; i++) {
            xs[i] = xr[0] + (xr[1] - xr[0]) * i / (n - 1);
            ys[i] = yr[0] + (yr[1] - yr[0]) * i / (n - 1);
        }
        double[][] z = new double[n][n];
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < n; i++) {
                z[j][i] = f.value(new double[] {xs[i], ys[j]});
            }
        }
        return z;
    }

    Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("surface", surface.toString());
        m.put("terms", f.terms());
        m.put("narrow_minimum", narrow);
        m.put("narrow_minimum_loss", narrowLoss);
        m.put("wide_minimum", wide);
        m.put("wide_minimum_loss", wideLoss);
        m.put("lambda_sharp", lambdaSharp);
        m.put("lambda_flat", lambdaFlat);
        return m;
    }

    static double distance(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (a[i] - b[i]) * (a[i] - b[i]);
        }
        return Math.sqrt(s);
    }

    static String fmt(double[] x) {
        return String.format(java.util.Locale.ROOT, "(%.3f, %.3f)", x[0], x[1]);
    }

    /** Every {@code every}-th point of a path (and its last), as (x, y) or (x, y, loss) rows. */
    static double[][] thin(double[][] pts, double[] losses, int every, boolean withLoss) {
        int n = (pts.length - 1) / every + 1 + ((pts.length - 1) % every == 0 ? 0 : 1);
        double[][] out = new double[n][];
        for (int k = 0; k < n; k++) {
            int t = Math.min(pts.length - 1, k * every);
            out[k] = withLoss ? new double[] {pts[t][0], pts[t][1], losses[t]} : new double[] {pts[t][0], pts[t][1]};
        }
        return out;
    }
}
