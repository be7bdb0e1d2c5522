package dev.descent.engine.landscape;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A finished (or interrupted) projection: the result of every point by index (null where not evaluated), and how the
 * run went.
 *
 * @param resumed         points taken over from an earlier, interrupted run
 * @param evaluated       points evaluated by this run
 * @param seconds         wall time of this run's evaluation: starting the evaluators, the points and (when the
 *                        first layer is precomputed) the products
 * @param evaluators      evaluators that worked in parallel
 */
public record LandscapeResult(Projection projection, PointResult[] points, int resumed, int evaluated, double seconds,
                              int evaluators) {
    public LandscapeResult {
        points = points.clone();
    }

    @Override
    public PointResult[] points() {
        return points.clone();
    }

    public PointResult point(int index) {
        return points[index];
    }

    /** True when every point has a result. */
    public boolean complete() {
        for (PointResult p : points) {
            if (p == null) {
                return false;
            }
        }
        return true;
    }

    /** Points per second evaluated by this run (0 when it evaluated none). */
    public double pointsPerSecond() {
        return seconds > 0 ? evaluated / seconds : 0;
    }

    /** Train loss as a grid [ny][nx] (NaN where missing). */
    public double[][] trainLossGrid() {
        return grid(true);
    }

    /** Test loss as a grid [ny][nx] (NaN where missing or without a test set). */
    public double[][] testLossGrid() {
        return grid(false);
    }

    private double[][] grid(boolean train) {
        int nx = projection.nx();
        double[][] g = new double[projection.ny()][nx];
        for (int k = 0; k < points.length; k++) {
            PointResult p = points[k];
            g[k / nx][k % nx] = p == null ? Double.NaN : train ? p.trainLoss() : p.testLoss();
        }
        return g;
    }

    /** CSV text, one row per point in index order (missing points left out). */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("index,a,b,train_loss,train_accuracy,test_loss,test_accuracy\n");
        for (PointResult p : points) {
            if (p != null) {
                sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.9g,%.6f,%.9g,%.6f%n", p.index(), p.a(), p.b(),
                        p.trainLoss(), p.trainAccuracy(), p.testLoss(), p.testAccuracy()));
            }
        }
        return sb.toString();
    }

    /** Writes {@link #toCsv()} atomically. */
    public void writeCsv(Path csv) throws IOException {
        AtomicFiles.writeString(csv, toCsv());
    }
}
