package dev.descent.samples.cli;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.Split;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.landscape.BnMode;
import dev.descent.engine.landscape.DirectionFile;
import dev.descent.engine.landscape.DirectionSettings;
import dev.descent.engine.landscape.Directions;
import dev.descent.engine.landscape.LandscapeJob;
import dev.descent.engine.landscape.LandscapeResult;
import dev.descent.engine.landscape.NormType;
import dev.descent.engine.landscape.PartialResults;
import dev.descent.engine.landscape.PointResult;
import dev.descent.engine.landscape.Projection;
import dev.descent.engine.landscape.Sharpness;
import dev.descent.engine.landscape.TrajectoryPca;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.ModelFile;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import dev.descent.sdk.plot.SurfacePanel;
import dev.descent.sdk.plot.SurfaceRenderer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
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

        int evaluators() {
            return evaluators != null ? evaluators : Kernels.pool().size();
        }

        LossKind lossKind() {
            return LossKind.parse(loss);
        }

        BnMode bnMode() {
            return BnMode.parse(bn);
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

        DirectionSettings settings() {
            boolean ignore = switch (biases.trim().toLowerCase(Locale.ROOT)) {
                case "ignore" -> true;
                case "keep" -> false;
                default -> throw new UserError("--biases must be ignore or keep, was '" + biases + "'");
            };
            return new DirectionSettings(seed, NormType.parse(norm), ignore, orthogonalize);
        }

        /** Draws (or loads) {@code count} directions for weights {@code w} of {@code model}. */
        OffHeapBlock[] directions(Model model, MemorySegment w, int count) throws IOException {
            if (file != null) {
                DirectionFile.Loaded l = DirectionFile.load(file);
                if (!l.spec().equals(model.spec()) || l.directions().length < count) {
                    l.close();
                    throw new UserError("--directions " + file + " holds " + l.directions().length
                            + " direction(s) for another architecture or too few for this projection");
                }
                return l.directions();
            }
            DirectionSettings s = settings();
            return count == 1 ? new OffHeapBlock[] {Directions.random(model.layout(), w, s, 0)}
                    : Directions.randomPair(model.layout(), w, s);
        }

        String describe() {
            if (file != null) {
                return "loaded from " + file;
            }
            DirectionSettings s = settings();
            return String.format(Locale.ROOT, "seed=%d norm=%s biases=%s orthogonalize=%s", s.seed(),
                    s.norm().cliName(), s.ignoreBiases() ? "ignore" : "keep", s.orthogonalize());
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
            Projection projection = Projection.line(range, points);
            OutputDir out = OutputDir.create(common.out);
            try (Model m = ModelFile.read(centre);
                 Data data = Data.load(common, m)) {
                OffHeapBlock[] d = dirs.directions(m, m.params().segment(), 1);
                try {
                    LandscapeResult r = evaluate(common, out, m, null, m.params().segment(), d[0].segment(), null,
                            projection, data, "line");
                    Figures.write(out.resolve("line.png"), "1-D landscape (" + (dirs.file != null ? "saved"
                            : dirs.settings().norm().cliName() + "-normalized") + " direction)", List.of(linePanel(
                            "around " + centre.getFileName() + " (" + from + ")", r, "α")));
                    Map<String, Object> s = summary(common, m, centre, projection, r, data, dirs.describe());
                    s.put("sharpness", sharpness(common, m, null, m.params().segment(), data));
                    finish(out, m, r, s, d);
                } finally {
                    close(d);
                }
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
            Projection projection = Projection.interpolation(extend, points);
            OutputDir out = OutputDir.create(common.out);
            try (Model a = ModelFile.read(from);
                 Model b = ModelFile.read(to);
                 Data data = Data.load(common, a)) {
                if (!a.spec().equals(b.spec())) {
                    throw new UserError("--from and --to hold different architectures");
                }
                OffHeapBlock[] d = {Directions.allocate(a.layout())};
                try {
                    Directions.difference(d[0].segment(), b.params().segment(), a.params().segment(),
                            a.layout().totalFloats());
                    LandscapeResult r = evaluate(common, out, a, null, a.params().segment(), d[0].segment(), null,
                            projection, data, "interpolation");
                    Figures.write(out.resolve("interpolation.png"), "Interpolation between two models", List.of(
                            linePanel(from.getFileName() + " (t = 0) → " + to.getFileName() + " (t = 1)", r, "t")));
                    Map<String, Object> s = summary(common, a, from, projection, r, data, "w1 - w0 (not normalized)");
                    s.put("model_to", to.toString());
                    s.put("model_to_sha256", b.parametersSha256());
                    s.put("sharpness_from", sharpness(common, a, null, a.params().segment(), data));
                    s.put("sharpness_to", sharpness(common, b, null, b.params().segment(), data));
                    finish(out, a, r, s, d);
                } finally {
                    close(d);
                }
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
            try (Model m = ModelFile.read(centre);
                 Data data = Data.load(common, m)) {
                OffHeapBlock[] d;
                double[][] coords = null;
                Projection projection;
                String how;
                if (trajectory != null) {
                    try (TrajectoryPca pca = pca(path, m)) {
                        d = new OffHeapBlock[] {Directions.allocate(m.layout()), Directions.allocate(m.layout())};
                        MemorySegment.copy(pca.d1().segment(), 0, d[0].segment(), 0, m.params().byteSize());
                        MemorySegment.copy(pca.d2().segment(), 0, d[1].segment(), 0, m.params().byteSize());
                        coords = pca.coords();
                        projection = fitted(coords, grid);
                        how = String.format(Locale.ROOT, "PCA of %d trajectory points in %s (explained variance %.3f, "
                                + "%.3f)", path.size(), trajectory, pca.explained()[0], pca.explained()[1]);
                        writeTrajectoryCsv(out, path, coords);
                    }
                } else {
                    d = dirs.directions(m, m.params().segment(), 2);
                    projection = Projection.plane(range, grid);
                    how = dirs.describe();
                }
                try {
                    LandscapeResult r = evaluate(common, out, m, null, m.params().segment(), d[0].segment(),
                            d[1].segment(), projection, data, "plane");
                    String xl = trajectory != null ? "PC 1" : "α";
                    String yl = trajectory != null ? "PC 2" : "β";
                    HeatmapPanel train = HeatmapPanel.of("train loss", xl, yl, projection.xs(), projection.ys(),
                            r.trainLossGrid(), "loss", logScale);
                    if (coords != null) {
                        train = train.withPath(coords, "trajectory");
                    }
                    List<HeatmapPanel> maps = new ArrayList<>(List.of(train));
                    if (data.test != null) {
                        HeatmapPanel test = HeatmapPanel.of("test loss", xl, yl, projection.xs(), projection.ys(),
                                r.testLossGrid(), "loss", logScale);
                        maps.add(coords != null ? test.withPath(coords, "trajectory") : test);
                    }
                    Heatmaps.write(out.resolve("plane-contours.png"), "Loss on a plane around " + centre.getFileName(),
                            maps);
                    SurfaceRenderer.write(out.resolve("plane-surface.png"), "Train loss surface around "
                            + centre.getFileName(), List.of(SurfacePanel.of("train loss", xl, yl, projection.xs(),
                            projection.ys(), r.trainLossGrid(), "loss", logScale)));
                    Map<String, Object> s = summary(common, m, centre, projection, r, data, how);
                    s.put("sharpness", sharpness(common, m, null, m.params().segment(), data));
                    finish(out, m, r, s, d);
                } finally {
                    close(d);
                }
            }
            return 0;
        }

        private static Projection fitted(double[][] coords, int grid) {
            double x0 = Double.MAX_VALUE;
            double x1 = -Double.MAX_VALUE;
            double y0 = Double.MAX_VALUE;
            double y1 = -Double.MAX_VALUE;
            for (double[] c : coords) {
                x0 = Math.min(x0, c[0]);
                x1 = Math.max(x1, c[0]);
                y0 = Math.min(y0, c[1]);
                y1 = Math.max(y1, c[1]);
            }
            double mx = Math.max(0.25 * (x1 - x0), 1e-3);
            double my = Math.max(0.25 * (y1 - y0), 1e-3);
            return Projection.plane(x0 - mx, x1 + mx, y0 - my, y1 + my, grid);
        }

        private static TrajectoryPca pca(List<Path> files, Model centre) throws IOException {
            List<Model> models = new ArrayList<>();
            try {
                List<MemorySegment> points = new ArrayList<>();
                for (Path f : files) {
                    Model m = ModelFile.read(f);
                    models.add(m);
                    if (!m.spec().equals(centre.spec())) {
                        throw new UserError(f + " holds another architecture than " + "the model");
                    }
                    points.add(m.params().segment());
                }
                points.add(centre.params().segment()); // the centre is the origin (usually also the last epoch)
                return TrajectoryPca.compute(points, centre.params().floatCount());
            } finally {
                models.forEach(Model::close);
            }
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

    /** The evaluation subsets (owned copies of the first N examples). */
    static final class Data implements AutoCloseable {
        final Dataset train;
        final Dataset test;
        final String name;

        Data(Dataset train, Dataset test, String name) {
            this.train = train;
            this.test = test;
            this.name = name;
        }

        static Data load(Common c, Model model) throws IOException {
            IdxDatasets.Corpus corpus = IdxDatasets.Corpus.valueOf(TrainCommand.parseCorpus(c.dataset).name());
            int nTrain = Common.count(c.trainExamples, "--train-examples", 1);
            int nTest = Common.count(c.testExamples, "--test-examples", 0);
            try (Dataset fullTrain = IdxDatasets.load(corpus, Split.TRAIN, c.dataDir);
                 Dataset fullTest = nTest == 0 ? null : IdxDatasets.load(corpus, Split.TEST, c.dataDir)) {
                if (fullTrain.featureSize() != model.inputSize()) {
                    throw new UserError(corpus.displayName() + " has " + fullTrain.featureSize()
                            + " features per example, the model expects " + model.inputSize());
                }
                Dataset tr = fullTrain.subset(0, nTrain < 0 ? fullTrain.count() : Math.min(nTrain, fullTrain.count()));
                Dataset te = fullTest == null ? null
                        : fullTest.subset(0, nTest < 0 ? fullTest.count() : Math.min(nTest, fullTest.count()));
                return new Data(tr, te, corpus.displayName());
            }
        }

        @Override
        public void close() {
            train.close();
            if (test != null) {
                test.close();
            }
        }
    }

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

    /** Runs a projection with a progress bar, resuming from points.partial.csv in {@code out}. */
    static LandscapeResult evaluate(Common c, OutputDir out, Model model, Supplier<Model> architecture,
                                    MemorySegment base, MemorySegment d1, MemorySegment d2, Projection projection,
                                    Data data, String label) throws IOException {
        LandscapeJob.Builder job = LandscapeJob.builder().model(model).base(base).directions(d1, d2)
                .projection(projection).train(data.train).test(data.test).loss(c.lossKind()).evalBatch(c.evalBatch)
                .bn(c.bnMode()).evaluators(c.evaluators()).partial(out.resolve(label + ".partial.csv"), c.fresh);
        if (architecture != null) {
            job.architecture(architecture);
        }
        ProgressBar bar = new ProgressBar(System.out, label, projection.points());
        long t0 = System.nanoTime();
        int[] first = {-1};
        LandscapeResult r;
        try {
            r = job.listener((done, total, last) -> {
                if (first[0] < 0) {
                    first[0] = done - 1;
                }
                double rate = (done - first[0]) / Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
                bar.update(done, String.format(Locale.ROOT, "%d/%d points, %.1f points/s, train loss %.4f", done,
                        total, rate, last.trainLoss()));
            }).build().run();
        } catch (PartialResults.ResumeException e) {
            throw new UserError(e.getMessage() + " (--fresh)", e);
        }
        if (r.resumed() > 0) {
            System.out.printf(Locale.ROOT, "resumed: %d of %d points were already in %s%n", r.resumed(),
                    projection.points(), out.resolve(label + ".partial.csv"));
        }
        bar.finish(String.format(Locale.ROOT, "%d points on %d evaluator(s), %.1f points/s", r.evaluated(),
                r.evaluators(), r.pointsPerSecond()));
        return r;
    }

    /** Train and test loss against the coordinate, accuracy on a second axis. */
    static Panel linePanel(String title, LandscapeResult r, String xLabel) {
        PointResult[] p = r.points();
        double[] x = new double[p.length];
        double[] trL = new double[p.length];
        double[] teL = new double[p.length];
        double[] trA = new double[p.length];
        double[] teA = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            x[i] = p[i].a();
            trL[i] = p[i].trainLoss();
            teL[i] = p[i].testLoss();
            trA[i] = p[i].trainAccuracy();
            teA[i] = p[i].testAccuracy();
        }
        List<Series> loss = new ArrayList<>(List.of(new Series("train loss", x, trL)));
        List<Series> acc = new ArrayList<>(List.of(new Series("train accuracy", x, trA)));
        if (!Double.isNaN(teL[0])) {
            loss.add(new Series("test loss", x, teL));
            acc.add(new Series("test accuracy", x, teA));
        }
        return Panel.of(title, xLabel, "loss", loss).withSecondAxis("accuracy", acc);
    }

    static Map<String, Object> sharpness(Common c, Model model, Supplier<Model> architecture, MemorySegment w,
                                         Data data) {
        Map<String, Object> s = new LinkedHashMap<>();
        if (c.sharpnessExamples == 0) {
            s.put("skipped", true);
            return s;
        }
        try (Dataset sub = data.train.subset(0, Math.min(c.sharpnessExamples, data.train.count()))) {
            String spec = model.spec();
            Supplier<Model> arch = architecture != null ? architecture : () -> Model.fromSpec(spec);
            Sharpness.Settings settings = new Sharpness.Settings(c.powerIterations, 1e-3, 1e-3, 1e-3, 10, 1);
            Sharpness.Report r = Sharpness.measure(arch, model, w, sub, c.lossKind(), c.evalBatch, c.bnMode(),
                    Kernels.backend(), settings);
            s.put("examples", r.examples());
            s.put("loss", r.loss());
            s.put("top_hessian_eigenvalue", r.topEigenvalue());
            s.put("power_iterations", r.iterations());
            s.put("last_relative_change", r.lastRelativeChange());
            s.put("finite_difference_step", settings.fdStep());
            s.put("epsilon", r.epsilon());
            s.put("epsilon_sharpness_percent", r.epsilonSharpness());
            s.put("seconds", r.seconds());
            System.out.printf(Locale.ROOT, "sharpness: top Hessian eigenvalue %.4g (%d iterations), "
                    + "epsilon-sharpness(%.0e) %.4g%%%n", r.topEigenvalue(), r.iterations(), r.epsilon(),
                    r.epsilonSharpness());
        }
        return s;
    }

    static Map<String, Object> summary(Common c, Model model, Path modelFile, Projection p, LandscapeResult r,
                                       Data data, String directions) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("projection", p.kind().cliName());
        s.put("model", modelFile == null ? "(in memory)" : modelFile.toString());
        s.put("model_sha256", model.parametersSha256());
        s.put("directions", directions);
        s.put("directions_file", "directions.descentd");
        s.put("x_range", new double[] {p.xs()[0], p.xs()[p.nx() - 1]});
        s.put("y_range", new double[] {p.ys()[0], p.ys()[p.ny() - 1]});
        s.put("points", p.points());
        s.put("grid", new int[] {p.nx(), p.ny()});
        s.put("dataset", data.name);
        s.put("train_examples", data.train.count());
        s.put("test_examples", data.test == null ? 0 : data.test.count());
        s.put("loss", c.lossKind().cliName());
        s.put("bn_mode", c.bnMode().cliName());
        s.put("eval_mode", "eval (Dropout off); BatchNorm " + c.bnMode().cliName());
        s.put("eval_batch", c.evalBatch);
        s.put("evaluators", r.evaluators());
        s.put("points_evaluated", r.evaluated());
        s.put("points_resumed", r.resumed());
        s.put("points_per_second", r.pointsPerSecond());
        s.put("seconds", r.seconds());
        s.put("kernels", Kernels.backend().name());
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (PointResult pt : r.points()) {
            min = Math.min(min, pt.trainLoss());
            max = Math.max(max, pt.trainLoss());
        }
        s.put("train_loss_min", min);
        s.put("train_loss_max", max);
        int centre = centreIndex(p);
        if (centre >= 0) {
            s.put("centre_train_loss", r.point(centre).trainLoss());
            s.put("centre_test_loss", r.point(centre).testLoss());
        }
        return s;
    }

    private static int centreIndex(Projection p) {
        int ix = -1;
        int iy = -1;
        for (int i = 0; i < p.nx(); i++) {
            if (Math.abs(p.xs()[i]) < 1e-12) {
                ix = i;
            }
        }
        for (int j = 0; j < p.ny(); j++) {
            if (Math.abs(p.ys()[j]) < 1e-12) {
                iy = j;
            }
        }
        return ix < 0 || iy < 0 ? -1 : iy * p.nx() + ix;
    }

    /** Writes the CSV, the directions and the summary, then drops the partial-results file. */
    static void finish(OutputDir out, Model model, LandscapeResult r, Map<String, Object> summary, OffHeapBlock[] d)
            throws IOException {
        r.writeCsv(out.resolve("landscape.csv"));
        MemorySegment[] segs = new MemorySegment[d.length];
        for (int i = 0; i < d.length; i++) {
            segs[i] = d[i].segment();
        }
        DirectionFile.save(out.resolve("directions.descentd"), model.spec(), String.valueOf(summary.get("directions")),
                segs);
        out.writeJson("summary.json", summary);
        Files.deleteIfExists(out.resolve(summary.get("projection") + ".partial.csv"));
        System.out.printf(Locale.ROOT, "done: %d points, train loss %.4g .. %.4g; wrote %s%n", r.points().length,
                (double) summary.get("train_loss_min"), (double) summary.get("train_loss_max"), out.path());
    }

    static void close(OffHeapBlock[] blocks) {
        for (OffHeapBlock b : blocks) {
            if (b != null) {
                b.close();
            }
        }
    }
}
