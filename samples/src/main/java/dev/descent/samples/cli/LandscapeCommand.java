package dev.descent.samples.cli;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.BatchNormMode;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DirectionNorm;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.LandscapeResumeException;
import dev.descent.sdk.Loss;
import dev.descent.sdk.Network;
import dev.descent.sdk.SharpnessReport;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrajectoryProjection;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import dev.descent.sdk.plot.SurfacePanel;
import dev.descent.sdk.plot.SurfaceRenderer;
import dev.descent.sdk.LandscapePoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code descent landscape line|interpolate|plane}: loss landscapes of a saved model along random (filter-normalized)
 * directions, between two models, or on a plane (random or PCA of a training trajectory). Each writes
 * landscape.csv, summary.json, directions.descentd and PNGs to --out, resuming an interrupted run in the same folder.
 */
@Command(name = "landscape", mixinStandardHelpOptions = true,
        description = "Loss landscapes of a trained model: 1-D lines, interpolations, 2-D planes (Li et al. 2018).",
        subcommands = {LandscapeCommand.Line.class, LandscapeCommand.Interpolate.class, LandscapeCommand.Plane.class})
public final class LandscapeCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every landscape shares: data, evaluation, output. */
    static final class Common {
        @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "fashion-mnist or mnist (default: ${DEFAULT-VALUE})")
        String dataset;

        @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
        Path dataDir;

        @Option(names = "--loss", defaultValue = "cross-entropy", description = "cross-entropy or mse (default: ${DEFAULT-VALUE})")
        String loss;

        @Option(names = "--train-examples", defaultValue = "2000", description = "first N training examples, or 'all' (default: ${DEFAULT-VALUE})")
        String trainExamples;

        @Option(names = "--test-examples", defaultValue = "2000", description = "first N test examples, 'all', or 0 for none (default: ${DEFAULT-VALUE})")
        String testExamples;

        @Option(names = "--eval-batch", defaultValue = "1000", description = "evaluation batch size (default: ${DEFAULT-VALUE})")
        int evalBatch;

        @Option(names = "--evaluators", description = "points evaluated in parallel (default: the number of cores)")
        Integer evaluators;

        @Option(names = "--bn", defaultValue = "running", description = "BatchNorm at each point: running (eval-mode statistics) or recompute (per evaluation batch) (default: ${DEFAULT-VALUE})")
        String bn;

        @Option(names = "--sharpness-examples", defaultValue = "1000", description = "training examples for the Hessian eigenvalue and epsilon-sharpness, 0 = skip (default: ${DEFAULT-VALUE})")
        int sharpnessExamples;

        @Option(names = "--power-iterations", defaultValue = "20", description = "power-iteration steps for the top Hessian eigenvalue (default: ${DEFAULT-VALUE})")
        int powerIterations;

        @Option(names = "--fresh", description = "discard partial results of an earlier run in --out instead of resuming")
        boolean fresh;

        @Option(names = "--out", defaultValue = "out/landscape", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        void validate() {
            if (evalBatch < 1) {
                throw new UserError("--eval-batch must be >= 1, was " + evalBatch);
            }
            if (evaluators != null && evaluators < 1) {
                throw new UserError("--evaluators must be >= 1, was " + evaluators);
            }
            if (sharpnessExamples < 0 || powerIterations < 1) {
                throw new UserError("--sharpness-examples must be >= 0 and --power-iterations >= 1");
            }
            count(trainExamples, "--train-examples", 1);
            count(testExamples, "--test-examples", 0);
        }

        Loss lossKind() {
            return Loss.parse(loss);
        }

        String lossName() {
            return lossKind() == Loss.MSE ? "mse" : "cross-entropy";
        }

        BatchNormMode bnMode() {
            return BatchNormMode.parse(bn);
        }

        Corpus corpus() {
            return TrainCommand.parseCorpus(dataset);
        }

        /** The data, evaluation and resume settings of these options, the partial file named after {@code label}. */
        LandscapePlan.Builder apply(LandscapePlan.Builder plan, OutputDir dir, String label) {
            int nTrain = count(trainExamples, "--train-examples", 1);
            int nTest = count(testExamples, "--test-examples", 0);
            DataSource tr = corpus().source(Split.TRAIN, dataDir);
            DataSource te = nTest == 0 ? null : corpus().source(Split.TEST, dataDir);
            plan.train(nTrain < 0 ? tr : tr.limit(nTrain)).test(te == null || nTest < 0 ? te : te.limit(nTest))
                    .loss(lossKind()).evalBatch(evalBatch).batchNorm(bnMode())
                    .sharpness(sharpnessExamples, powerIterations).partialResults(dir.resolve(label + ".partial.csv"),
                            fresh);
            if (evaluators != null) {
                plan.evaluators(evaluators);
            }
            return plan;
        }

        /** Parses N or 'all' (-1). */
        static int count(String text, String option, int min) {
            if (text.trim().equalsIgnoreCase("all")) {
                return -1;
            }
            try {
                int n = Integer.parseInt(text.trim());
                if (n < min) {
                    throw new UserError(option + " must be >= " + min + " or 'all', was " + n);
                }
                return n;
            } catch (NumberFormatException e) {
                throw new UserError(option + " must be a number or 'all', was '" + text + "'");
            }
        }
    }

    /** How random directions are drawn. */
    static final class DirectionOptions {
        @Option(names = "--norm", defaultValue = "filter", description = "direction normalization: filter, layer or none (default: ${DEFAULT-VALUE})")
        String norm;

        @Option(names = "--biases", defaultValue = "ignore", description = "bias and BatchNorm parameters in the directions: ignore (zero) or keep (default: ${DEFAULT-VALUE})")
        String biases;

        @Option(names = "--seed", defaultValue = "1", description = "seed of the random directions (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--orthogonalize", description = "make the second direction orthogonal to the first")
        boolean orthogonalize;

        @Option(names = "--directions", description = "use the directions saved in this file (directions.descentd of an earlier run) instead of drawing them")
        Path file;

        boolean ignoreBiases() {
            return switch (biases.trim().toLowerCase(Locale.ROOT)) {
                case "ignore" -> true;
                case "keep" -> false;
                default -> throw new UserError("--biases must be ignore or keep, was '" + biases + "'");
            };
        }

        /** Random directions drawn as these options say, or the saved ones of --directions. */
        LandscapePlan.Builder apply(LandscapePlan.Builder plan) {
            return plan.seed(seed).norm(DirectionNorm.parse(norm)).ignoreBiases(ignoreBiases())
                    .orthogonalize(orthogonalize).directionsFile(file);
        }
    }

    @Command(name = "line", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"1-D landscape L(w + a·d), a in [-range, range], along a random direction d.",
                "Writes landscape.csv, summary.json, directions.descentd and line.png to --out."})
    static final class Line implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "model file (model.descent of `descent train`)")
        Path model;

        @Option(names = "--from", defaultValue = "trained", description = "centre: trained (the model) or init (trajectory/epoch-000.descent beside it, from `descent train --save-trajectory`) (default: ${DEFAULT-VALUE})")
        String from;

        @Option(names = "--range", defaultValue = "1.0", description = "a runs over [-range, range] (default: ${DEFAULT-VALUE})")
        double range;

        @Option(names = "--points", defaultValue = "51", description = "points on the line (default: ${DEFAULT-VALUE})")
        int points;

        @Mixin
        Common common;

        @Mixin
        DirectionOptions dirs;

        @Override
        public Integer call() throws IOException {
            common.validate();
            if (points < 2) {
                throw new UserError("--points must be >= 2, was " + points);
            }
            Path centre = switch (from.trim().toLowerCase(Locale.ROOT)) {
                case "trained" -> model;
                case "init" -> initialModel(model);
                default -> throw new UserError("--from must be init or trained, was '" + from + "'");
            };
            OutputDir out = OutputDir.create(common.out);
            try (Network m = Network.load(centre)) {
                LandscapePlan.Builder plan = dirs.apply(common.apply(LandscapePlan.builder().line(m, range, points),
                        out, "line")).saveDirections(out.resolve("directions.descentd"));
                LandscapeResult r = evaluate(common, out, plan, "line");
                Figures.write(out.resolve("line.png"), "1-D landscape (" + (dirs.file != null ? "saved"
                        : DirectionNorm.parse(dirs.norm).label() + "-normalized") + " direction)", List.of(linePanel(
                        "around " + centre.getFileName() + " (" + from + ")", r, "α")));
                Map<String, Object> s = summary(common, m, centre, r, r.directions());
                s.put("sharpness", sharpness(common, r, 0));
                finish(out, r, s);
            }
            return 0;
        }
    }

    @Command(name = "interpolate", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"1-D interpolation L((1-t)·w0 + t·w1), t in [-extend, 1 + extend], between two models of one "
                    + "architecture (e.g. initial and trained, or two minima).",
                "Writes landscape.csv, summary.json, directions.descentd and interpolation.png to --out."})
    static final class Interpolate implements Callable<Integer> {
        @Option(names = "--from", required = true, description = "model file at t = 0")
        Path from;

        @Option(names = "--to", required = true, description = "model file at t = 1")
        Path to;

        @Option(names = "--extend", defaultValue = "0.5", description = "how far beyond both ends t runs (default: ${DEFAULT-VALUE})")
        double extend;

        @Option(names = "--points", defaultValue = "51", description = "points (default: ${DEFAULT-VALUE})")
        int points;

        @Mixin
        Common common;

        @Override
        public Integer call() throws IOException {
            common.validate();
            if (points < 2) {
                throw new UserError("--points must be >= 2, was " + points);
            }
            OutputDir out = OutputDir.create(common.out);
            try (Network a = Network.load(from);
                 Network b = Network.load(to)) {
                if (!a.sameArchitecture(b)) {
                    throw new UserError("--from and --to hold different architectures");
                }
                LandscapePlan.Builder plan = common.apply(LandscapePlan.builder().interpolation(a, b, extend, points),
                        out, "interpolation").saveDirections(out.resolve("directions.descentd"));
                LandscapeResult r = evaluate(common, out, plan, "interpolation");
                Figures.write(out.resolve("interpolation.png"), "Interpolation between two models", List.of(
                        linePanel(from.getFileName() + " (t = 0) → " + to.getFileName() + " (t = 1)", r, "t")));
                Map<String, Object> s = summary(common, a, from, r, r.directions());
                s.put("model_to", to.toString());
                s.put("model_to_sha256", b.parametersSha256());
                s.put("sharpness_from", sharpness(common, r, 0));
                s.put("sharpness_to", sharpness(common, r, 1));
                finish(out, r, s);
            }
            return 0;
        }
    }

    @Command(name = "plane", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"2-D landscape L(w + a·d1 + b·d2) on a grid: two random directions, or with --trajectory the "
                    + "two principal directions of a training run's path, drawn on the contours.",
                "Writes landscape.csv, summary.json, directions.descentd, plane-contours.png and plane-surface.png."})
    static final class Plane implements Callable<Integer> {
        @Option(names = "--model", description = "model file (default with --trajectory: the run's last epoch)")
        Path model;

        @Option(names = "--grid", defaultValue = "25", description = "points per side (default: ${DEFAULT-VALUE})")
        int grid;

        @Option(names = "--range", defaultValue = "1.0", description = "a and b run over [-range, range] (default: ${DEFAULT-VALUE}; with --trajectory the plane is fitted to the path)")
        double range;

        @Option(names = "--trajectory", description = "run folder of `descent train --save-trajectory`: PCA directions of trajectory/epoch-*.descent")
        Path trajectory;

        @Option(names = "--log-scale", negatable = true, defaultValue = "true", fallbackValue = "true", description = "log-scale colours and surface height (default: ${DEFAULT-VALUE})")
        boolean logScale;

        @Mixin
        Common common;

        @Mixin
        DirectionOptions dirs;

        @Override
        public Integer call() throws IOException {
            common.validate();
            if (grid < 2) {
                throw new UserError("--grid must be >= 2, was " + grid);
            }
            if (model == null && trajectory == null) {
                throw new UserError("give --model FILE, or --trajectory RUN_DIR");
            }
            List<Path> path = trajectory == null ? List.of() : trajectoryFiles(trajectory);
            Path centre = model != null ? model : path.get(path.size() - 1);
            OutputDir out = OutputDir.create(common.out);
            try (Network m = Network.load(centre)) {
                LandscapePlan.Builder plan = LandscapePlan.builder();
                if (trajectory != null) {
                    plan.trajectoryPlane(m, path, grid);
                } else {
                    dirs.apply(plan.plane(m, range, grid));
                }
                common.apply(plan, out, "plane").saveDirections(out.resolve("directions.descentd"));
                LandscapeResult r = evaluate(common, out, plan, "plane");
                TrajectoryProjection t = r.trajectory();
                double[][] coords = t == null ? null : t.coords();
                String how = r.directions();
                if (t != null) {
                    how = String.format(Locale.ROOT, "PCA of %d trajectory points in %s (explained variance %.3f, "
                            + "%.3f)", path.size(), trajectory, t.explained()[0], t.explained()[1]);
                    writeTrajectoryCsv(out, path, coords);
                }
                String xl = trajectory != null ? "PC 1" : "α";
                String yl = trajectory != null ? "PC 2" : "β";
                HeatmapPanel train = HeatmapPanel.of("train loss", xl, yl, r.xs(), r.ys(), r.trainLossGrid(), "loss",
                        logScale);
                if (coords != null) {
                    train = train.withPath(coords, "trajectory");
                }
                List<HeatmapPanel> maps = new ArrayList<>(List.of(train));
                if (r.hasTest()) {
                    HeatmapPanel test = HeatmapPanel.of("test loss", xl, yl, r.xs(), r.ys(), r.testLossGrid(), "loss",
                            logScale);
                    maps.add(coords != null ? test.withPath(coords, "trajectory") : test);
                }
                Heatmaps.write(out.resolve("plane-contours.png"), "Loss on a plane around " + centre.getFileName(),
                        maps);
                SurfaceRenderer.write(out.resolve("plane-surface.png"), "Train loss surface around "
                        + centre.getFileName(), List.of(SurfacePanel.of("train loss", xl, yl, r.xs(), r.ys(),
                        r.trainLossGrid(), "loss", logScale)));
                Map<String, Object> s = summary(common, m, centre, r, how);
                s.put("sharpness", sharpness(common, r, 0));
                finish(out, r, s);
            }
            return 0;
        }

        private static void writeTrajectoryCsv(OutputDir out, List<Path> files, double[][] coords) {
            StringBuilder sb = new StringBuilder("point,file,pc1,pc2\n");
            for (int i = 0; i < files.size(); i++) {
                sb.append(String.format(Locale.ROOT, "%d,%s,%.8g,%.8g%n", i, files.get(i).getFileName(), coords[i][0],
                        coords[i][1]));
            }
            out.writeString("trajectory.csv", sb.toString());
        }
    }

    // ------------------------------------------------------------------ shared by the commands and the stories

    static Path initialModel(Path model) {
        Path dir = model.toAbsolutePath().getParent();
        Path init = dir.resolve("trajectory").resolve("epoch-000.descent");
        if (!Files.isRegularFile(init)) {
            throw new UserError("--from init needs " + init + ": train with `descent train --save-trajectory`");
        }
        return init;
    }

    static List<Path> trajectoryFiles(Path runDir) {
        Path dir = runDir.resolve("trajectory");
        if (!Files.isDirectory(dir)) {
            throw new UserError("--trajectory " + runDir + " has no trajectory/ folder: train with "
                    + "`descent train --save-trajectory --out " + runDir + "`");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.getFileName().toString().matches("epoch-\\d+\\.descent")).sorted().toList();
            if (files.size() < 3) {
                throw new UserError(dir + " holds " + files.size() + " epoch files; PCA needs at least 3 (2 epochs)");
            }
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Runs a plan with a progress bar, resuming from {@code label}.partial.csv in {@code out}. */
    static LandscapeResult evaluate(Common c, OutputDir out, LandscapePlan.Builder plan, String label) {
        long t0 = System.nanoTime();
        int[] first = {-1};
        ProgressBar[] bar = {null};
        plan.listener((done, total, last) -> {
            if (first[0] < 0) {
                first[0] = done - 1;
            }
            double rate = (done - first[0]) / Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
            bar[0].update(done, String.format(Locale.ROOT, "%d/%d points, %.1f points/s, train loss %.4f", done,
                    total, rate, last.trainLoss()));
        });
        LandscapePlan p = plan.build();
        bar[0] = new ProgressBar(System.out, label, p.points());
        LandscapeResult r;
        try {
            r = Descent.landscape(p);
        } catch (LandscapeResumeException e) {
            throw new UserError(e.getMessage() + " (--fresh)", e);
        }
        if (r.resumed() > 0) {
            System.out.printf(Locale.ROOT, "resumed: %d of %d points were already in %s%n", r.resumed(),
                    p.points(), out.resolve(label + ".partial.csv"));
        }
        bar[0].finish(String.format(Locale.ROOT, "%d points on %d evaluator(s), %.1f points/s", r.evaluated(),
                r.evaluators(), r.pointsPerSecond()));
        return r;
    }

    /** Train and test loss against the coordinate, accuracy on a second axis. */
    static Panel linePanel(String title, LandscapeResult r, String xLabel) {
        List<LandscapePoint> p = r.points();
        double[] x = new double[p.size()];
        double[] trL = new double[p.size()];
        double[] teL = new double[p.size()];
        double[] trA = new double[p.size()];
        double[] teA = new double[p.size()];
        for (int i = 0; i < p.size(); i++) {
            x[i] = p.get(i).a();
            trL[i] = p.get(i).trainLoss();
            teL[i] = p.get(i).testLoss();
            trA[i] = p.get(i).trainAccuracy();
            teA[i] = p.get(i).testAccuracy();
        }
        List<Series> loss = new ArrayList<>(List.of(new Series("train loss", x, trL)));
        List<Series> acc = new ArrayList<>(List.of(new Series("train accuracy", x, trA)));
        if (!Double.isNaN(teL[0])) {
            loss.add(new Series("test loss", x, teL));
            acc.add(new Series("test accuracy", x, teA));
        }
        return Panel.of(title, xLabel, "loss", loss).withSecondAxis("accuracy", acc);
    }

    /** The {@code which}-th sharpness report of {@code r} for summary.json (printed), or {skipped: true}. */
    static Map<String, Object> sharpness(Common c, LandscapeResult r, int which) {
        Map<String, Object> s = new LinkedHashMap<>();
        if (c.sharpnessExamples == 0 || r.sharpness().size() <= which) {
            s.put("skipped", true);
            return s;
        }
        SharpnessReport x = r.sharpness().get(which);
        s.put("examples", x.examples());
        s.put("loss", x.loss());
        s.put("top_hessian_eigenvalue", x.topHessianEigenvalue());
        s.put("power_iterations", x.powerIterations());
        s.put("last_relative_change", x.lastRelativeChange());
        s.put("converged", x.converged());
        s.put("hessian_vector_products", x.hessianVectorProducts());
        s.put("finite_difference_step", x.finiteDifferenceStep());
        s.put("epsilon", x.epsilon());
        s.put("epsilon_sharpness_percent", x.epsilonSharpnessPercent());
        s.put("seconds", x.seconds());
        System.out.printf(Locale.ROOT, "sharpness: top Hessian eigenvalue %.4g (%d iterations, %s, relative change"
                + " %.2g, %s), epsilon-sharpness(%.0e) %.4g%%%n", x.topHessianEigenvalue(), x.powerIterations(),
                x.converged() ? "converged" : "NOT converged", x.lastRelativeChange(), x.hessianVectorProducts(),
                x.epsilon(), x.epsilonSharpnessPercent());
        if (!x.converged()) {
            String warning = String.format(Locale.ROOT, "the top Hessian eigenvalue %.4g has not converged after %d "
                    + "power iterations (relative change %.2g): raise --power-iterations before trusting it",
                    x.topHessianEigenvalue(), x.powerIterations(), x.lastRelativeChange());
            System.out.println("warning: " + warning);
            s.put("warning", warning);
        }
        return s;
    }

    static Map<String, Object> summary(Common c, Network model, Path modelFile, LandscapeResult r, String directions) {
        Map<String, Object> s = new LinkedHashMap<>();
        double[] xs = r.xs();
        double[] ys = r.ys();
        s.put("projection", r.kind().label());
        s.put("model", modelFile == null ? "(in memory)" : modelFile.toString());
        s.put("model_sha256", model.parametersSha256());
        s.put("directions", directions);
        s.put("directions_file", "directions.descentd");
        s.put("x_range", new double[] {xs[0], xs[xs.length - 1]});
        s.put("y_range", new double[] {ys[0], ys[ys.length - 1]});
        s.put("points", r.points().size());
        s.put("grid", new int[] {r.nx(), r.ny()});
        s.put("dataset", c.corpus().displayName());
        s.put("train_examples", r.trainExamples());
        s.put("test_examples", r.testExamples());
        s.put("loss", c.lossName());
        s.put("bn_mode", c.bnMode().label());
        s.put("eval_mode", "eval (Dropout off); BatchNorm " + c.bnMode().label());
        s.put("eval_batch", c.evalBatch);
        s.put("evaluators", r.evaluators());
        s.put("points_evaluated", r.evaluated());
        s.put("points_resumed", r.resumed());
        s.put("points_per_second", r.pointsPerSecond());
        s.put("seconds", r.seconds());
        s.put("kernels", Descent.kernels().backend());
        s.put("train_loss_min", r.minTrainLoss());
        s.put("train_loss_max", r.maxTrainLoss());
        int centre = r.centreIndex();
        if (centre >= 0) {
            s.put("centre_train_loss", r.point(centre).trainLoss());
            s.put("centre_test_loss", r.point(centre).testLoss());
        }
        return s;
    }

    /** Writes the CSV and the summary (the plan saved the directions), then drops the partial-results file. */
    static void finish(OutputDir out, LandscapeResult r, Map<String, Object> summary) throws IOException {
        r.writeCsv(out.resolve("landscape.csv"));
        out.writeJson("summary.json", summary);
        Files.deleteIfExists(out.resolve(summary.get("projection") + ".partial.csv"));
        System.out.printf(Locale.ROOT, "done: %d points, train loss %.4g .. %.4g; wrote %s%n", r.points().size(),
                (double) summary.get("train_loss_min"), (double) summary.get("train_loss_max"), out.path());
    }
}
