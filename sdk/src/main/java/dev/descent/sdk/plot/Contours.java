package dev.descent.sdk.plot;

import java.util.ArrayList;
import java.util.List;

/**
 * Contour lines of a grid by marching squares: for a level c, every cell whose corners straddle c contributes one
 * segment (two for a saddle, disambiguated by the cell's mean), with end points linearly interpolated along the
 * cell's edges.
 */
public final class Contours {
    private Contours() {
    }

    /** Segments {x1, y1, x2, y2} of the level {@code c} of {@code z[ny][nx]} on the grid {@code xs × ys}. */
    public static List<double[]> segments(double[] xs, double[] ys, double[][] z, double c) {
        List<double[]> out = new ArrayList<>();
        for (int j = 0; j + 1 < ys.length; j++) {
            for (int i = 0; i + 1 < xs.length; i++) {
                double z00 = z[j][i];
                double z10 = z[j][i + 1];
                double z11 = z[j + 1][i + 1];
                double z01 = z[j + 1][i];
                if (!(Double.isFinite(z00) && Double.isFinite(z10) && Double.isFinite(z11) && Double.isFinite(z01))) {
                    continue;
                }
                // crossings on the four edges: bottom (00-10), right (10-11), top (01-11), left (00-01)
                double[][] p = new double[4][];
                p[0] = cross(xs[i], ys[j], z00, xs[i + 1], ys[j], z10, c);
                p[1] = cross(xs[i + 1], ys[j], z10, xs[i + 1], ys[j + 1], z11, c);
                p[2] = cross(xs[i], ys[j + 1], z01, xs[i + 1], ys[j + 1], z11, c);
                p[3] = cross(xs[i], ys[j], z00, xs[i], ys[j + 1], z01, c);
                int n = 0;
                for (double[] q : p) {
                    n += q == null ? 0 : 1;
                }
                if (n == 2) {
                    double[] a = null;
                    for (double[] q : p) {
                        if (q != null) {
                            if (a == null) {
                                a = q;
                            } else {
                                out.add(new double[] {a[0], a[1], q[0], q[1]});
                            }
                        }
                    }
                } else if (n == 4) {
                    boolean centreAbove = (z00 + z10 + z11 + z01) / 4 >= c;
                    boolean z00Above = z00 >= c;
                    if (centreAbove == z00Above) { // 00 joins the centre: cut off corners 10 and 01
                        out.add(new double[] {p[0][0], p[0][1], p[1][0], p[1][1]});
                        out.add(new double[] {p[2][0], p[2][1], p[3][0], p[3][1]});
                    } else {
                        out.add(new double[] {p[0][0], p[0][1], p[3][0], p[3][1]});
                        out.add(new double[] {p[1][0], p[1][1], p[2][0], p[2][1]});
                    }
                }
            }
        }
        return out;
    }

    private static double[] cross(double x1, double y1, double z1, double x2, double y2, double z2, double c) {
        boolean a = z1 >= c;
        boolean b = z2 >= c;
        if (a == b) {
            return null;
        }
        double t = (c - z1) / (z2 - z1);
        return new double[] {x1 + t * (x2 - x1), y1 + t * (y2 - y1)};
    }

    /** {@code n} levels evenly spaced strictly inside [lo, hi]. */
    public static double[] levels(double lo, double hi, int n) {
        double[] l = new double[n];
        for (int k = 0; k < n; k++) {
            l[k] = lo + (hi - lo) * (k + 1) / (n + 1);
        }
        return l;
    }
}
