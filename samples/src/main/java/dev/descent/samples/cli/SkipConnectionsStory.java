package dev.descent.samples.cli;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.BatchNormMode;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.Curvature;
import dev.descent.sdk.CurvatureMap;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.DirectionNorm;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingResult;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.SurfacePanel;
import dev.descent.sdk.plot.SurfaceRenderer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story skip-connections}: Li et al. 2018's depth sweep. Residual MLPs of several depths, with and
 * without their skips, trained alike; around each trained point the loss on a filter-normalized random plane (all
 * panels on one colour scale and one set of contour levels, log loss), the local minima on the grid, and a map of
 * the Hessian's |λ_min / λ_max| over the plane (their Fig. 7) from Lanczos on Hessian-vector products.
 */
@Command(name = "skip-connections", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = StoryCommand.SkipDefaults.class,
        description = {"Li et al. 2018 (Fig. 5 and 7): deep residual MLPs (Models.resMlp) of several depths, with and "
                + "without skip connections, trained alike; around each trained point the train loss on a random "
                + "filter-normalized plane, its local minima, and a map of the Hessian's |lambda_min/lambda_max| "
                + "(Lanczos on Hessian-vector products) over the same plane.",
            "Writes skip-connections-contours.png, skip-connections-surface.png, skip-connections-convexity.png, "
                + "planes/*.csv, curvature/*.csv, models/*.descent and summary.json to --out. An interrupted plane "
                + "resumes from planes/*.partial.csv when the same command is run again (training is deterministic)."})
final class SkipConnectionsStory extends StoryCommand.StoryOptions implements Callable<Integer> {
    @Option(names = "--depths", defaultValue = "20,56", split = ",", description = "network depths in Linear layers, "
            + "each 2·blocks + 2 (Li et al.: 20, 56, 110) (default: ${DEFAULT-VALUE})")
    int[] depths;

    @Option(names = "--width", defaultValue = "64", description = "block width (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--activation", defaultValue = "gelu", description = "activation of the blocks: gelu (smooth) or "
            + "relu (as Li et al.; the finite-difference Hessian-vector products then see the kinks, and the "
            + "eigenvalues grow as the step shrinks) (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--lr", defaultValue = "0.02", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--grid", defaultValue = "21", description = "points per side of the loss plane; 51 as in the "
            + "paper takes about 6x longer and resumes (default: ${DEFAULT-VALUE})")
    int grid;

    @Option(names = "--range", defaultValue = "1.0", description = "plane over [-range, range]² (default: ${DEFAULT-VALUE})")
    double range;

    @Option(names = "--bn", defaultValue = "recompute", description = "BatchNorm at each point: recompute (batch "
            + "statistics of the perturbed network) or running (the trained statistics) (default: ${DEFAULT-VALUE})")
    String bn;

    @Option(names = "--hessian-grid", defaultValue = "9", description = "points per side of the |lambda_min/lambda_max| "
            + "map, same plane; 0 skips it (default: ${DEFAULT-VALUE})")
    int hessianGrid;

    @Option(names = "--hessian-examples", defaultValue = "256", description = "training examples of the Hessian "
            + "(default: ${DEFAULT-VALUE})")
    int hessianExamples;

    @Option(names = "--lanczos-steps", defaultValue = "8", description = "Lanczos steps per point, each one "
            + "Hessian-vector product (default: ${DEFAULT-VALUE})")
    int lanczosSteps;

    @Option(names = "--nonconvex-threshold", defaultValue = "0.1", description = "a point counts as non-convex when "
            + "|lambda_min/lambda_max| > this (default: ${DEFAULT-VALUE})")
    double threshold;

    @Option(names = "--out", defaultValue = "out/story-skip-connections", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        validate();
        BatchNormMode bnMode = parseBn();
        int ep = epochs == null ? 8 : epochs;
        int limit = trainLimit == null ? 10000 : trainLimit;
        OutputDir dir = OutputDir.create(out);
        OutputDir planes = dir.sub("planes");
        OutputDir curvature = dir.sub("curvature");
        OutputDir models = dir.sub("models");
        System.out.printf(Locale.ROOT, "story skip-connections: Models.resMlp (%s) width %d + BatchNorm, depths %s Linear "
                + "layers, with vs without skips, %d epochs on %d examples; %dx%d plane over [-%s, %s]^2 (BatchNorm %s)"
                + "%s%n", activation, width, joinDepths(), ep, limit, grid, grid, range, range, bnMode.name().toLowerCase(Locale.ROOT),
                hessianGrid > 0 ? String.format(Locale.ROOT, "; Hessian map %dx%d, %d Lanczos steps on %d examples",
                        hessianGrid, hessianGrid, lanczosSteps, hessianExamples) : "");
        int[] shape = Corpus.FASHION_MNIST.sampleShape();
        DataSource train = trainData(limit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
        int examples = trainCount(limit);
        for (OutputDir d : List.of(planes, curvature, models)) {
            Files.createDirectories(d.path()); // inputs and data are valid: the run writes here from now on
        }
        Map<String, Object> runs = new LinkedHashMap<>();
        List<HeatmapPanel> maps = new ArrayList<>();
        List<SurfacePanel> surfaces = new ArrayList<>();
        List<HeatmapPanel> convexity = new ArrayList<>();
        for (boolean skip : new boolean[] {true, false}) {
            for (int depth : depths) {
                String name = (skip ? "skip-" : "noskip-") + depth;
                String label = depth + " layers, " + (skip ? "with skips" : "no skips");
                ModelDefinition def = model(shape, depth, skip);
                Path file = models.resolve(name + ".descent");
                TrainingResult tr = train(def, train, examples, test, ep, seed, lr, "train " + name, file);
                Map<String, Object> run = new LinkedHashMap<>();
                LandscapeCommand.Common c = common(planes.path());
                c.bn = bnMode.name().toLowerCase(Locale.ROOT);
                c.sharpnessExamples = 0;
                Path directions = planes.resolve(name + ".directions.descentd");
                try (Network m = Network.load(file)) {
                    LandscapeResult r = LandscapeCommand.evaluate(c, planes, c.apply(LandscapePlan.builder()
                            .plane(m, range, grid), planes, name).seed(seed).norm(DirectionNorm.FILTER)
                            .ignoreBiases(true).saveDirections(directions), name);
                    r.writeCsv(planes.resolve(name + ".csv"));
                    Files.deleteIfExists(planes.resolve(name + ".partial.csv"));
                    double[][] z = r.trainLossGrid();
                    maps.add(HeatmapPanel.of(label, "α", "β", r.xs(), r.ys(), z, "train loss", true));
                    surfaces.add(SurfacePanel.of(label, "α", "β", r.xs(), r.ys(), z, "train loss", true));
                    run.put("local_minima_on_grid", StoryCommand.localMinima(z));
                    run.put("train_loss_max", r.maxTrainLoss());
                    run.put("train_loss_centre", r.point(r.points().size() / 2).trainLoss());
                    run.put("test_accuracy", tr.last().testAccuracy());
                    run.put("train_accuracy", tr.last().trainAccuracy());
                    if (hessianGrid > 0) {
                        CurvatureMap cm = curvature(m, directions, train, bnMode, name);
                        cm.writeCsv(curvature.resolve(name + ".csv"));
                        double[][] ratio = cm.negativeRatio();
                        convexity.add(HeatmapPanel.of(label, "α", "β", cm.xs(), cm.ys(), clip(ratio, 1),
                                "|λmin/λmax| (clipped at 1)", false));
                        run.put("nonconvex_fraction", cm.nonconvexFraction(threshold));
                        run.put("negative_ratio_median", median(ratio));
                        run.put("negative_ratio_max", max(ratio));
                        int mid = hessianGrid / 2;
                        run.put("lambda_max_centre", cm.lambdaMax()[mid][mid]);
                        run.put("lambda_min_centre", cm.lambdaMin()[mid][mid]);
                        run.put("hessian_seconds", cm.seconds());
                    }
                    run.put("plane_points_per_second", r.pointsPerSecond());
                }
                run.put("training", trainingSummary(tr));
                runs.put(name, run);
            }
        }
        int cols = depths.length;
        String depthText = joinDepths();
        Heatmaps.writeShared(dir.resolve("skip-connections-contours.png"), "Train loss around w*, " + depthText
                + "-layer MLPs, random filter-normalized plane: top with skips, bottom without",
                maps, cols);
        SurfaceRenderer.writeShared(dir.resolve("skip-connections-surface.png"), "Train loss surfaces (log height, "
                + "one scale): top with skips, bottom without", surfaces, cols);
        if (!convexity.isEmpty()) {
            Heatmaps.writeShared(dir.resolve("skip-connections-convexity.png"), String.format(Locale.ROOT,
                    "Hessian |λmin/λmax| over the same planes (0 = convex; non-convex > %s)", threshold), convexity, cols);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("runs", runs);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", "Models.resMlp(width=" + width + ", batchNorm=true), blocks = (depth - 2) / 2, activation "
                + activation);
        cfg.put("depths", depths);
        cfg.put("epochs", ep);
        cfg.put("train_examples", limit);
        cfg.put("lr", lr);
        cfg.put("eval_examples", evalExamples);
        cfg.put("grid", grid);
        cfg.put("range", range);
        cfg.put("norm", "filter, biases and BatchNorm parameters ignored");
        cfg.put("bn_mode", bnMode.name().toLowerCase(Locale.ROOT));
        cfg.put("hessian_grid", hessianGrid);
        cfg.put("hessian_examples", hessianExamples);
        cfg.put("lanczos_steps", lanczosSteps);
        cfg.put("nonconvex_threshold", threshold);
        cfg.put("nonconvex_fraction_definition", "fraction of Hessian-map points with |lambda_min/lambda_max| > "
                + threshold + " (lambda_min < 0)");
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    /** Models.resMlp, its ReLUs swapped for GELUs unless --activation relu (same layout, same init). */
    private ModelDefinition model(int[] shape, int depth, boolean skip) {
        ModelDefinition relu = ModelDefinition.resMlp(shape, 10, (depth - 2) / 2, width, skip, true, seed);
        if (activation.equals("relu")) {
            return relu;
        }
        String spec;
        try (Network n = Network.create(relu)) {
            spec = n.architecture();
        }
        return ModelDefinition.fromSpec(spec.replace("activation relu", "activation gelu"), "kaiming-normal", seed);
    }

    private CurvatureMap curvature(Network m, Path directions, DataSource train, BatchNormMode bnMode, String name) {
        int threads = evaluators != null ? evaluators : Math.max(1, Runtime.getRuntime().availableProcessors());
        ProgressBar bar = new ProgressBar(System.out, "hessian " + name, (long) hessianGrid * hessianGrid);
        long t0 = System.nanoTime();
        CurvatureMap cm = Curvature.plane(m, directions, range, hessianGrid, train, hessianExamples, bnMode,
                new Curvature.Settings(lanczosSteps, 1e-3, 1000, threads, seed), (done, total) -> {
                    synchronized (bar) {
                        bar.update(done, String.format(Locale.ROOT, "%d/%d points, %.1f s/point", done, total,
                                (System.nanoTime() - t0) / 1e9 / done));
                    }
                });
        bar.finish(String.format(Locale.ROOT, "%d points, non-convex (ratio > %s): %.0f%%", hessianGrid * hessianGrid,
                threshold, 100 * cm.nonconvexFraction(threshold)));
        return cm;
    }

    private void validate() {
        if (depths.length == 0) {
            throw new UserError("--depths needs at least one depth");
        }
        for (int d : depths) {
            if (d < 4 || d % 2 != 0) {
                throw new UserError("--depths: each depth must be an even number of Linear layers >= 4 (2·blocks + 2),"
                        + " was " + d);
            }
        }
        if (!activation.equals("gelu") && !activation.equals("relu")) {
            throw new UserError("--activation must be gelu or relu, was '" + activation + "'");
        }
        if (width < 1 || grid < 3 || !(range > 0) || !(lr > 0)) {
            throw new UserError("--width must be >= 1, --grid >= 3, --range and --lr > 0; were " + width + ", " + grid
                    + ", " + range + ", " + lr);
        }
        if (hessianGrid < 0 || hessianExamples < 1 || lanczosSteps < 2 || !(threshold >= 0)) {
            throw new UserError("--hessian-grid must be >= 0, --hessian-examples >= 1, --lanczos-steps >= 2, "
                    + "--nonconvex-threshold >= 0; were " + hessianGrid + ", " + hessianExamples + ", " + lanczosSteps
                    + ", " + threshold);
        }
    }

    private BatchNormMode parseBn() {
        try {
            return BatchNormMode.parse(bn);
        } catch (IllegalArgumentException e) {
            throw new UserError("--bn: " + e.getMessage());
        }
    }

    private String joinDepths() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < depths.length; i++) {
            sb.append(i == 0 ? "" : "/").append(depths[i]);
        }
        return sb.toString();
    }

    /** The ratios for the map's colours: above {@code cap} they all mean "negative curvature as strong as positive". */
    private static double[][] clip(double[][] z, double cap) {
        double[][] c = new double[z.length][];
        for (int j = 0; j < z.length; j++) {
            c[j] = z[j].clone();
            for (int i = 0; i < c[j].length; i++) {
                c[j][i] = Math.min(c[j][i], cap);
            }
        }
        return c;
    }

    private static double median(double[][] z) {
        double[] v = java.util.Arrays.stream(z).flatMapToDouble(java.util.Arrays::stream).filter(Double::isFinite)
                .sorted().toArray();
        return v.length == 0 ? Double.NaN : v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double max(double[][] z) {
        double m = Double.NaN;
        for (double[] row : z) {
            for (double v : row) {
                if (Double.isFinite(v) && !(v <= m)) {
                    m = v;
                }
            }
        }
        return m;
    }
}
