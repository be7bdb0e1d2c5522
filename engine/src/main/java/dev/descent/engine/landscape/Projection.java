package dev.descent.engine.landscape;

import java.util.Locale;

/**
 * Where a landscape is evaluated: points {@code w(a, b) = base + a·d1 + b·d2} on a grid of {@code xs × ys}
 * coordinates (a line has one {@code b = 0} and no d2). Point {@code k} is {@code (xs[k % nx], ys[k / nx])}.
 *
 * <ul>
 *   <li>{@link #line}: L(w + a·d), a in [-range, range];</li>
 *   <li>{@link #interpolation}: L((1-t)·w0 + t·w1) = L(w0 + t·(w1 - w0)), t in [-extend, 1 + extend];</li>
 *   <li>{@link #plane}: L(w + a·d1 + b·d2) on a square grid over [-range, range]².</li>
 * </ul>
 */
public record Projection(Kind kind, double[] xs, double[] ys) {
    /** The three projections. */
    public enum Kind {
        LINE, INTERPOLATION, PLANE;

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Projection {
        if (xs.length < 1 || ys.length < 1) {
            throw new IllegalArgumentException("a projection needs at least one point, was " + xs.length + " x "
                    + ys.length);
        }
        if (kind != Kind.PLANE && ys.length != 1) {
            throw new IllegalArgumentException(kind + " projections are one-dimensional");
        }
        xs = xs.clone();
        ys = ys.clone();
    }

    public static Projection line(double range, int points) {
        checkRange(range);
        return new Projection(Kind.LINE, linspace(-range, range, points), new double[] {0});
    }

    public static Projection interpolation(double extend, int points) {
        if (!(extend >= 0) || Double.isInfinite(extend)) {
            throw new IllegalArgumentException("extension beyond the end points must be finite and >= 0, was "
                    + extend);
        }
        return new Projection(Kind.INTERPOLATION, linspace(-extend, 1 + extend, points), new double[] {0});
    }

    public static Projection plane(double range, int grid) {
        checkRange(range);
        double[] g = linspace(-range, range, grid);
        return new Projection(Kind.PLANE, g, g);
    }

    /** A plane over [xMin, xMax] × [yMin, yMax] (e.g. fitted around a trajectory). */
    public static Projection plane(double xMin, double xMax, double yMin, double yMax, int grid) {
        return new Projection(Kind.PLANE, linspace(xMin, xMax, grid), linspace(yMin, yMax, grid));
    }

    private static void checkRange(double range) {
        if (!(range > 0) || Double.isInfinite(range)) {
            throw new IllegalArgumentException("range must be finite and > 0, was " + range);
        }
    }

    /** n evenly spaced values from lo to hi, both included (computed as lo + i·step, exact at both ends). */
    public static double[] linspace(double lo, double hi, int n) {
        if (n < 2) {
            throw new IllegalArgumentException("need at least 2 points, was " + n);
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i == n - 1 ? hi : lo + (hi - lo) * i / (n - 1);
        }
        return v;
    }

    public int nx() {
        return xs.length;
    }

    public int ny() {
        return ys.length;
    }

    public int points() {
        return xs.length * ys.length;
    }

    /** Number of directions it needs: 1 for a line or interpolation, 2 for a plane. */
    public int directions() {
        return kind == Kind.PLANE ? 2 : 1;
    }

    public double a(int index) {
        return xs[index % xs.length];
    }

    public double b(int index) {
        return ys[index / xs.length];
    }

    @Override
    public double[] xs() {
        return xs.clone();
    }

    @Override
    public double[] ys() {
        return ys.clone();
    }

    /** Text identifying the geometry exactly (goes into the settings fingerprint). */
    public String describe() {
        return String.format(Locale.ROOT, "%s x[%s..%s]/%d y[%s..%s]/%d", kind.cliName(), xs[0], xs[xs.length - 1],
                xs.length, ys[0], ys[ys.length - 1], ys.length);
    }
}
