package dev.descent.samples.story.largebatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.samples.OutputDir;
import dev.descent.sdk.LandscapePoint;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.SharpnessReport;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/** The large-batch story's figures, points.csv and summary.json, from the finished points. */
final class LargeBatchReport {
    private static final String[] CSV_FIELDS = {"batch", "workers", "schedule", "lr", "seconds_per_epoch",
        "examples_per_second", "test_accuracy", "lambda_max", "epsilon_sharpness", "gradient_noise_scale", "diverged"};

    private LargeBatchReport() {
    }

    private static final String[] CONVERGED_FIELDS = {"batch", "lr", "steps", "epochs", "reached_target", "train_loss",
        "train_accuracy", "test_loss", "test_accuracy", "generalization_gap", "lambda_max", "epsilon_sharpness",
        "seconds"};

    static void write(OutputDir dir, List<JsonNode> points, List<JsonNode> converged, LandscapeResult line,
                      int smallBatch, int largeBatch, boolean lineOfConverged, Map<String, Object> config,
                      Map<String, Object> convergedConfig, String referenceId) {
        timeFigure(dir, points);
        accuracyFigure(dir, points);
        double target = ((Number) convergedConfig.get("target_loss")).doubleValue();
        sharpnessFigure(dir, points, converged, target);
        noiseFigure(dir, points);
        if (line != null) {
            interpolationFigure(dir, line, smallBatch, largeBatch, lineOfConverged ? target : Double.NaN);
        }
        StringBuilder csv = new StringBuilder(String.join(",", CSV_FIELDS)).append('\n');
        List<Map<String, Object>> summaryPoints = new ArrayList<>();
        for (JsonNode p : points) {
            Map<String, Object> row = new LinkedHashMap<>();
            for (int i = 0; i < CSV_FIELDS.length; i++) {
                JsonNode v = p.get(CSV_FIELDS[i]);
                row.put(CSV_FIELDS[i], v == null || v.isNull() ? null : v.isNumber() ? v.numberValue()
                        : v.isBoolean() ? v.booleanValue() : v.asText());
                csv.append(i == 0 ? "" : ",").append(v == null || v.isNull() ? "" : v.asText());
            }
            row.put("steps", p.path("steps").isMissingNode() ? null : p.get("steps").asLong());
            row.put("warmup_steps", p.path("warmup_steps").asLong());
            row.put("train_accuracy", num(p, "train_accuracy"));
            row.put("test_loss", num(p, "test_loss"));
            row.put("train_accuracy_eval", num(p, "train_accuracy_eval"));
            row.put("generalization_gap", num(p, "generalization_gap"));
            summaryPoints.add(row);
            csv.append('\n');
        }
        dir.writeString("points.csv", csv.toString());
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("points", summaryPoints);
        JsonNode ref = points.stream().filter(p -> id(p).equals(referenceId)).findFirst().orElse(null);
        s.put("gradient_noise_scale", ref == null ? null : num(ref, "gradient_noise_scale"));
        s.put("gradient_noise_scale_run", referenceId);
        Map<String, Object> degrades = new LinkedHashMap<>();
        degrades.put(LargeBatchStory.FIXED, degradesFrom(points, LargeBatchStory.FIXED));
        degrades.put(LargeBatchStory.LINEAR_WARMUP, degradesFrom(points, LargeBatchStory.LINEAR_WARMUP));
        s.put("accuracy_degrades_from_batch", degrades);
        s.put("accuracy_degradation_threshold", "test accuracy more than 0.01 below the best of its schedule (1 worker)");
        if (!converged.isEmpty()) {
            StringBuilder ccsv = new StringBuilder(String.join(",", CONVERGED_FIELDS)).append('\n');
            List<Map<String, Object>> rows = new ArrayList<>();
            for (JsonNode p : converged) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 0; i < CONVERGED_FIELDS.length; i++) {
                    JsonNode v = p.get(CONVERGED_FIELDS[i]);
                    row.put(CONVERGED_FIELDS[i], v == null || v.isNull() ? null : v.isNumber() ? v.numberValue()
                            : v.isBoolean() ? v.booleanValue() : v.asText());
                    ccsv.append(i == 0 ? "" : ",").append(v == null || v.isNull() ? "" : v.asText());
                }
                ccsv.append('\n');
                rows.add(row);
            }
            dir.writeString("converged.csv", ccsv.toString());
            s.put("converged", rows);
            s.put("converged_protocol", String.format(Locale.ROOT, "Keskar et al.: every batch size trained with the "
                    + "fixed lr (no warm-up) on the first %s training examples until the eval-mode train loss on them "
                    + "is <= %s (checked every epoch and at least every 25 steps, at most %s epochs); sharpness on the "
                    + "same first %s examples", convergedConfig.get("converged_train_examples"), target,
                    convergedConfig.get("max_epochs_to_target"), convergedConfig.get("sharpness_examples")));
        }
        if (line != null) {
            Map<String, Object> li = interpolationSummary(line, smallBatch, largeBatch);
            li.put("solutions", lineOfConverged ? "trained to the target train loss (converged)"
                    : "fixed lr, same epochs");
            s.put("interpolation", li);
        }
        s.put("config", config);
        if (!converged.isEmpty()) {
            s.put("converged_config", convergedConfig);
        }
        dir.writeJson("summary.json", s);
    }

    private static Map<String, Object> interpolationSummary(LandscapeResult r, int small, int large) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("from_batch", small);
        m.put("to_batch", large);
        m.put("points", r.points().size());
        double at0 = Double.NaN;
        double at1 = Double.NaN;
        double between = Double.NEGATIVE_INFINITY;
        for (LandscapePoint p : r.points()) {
            if (Math.abs(p.a()) < 1e-9) {
                at0 = p.trainLoss();
            } else if (Math.abs(p.a() - 1) < 1e-9) {
                at1 = p.trainLoss();
            }
            if (p.a() > 0 && p.a() < 1) {
                between = Math.max(between, p.trainLoss());
            }
        }
        // how fast the train loss rises when stepping away from each solution along the line (the same parameter
        // distance on both sides): Keskar et al.'s 1-D picture of a flat small-batch and a sharp large-batch basin
        m.put("train_loss_rise_beyond_small_batch", rises(r, 0, -1));
        m.put("train_loss_rise_beyond_large_batch", rises(r, 1, +1));
        m.put("train_loss_small_batch", LargeBatchStory.finite(at0));
        m.put("train_loss_large_batch", LargeBatchStory.finite(at1));
        m.put("max_train_loss_between", LargeBatchStory.finite(between));
        List<SharpnessReport> sh = r.sharpness();
        m.put("alpha", "0 = batch " + small + " solution, 1 = batch " + large + " solution, extended 0.5 each side");
        if (sh.size() == 2) {
            m.put("lambda_max_small_batch", sh.get(0).topHessianEigenvalue());
            m.put("lambda_max_large_batch", sh.get(1).topHessianEigenvalue());
        }
        return m;
    }

    /** {alpha offset: train loss there minus at {@code at}} for the grid points on the far side of {@code at}. */
    private static Map<String, Double> rises(LandscapeResult r, double at, int side) {
        double base = Double.NaN;
        for (LandscapePoint p : r.points()) {
            if (Math.abs(p.a() - at) < 1e-9) {
                base = p.trainLoss();
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        for (LandscapePoint p : r.points()) {
            double d = (p.a() - at) * side;
            if (d > 1e-9) {
                out.put(String.format(Locale.ROOT, "%.3f", d), LargeBatchStory.finite(p.trainLoss() - base));
            }
        }
        return out;
    }

    /** The smallest batch from which every larger batch's accuracy is > 0.01 below the schedule's best (or null). */
    static Integer degradesFrom(List<JsonNode> points, String schedule) {
        List<JsonNode> runs = points.stream().filter(p -> p.path("workers").asInt() == 1
                && schedule.equals(p.path("schedule").asText())).toList();
        double best = runs.stream().mapToDouble(p -> acc(p)).max().orElse(Double.NaN);
        Integer from = null;
        for (int i = runs.size() - 1; i >= 0; i--) {
            if (acc(runs.get(i)) < best - 0.01) {
                from = runs.get(i).path("batch").asInt();
            } else {
                break;
            }
        }
        return from;
    }

    private static double acc(JsonNode p) {
        JsonNode a = p.get("test_accuracy");
        return a == null || a.isNull() ? 0.0 : a.asDouble(); // a diverged run is as bad as it gets
    }

    private static void timeFigure(OutputDir dir, List<JsonNode> points) {
        List<Series> time = new ArrayList<>();
        List<Series> rate = new ArrayList<>();
        for (int w : workersOf(points)) {
            Predicate<JsonNode> f = p -> p.path("workers").asInt() == w
                    && LargeBatchStory.FIXED.equals(p.path("schedule").asText());
            time.add(series(w + " worker" + (w == 1 ? "" : "s"), points, f, "seconds_per_epoch"));
            rate.add(series(w + " worker" + (w == 1 ? "" : "s"), points, f, "examples_per_second"));
        }
        Figures.write(dir.resolve("time-per-epoch.png"), "Time per epoch against batch size (log-log)", List.of(
                Panel.of("seconds per epoch", "log2(batch size)", "seconds per epoch", time).withLogY(),
                Panel.of("training throughput", "log2(batch size)", "examples per second", rate).withLogY()), 2);
    }

    private static void accuracyFigure(OutputDir dir, List<JsonNode> points) {
        List<Series> s = new ArrayList<>();
        s.add(series("fixed lr, 1 worker", points, one(LargeBatchStory.FIXED), "test_accuracy"));
        s.add(series("linear scaling + warm-up, 1 worker", points, one(LargeBatchStory.LINEAR_WARMUP), "test_accuracy"));
        for (int w : workersOf(points)) {
            if (w > 1) {
                s.add(series("fixed lr, " + w + " workers", points, p -> p.path("workers").asInt() == w,
                        "test_accuracy"));
            }
        }
        Figures.write(dir.resolve("accuracy-vs-batch.png"), "Test accuracy against batch size (same epochs)",
                List.of(Panel.of("test accuracy after the same number of epochs", "log2(batch size)", "test accuracy",
                        s)));
    }

    private static void sharpnessFigure(OutputDir dir, List<JsonNode> points, List<JsonNode> converged,
                                        double target) {
        List<Series> lambda = new ArrayList<>();
        List<Series> eps = new ArrayList<>();
        if (!converged.isEmpty()) {
            String name = String.format(Locale.ROOT, "fixed lr, trained to train loss <= %s", target);
            lambda.add(series(name, converged, p -> true, "lambda_max"));
            eps.add(series(name, converged, p -> true, "epsilon_sharpness"));
        }
        lambda.add(series("fixed lr, same epochs", points, one(LargeBatchStory.FIXED), "lambda_max"));
        lambda.add(series("linear scaling + warm-up, same epochs", points, one(LargeBatchStory.LINEAR_WARMUP),
                "lambda_max"));
        eps.add(series("fixed lr, same epochs", points, one(LargeBatchStory.FIXED), "epsilon_sharpness"));
        eps.add(series("linear scaling + warm-up, same epochs", points, one(LargeBatchStory.LINEAR_WARMUP),
                "epsilon_sharpness"));
        Figures.write(dir.resolve("sharpness-vs-batch.png"), "Sharpness of the solution against batch size", List.of(
                Panel.of("top Hessian eigenvalue", "log2(batch size)", "lambda_max", lambda).withLogY(),
                Panel.of("epsilon-sharpness (Keskar et al.)", "log2(batch size)", "epsilon-sharpness (%)", eps)
                        .withLogY()), 2);
    }

    private static void noiseFigure(OutputDir dir, List<JsonNode> points) {
        List<Series> s = new ArrayList<>();
        for (JsonNode p : points) {
            JsonNode t = p.path("noise_scale_trace");
            if (!LargeBatchStory.FIXED.equals(p.path("schedule").asText()) || t.size() < 2) {
                continue;
            }
            double[] x = new double[t.size()];
            double[] y = new double[t.size()];
            for (int i = 0; i < t.size(); i++) {
                x[i] = t.get(i).get(0).asDouble();
                y[i] = t.get(i).get(1).isNull() ? Double.NaN : t.get(i).get(1).asDouble();
            }
            s.add(new Series("batch " + p.path("batch").asInt() + ", " + p.path("workers").asInt() + " w", x, y));
        }
        if (s.isEmpty()) {
            return;
        }
        Figures.write(dir.resolve("noise-scale.png"), "Gradient noise scale during training",
                List.of(Panel.of("B_simple = tr(Sigma)/|G|^2 (examples), fixed-lr runs", "epoch", "B_simple", s).withLogY()));
    }

    private static void interpolationFigure(OutputDir dir, LandscapeResult r, int small, int large, double target) {
        List<LandscapePoint> p = r.points();
        double[] x = new double[p.size()];
        double[][] y = new double[4][p.size()];
        for (int i = 0; i < p.size(); i++) {
            x[i] = p.get(i).a();
            y[0][i] = p.get(i).trainLoss();
            y[1][i] = p.get(i).testLoss();
            y[2][i] = p.get(i).trainAccuracy();
            y[3][i] = p.get(i).testAccuracy();
        }
        Figures.write(dir.resolve("interpolation.png"), String.format(Locale.ROOT,
                "Batch %d (alpha 0) to batch %d (alpha 1)", small, large),
                List.of(
                Panel.of("(1 - alpha) w_small + alpha w_large" + (Double.isNaN(target) ? ""
                        : String.format(Locale.ROOT, ", both at train loss <= %s", target)), "alpha", "loss", List.of(
                        new Series("train loss", x, y[0]), new Series("test loss", x, y[1])))
                        .withSecondAxis("accuracy", List.of(new Series("train accuracy", x, y[2]),
                                new Series("test accuracy", x, y[3])))));
    }

    private static Predicate<JsonNode> one(String schedule) {
        return p -> p.path("workers").asInt() == 1 && schedule.equals(p.path("schedule").asText());
    }

    private static Series series(String name, List<JsonNode> points, Predicate<JsonNode> which, String field) {
        List<JsonNode> sel = points.stream().filter(which).toList();
        double[] x = new double[sel.size()];
        double[] y = new double[sel.size()];
        for (int i = 0; i < sel.size(); i++) {
            x[i] = Math.log(sel.get(i).path("batch").asInt()) / Math.log(2);
            JsonNode v = sel.get(i).get(field);
            y[i] = v == null || v.isNull() ? Double.NaN : v.asDouble();
        }
        return new Series(name, x, y);
    }

    private static int[] workersOf(List<JsonNode> points) {
        return points.stream().mapToInt(p -> p.path("workers").asInt()).distinct().sorted().toArray();
    }

    private static String id(JsonNode p) {
        return String.format(Locale.ROOT, "b%05d-w%d-%s", p.path("batch").asInt(), p.path("workers").asInt(),
                p.path("schedule").asText());
    }

    private static Double num(JsonNode p, String field) {
        JsonNode v = p.get(field);
        return v == null || v.isNull() ? null : v.asDouble();
    }
}
