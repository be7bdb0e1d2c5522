package dev.descent.sdk;

import dev.descent.engine.io.AtomicFiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A measured loss landscape: every point of the plan's grid ({@code xs × ys}; a line has {@code ys = [0]}), how the
 * run went, and what was measured besides.
 *
 * @param kind         line, interpolation or plane
 * @param xs           the a (or t) coordinates
 * @param ys           the b coordinates ({@code [0]} for a line or interpolation)
 * @param points       one per grid point, in index order ({@code index = j·nx + i})
 * @param resumed      points taken over from the partial-results file of an earlier run
 * @param evaluated    points evaluated by this run
 * @param seconds      wall time of this run's evaluation (evaluators' start-up included, data loading not)
 * @param evaluators   evaluators that worked in parallel
 * @param trainExamples examples of the train subset
 * @param testExamples examples of the test subset (0 without one)
 * @param directions   how the directions were made (seed and normalization, file, difference, PCA)
 * @param trajectory   the path's coordinates for a trajectory plane, else null
 * @param sharpness    sharpness at the centre network (an interpolation: at both ends), empty when not asked for
 */
public record LandscapeResult(LandscapePlan.Kind kind, double[] xs, double[] ys, List<LandscapePoint> points,
                              int resumed, int evaluated, double seconds, int evaluators, int trainExamples,
                              int testExamples, String directions, TrajectoryProjection trajectory,
                              List<SharpnessReport> sharpness) {
    public LandscapeResult {
        xs = xs.clone();
        ys = ys.clone();
        points = List.copyOf(points);
        sharpness = List.copyOf(sharpness);
        if (points.size() != xs.length * ys.length) {
            throw new IllegalArgumentException(points.size() + " points for a " + xs.length + " x " + ys.length
                    + " grid");
        }
    }

    @Override
    public double[] xs() {
        return xs.clone();
    }

    @Override
    public double[] ys() {
        return ys.clone();
    }

    public int nx() {
        return xs.length;
    }

    public int ny() {
        return ys.length;
    }

    public LandscapePoint point(int index) {
        return points.get(index);
    }

    /** True when the plan had a test set. */
    public boolean hasTest() {
        return testExamples > 0;
    }

    /** Points per second evaluated by this run (0 when it evaluated none). */
    public double pointsPerSecond() {
        return seconds > 0 ? evaluated / seconds : 0;
    }

    /** Index of the point at a = b = 0 (the centre network) when it lies on the grid, else -1. */
    public int centreIndex() {
        int ix = -1;
        int iy = -1;
        for (int i = 0; i < xs.length; i++) {
            if (Math.abs(xs[i]) < 1e-12) {
                ix = i;
            }
        }
        for (int j = 0; j < ys.length; j++) {
            if (Math.abs(ys[j]) < 1e-12) {
                iy = j;
            }
        }
        return ix < 0 || iy < 0 ? -1 : iy * xs.length + ix;
    }

    /** Train loss as a grid {@code [ny][nx]}. */
    public double[][] trainLossGrid() {
        return grid(true);
    }

    /** Test loss as a grid {@code [ny][nx]} (NaN without a test set). */
    public double[][] testLossGrid() {
        return grid(false);
    }

    private double[][] grid(boolean train) {
        double[][] g = new double[ys.length][xs.length];
        for (LandscapePoint p : points) {
            g[p.index() / xs.length][p.index() % xs.length] = train ? p.trainLoss() : p.testLoss();
        }
        return g;
    }

    /** The lowest train loss of all points. */
    public double minTrainLoss() {
        return points.stream().mapToDouble(LandscapePoint::trainLoss).min().orElse(Double.NaN);
    }

    /** The highest train loss of all points. */
    public double maxTrainLoss() {
        return points.stream().mapToDouble(LandscapePoint::trainLoss).max().orElse(Double.NaN);
    }

    /** CSV, one row per point: {@code index,a,b,train_loss,train_accuracy,test_loss,test_accuracy}. */
    public String toCsv() {
        StringBuilder sb = new StringBuilder("index,a,b,train_loss,train_accuracy,test_loss,test_accuracy\n");
        for (LandscapePoint p : points) {
            sb.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.9g,%.6f,%.9g,%.6f%n", p.index(), p.a(), p.b(),
                    p.trainLoss(), p.trainAccuracy(), p.testLoss(), p.testAccuracy()));
        }
        return sb.toString();
    }

    /** Writes {@link #toCsv()} atomically (temp file, rename). */
    public void writeCsv(Path csv) {
        try {
            AtomicFiles.writeString(csv, toCsv());
        } catch (IOException e) {
            throw new DescentException("cannot write " + csv + ": " + e.getMessage(), e);
        }
    }
}
