package dev.descent.sdk.toy;

/**
 * The path of one run: {@code points[t]} is x after t steps (t = 0 is the start), {@code losses[t]} the full
 * objective f there. {@code steps()} = points.length − 1.
 */
public record ToyTrajectory(double[][] points, double[] losses, double learningRate, int batchSize) {
    public ToyTrajectory {
        if (points.length != losses.length || points.length == 0) {
            throw new IllegalArgumentException("trajectory: " + points.length + " points but " + losses.length
                    + " losses");
        }
    }

    public int steps() {
        return points.length - 1;
    }

    public double[] start() {
        return points[0].clone();
    }

    public double[] end() {
        return points[points.length - 1].clone();
    }

    public double finalLoss() {
        return losses[losses.length - 1];
    }

    /** The largest loss along the path. */
    public double maxLoss() {
        double m = Double.NEGATIVE_INFINITY;
        for (double l : losses) {
            m = Math.max(m, l);
        }
        return m;
    }

    /** Coordinate {@code j} of every point, e.g. for a plot. */
    public double[] coordinate(int j) {
        double[] c = new double[points.length];
        for (int t = 0; t < points.length; t++) {
            c[t] = points[t][j];
        }
        return c;
    }
}
