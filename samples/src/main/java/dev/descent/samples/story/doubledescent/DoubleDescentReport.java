package dev.descent.samples.story.doubledescent;

import dev.descent.sdk.RandomFeaturePoint;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/** The double-descent story's numbers, CSV files and figures. */
final class DoubleDescentReport {
    private DoubleDescentReport() {
    }

    /** The point with the largest test MSE. */
    static RandomFeaturePoint peak(List<RandomFeaturePoint> points) {
        RandomFeaturePoint best = points.getFirst();
        for (RandomFeaturePoint p : points) {
            if (p.testMse() > best.testMse()) {
                best = p;
            }
        }
        return best;
    }

    /** summary.json rows: {features, train_mse, test_mse, test_error, coef_norm, ...}. */
    static List<Map<String, Object>> rows(List<RandomFeaturePoint> points) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (RandomFeaturePoint p : points) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("features", p.features());
            m.put("train_mse", p.trainMse());
            m.put("test_mse", p.testMse());
            m.put("test_error", p.testError());
            m.put("coef_norm", p.coefNorm());
            if (!p.minNorm()) {
                m.put("ridge", p.ridge());
            }
            m.put("train_error", p.trainError());
            m.put("rank", p.rank());
            m.put("min_singular_value", p.minSingular());
            out.add(m);
        }
        return out;
    }

    /** The shape of the curves in numbers: where the peaks are, train loss past n, the two regimes, ridge. */
    static Map<String, Object> findings(int n, List<RandomFeaturePoint> points, double[] ridges) {
        List<RandomFeaturePoint> mn = points.stream().filter(RandomFeaturePoint::minNorm).toList();
        Map<String, Object> f = new LinkedHashMap<>();
        RandomFeaturePoint peak = peak(mn);
        f.put("peak_test_mse_features", peak.features());
        f.put("peak_test_mse", peak.testMse());
        f.put("peak_test_error", peak.testError());
        RandomFeaturePoint errPeak = argMax(mn, RandomFeaturePoint::testError);
        f.put("peak_test_error_features", errPeak.features());
        RandomFeaturePoint normPeak = argMax(mn, RandomFeaturePoint::coefNorm);
        f.put("peak_coef_norm_features", normPeak.features());
        f.put("peak_coef_norm", normPeak.coefNorm());
        double maxTrainPast = 0;
        for (RandomFeaturePoint p : mn) {
            if (p.features() >= n) {
                maxTrainPast = Math.max(maxTrainPast, p.trainMse());
            }
        }
        f.put("max_train_mse_for_features_at_least_n", maxTrainPast);
        RandomFeaturePoint bestUnder = null;
        for (RandomFeaturePoint p : mn) {
            if (p.features() < n && (bestUnder == null || p.testMse() < bestUnder.testMse())) {
                bestUnder = p;
            }
        }
        if (bestUnder != null) {
            f.put("best_under_threshold_features", bestUnder.features());
            f.put("best_under_threshold_test_mse", bestUnder.testMse());
            f.put("best_under_threshold_test_error", bestUnder.testError());
        }
        RandomFeaturePoint last = mn.getLast();
        f.put("largest_features", last.features());
        f.put("largest_features_test_mse", last.testMse());
        f.put("largest_features_test_error", last.testError());
        List<Map<String, Object>> rs = new ArrayList<>();
        for (double r : ridges) {
            List<RandomFeaturePoint> rp = points.stream().filter(p -> p.ridge() == r).toList();
            RandomFeaturePoint pk = peak(rp);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ridge", r);
            m.put("peak_test_mse_features", pk.features());
            m.put("peak_test_mse", pk.testMse());
            m.put("peak_test_error", argMax(rp, RandomFeaturePoint::testError).testError());
            m.put("largest_features_test_error", rp.getLast().testError());
            rs.add(m);
        }
        f.put("ridge", rs);
        return f;
    }

    private static RandomFeaturePoint argMax(List<RandomFeaturePoint> points, ToDoubleFunction<RandomFeaturePoint> f) {
        RandomFeaturePoint best = points.getFirst();
        for (RandomFeaturePoint p : points) {
            if (f.applyAsDouble(p) > f.applyAsDouble(best)) {
                best = p;
            }
        }
        return best;
    }

    static void writeFeaturesCsv(Path file, List<RandomFeaturePoint> points) throws IOException {
        StringBuilder sb = new StringBuilder("features,ridge,train_mse,test_mse,train_error,test_error,coef_norm,rank,"
                + "min_singular_value\n");
        for (RandomFeaturePoint p : points) {
            sb.append(String.format(Locale.ROOT, "%d,%s,%.9g,%.9g,%.6f,%.6f,%.9g,%d,%.9g%n", p.features(), p.ridge(),
                    p.trainMse(), p.testMse(), p.trainError(), p.testError(), p.coefNorm(), p.rank(), p.minSingular()));
        }
        Files.writeString(file, sb.toString());
    }

    static void writeNetworkCsv(Path file, List<NetworkSweep.Point> points) throws IOException {
        StringBuilder sb = new StringBuilder("width,parameters,train_mse,train_error,test_mse,test_error,seconds\n");
        for (NetworkSweep.Point p : points) {
            sb.append(String.format(Locale.ROOT, "%d,%d,%.9g,%.6f,%.9g,%.6f,%.2f%n", p.width(), p.parameters(),
                    p.trainMse(), p.trainError(), p.testMse(), p.testError(), p.seconds()));
        }
        Files.writeString(file, sb.toString());
    }

    /** Four panels against N (log axis): test loss, test error, train loss, coefficient norm; min-norm and ridge. */
    static void featuresFigure(Path png, String dataset, int n, List<RandomFeaturePoint> points, double[] ridges) {
        List<Double> lambdas = new ArrayList<>();
        lambdas.add(0.0);
        for (double r : ridges) {
            lambdas.add(r);
        }
        List<Panel> panels = new ArrayList<>();
        panels.add(panel("Test squared loss", "squared loss", points, lambdas, RandomFeaturePoint::testMse, n, true));
        panels.add(panel("Test zero-one error", "error rate", points, lambdas, RandomFeaturePoint::testError, n, false));
        panels.add(panel("Train squared loss", "squared loss", points, lambdas, RandomFeaturePoint::trainMse, n, false));
        panels.add(panel("Norm of the solution", "||A||", points, lambdas, RandomFeaturePoint::coefNorm, n, true));
        Figures.write(png, String.format(Locale.ROOT, "Double descent: random Fourier features, %s, n = %d", dataset,
                n), panels, 2);
    }

    private static Panel panel(String title, String y, List<RandomFeaturePoint> points, List<Double> lambdas,
                               ToDoubleFunction<RandomFeaturePoint> f, int n, boolean logY) {
        List<Series> series = new ArrayList<>();
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double lambda : lambdas) {
            List<RandomFeaturePoint> ps = points.stream().filter(p -> p.ridge() == lambda).toList();
            double[] xs = new double[ps.size()];
            double[] ys = new double[ps.size()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = ps.get(i).features();
                ys[i] = f.applyAsDouble(ps.get(i));
                if (!logY || ys[i] > 0) {
                    lo = Math.min(lo, ys[i]);
                    hi = Math.max(hi, ys[i]);
                }
            }
            series.add(new Series(lambda == 0 ? "minimum norm" : "ridge λ = " + lambda, xs, ys));
        }
        series.add(new Series("N = n", new double[] {n, n}, new double[] {lo, hi}));
        Panel p = Panel.of(title, "random features N (log scale)", y, series).withLogX();
        return logY ? p.withLogY() : p;
    }

    /** Three panels against the parameter count (log axis): test loss, test error, train loss. */
    static void networkFigure(Path png, String dataset, int n, int classes, List<NetworkSweep.Point> points,
                              int epochs) {
        double[] xs = points.stream().mapToDouble(NetworkSweep.Point::parameters).toArray();
        List<Panel> panels = new ArrayList<>();
        panels.add(nnPanel("Test squared loss", "squared loss", xs, points.stream().mapToDouble(NetworkSweep.Point::testMse).toArray(), n * classes));
        panels.add(nnPanel("Test zero-one error", "error rate", xs, points.stream().mapToDouble(NetworkSweep.Point::testError).toArray(), n * classes));
        panels.add(nnPanel("Train squared loss (last epoch)", "squared loss", xs, points.stream().mapToDouble(NetworkSweep.Point::trainMse).toArray(), n * classes));
        Figures.write(png, String.format(Locale.ROOT, "Double descent: two-layer networks, %s, n = %d, %d epochs each",
                dataset, n, epochs), panels, 3);
    }

    private static Panel nnPanel(String title, String y, double[] xs, double[] ys, int threshold) {
        double lo = Double.MAX_VALUE;
        double hi = -Double.MAX_VALUE;
        for (double v : ys) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return Panel.of(title, "parameters (log scale)", y, List.of(new Series("network", xs, ys),
                new Series("n·K = " + threshold, new double[] {threshold, threshold}, new double[] {lo, hi}))).withLogX();
    }
}
