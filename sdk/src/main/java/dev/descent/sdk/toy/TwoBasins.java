package dev.descent.sdk.toy;

/**
 * A 2-D landscape with a wide, deep (global) basin and a narrow, shallower (local) one, on a weak quadratic bowl:
 * <pre>
 *   L(x) = bowl/2·|x|² − wideDepth·exp(−|x − wide|² / (2·wideWidth²)) − narrowDepth·exp(−|x − narrow|² / (2·narrowWidth²))
 * </pre>
 * {@link #standard()} puts the wide basin near (0.9, 0.45) (curvature ~1.6 after smoothing) and the narrow one near
 * (−1.1, −0.55) (curvature ~5–6): a step size can be stable in one and unstable in the other.
 */
public record TwoBasins(double bowl, double wideX, double wideY, double wideWidth, double wideDepth, double narrowX,
                        double narrowY, double narrowWidth, double narrowDepth) implements Surface {
    public TwoBasins {
        if (!(bowl >= 0) || !(wideWidth > 0) || !(narrowWidth > 0) || !(wideDepth >= 0) || !(narrowDepth >= 0)) {
            throw new IllegalArgumentException("two basins: bowl and depths must be >= 0 and widths > 0, was bowl="
                    + bowl + " wideWidth=" + wideWidth + " wideDepth=" + wideDepth + " narrowWidth=" + narrowWidth
                    + " narrowDepth=" + narrowDepth);
        }
    }

    /** The landscape of the sgd-escape and local-divergence stories. */
    public static TwoBasins standard() {
        return new TwoBasins(0.2, 1.0, 0.5, 1.0, 1.5, -1.2, -0.6, 0.25, 0.8);
    }

    /** The finite-sum objective: this landscape shifted by {@code terms} offsets of spread {@code noise}. */
    public Objective objective(int terms, double noise, long seed) {
        return Objective.shifted(this, 2, terms, noise, seed);
    }

    /** Centre of the wide basin's Gaussian (the minimum of the objective is close to it; see {@link ToyDescent#minimum}). */
    public double[] wideCentre() {
        return new double[] {wideX, wideY};
    }

    /** Centre of the narrow basin's Gaussian. */
    public double[] narrowCentre() {
        return new double[] {narrowX, narrowY};
    }

    @Override
    public double value(double[] x, double[] grad) {
        double x0 = x[0];
        double x1 = x[1];
        double wx = x0 - wideX;
        double wy = x1 - wideY;
        double nx = x0 - narrowX;
        double ny = x1 - narrowY;
        double ew = wideDepth * Math.exp(-(wx * wx + wy * wy) / (2 * wideWidth * wideWidth));
        double en = narrowDepth * Math.exp(-(nx * nx + ny * ny) / (2 * narrowWidth * narrowWidth));
        if (grad != null) {
            double cw = ew / (wideWidth * wideWidth);
            double cn = en / (narrowWidth * narrowWidth);
            grad[0] = bowl * x0 + cw * wx + cn * nx;
            grad[1] = bowl * x1 + cw * wy + cn * ny;
        }
        return 0.5 * bowl * (x0 * x0 + x1 * x1) - ew - en;
    }
}
