package dev.descent.sdk.plot;

import java.util.Arrays;
import java.util.Objects;

/** One named line of a chart: x and y values of equal length. */
public record Series(String name, double[] x, double[] y) {
    public Series {
        Objects.requireNonNull(name, "name");
        if (x.length != y.length) {
            throw new IllegalArgumentException("series '" + name + "': " + x.length + " x values but " + y.length
                    + " y values");
        }
        x = x.clone();
        y = y.clone();
    }

    /** A series over x = 1, 2, ..., n (epochs, say). */
    public static Series ofIndexed(String name, double[] y) {
        double[] x = new double[y.length];
        Arrays.setAll(x, i -> i + 1);
        return new Series(name, x, y);
    }

    @Override
    public double[] x() {
        return x.clone();
    }

    @Override
    public double[] y() {
        return y.clone();
    }

    int size() {
        return x.length;
    }

    double xAt(int i) {
        return x[i];
    }

    double yAt(int i) {
        return y[i];
    }
}
