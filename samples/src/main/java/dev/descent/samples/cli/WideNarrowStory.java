package dev.descent.samples.cli;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DirectionNorm;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.SharpnessReport;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story wide-narrow}: the same MLP trained with SGD (momentum) and with SAM around the same SGD
 * (Foret et al. 2020) over several seeds; around each solution the 1-D filter-normalized profile, the top Hessian
 * eigenvalue (exact double-precision Hessian-vector products) and, for the first seed, the 2-D plane — both planes
 * on one colour scale with the same contour levels. SDK only.
 */
@Command(name = "wide-narrow", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = StoryCommand.WideNarrowDefaults.class,
        description = {"Wide vs narrow minima: trains the same MLP with SGD (momentum 0.9) and with SAM "
                + "(Foret et al. 2020) around the same SGD, over several seeds, on Fashion-MNIST; measures the top "
                + "Hessian eigenvalue, the 1-D filter-normalized profile and its basin width, test accuracy, and the "
                + "2-D plane around both solutions of the first seed on one colour scale. Defaults: 30 epochs on the "
                + "first 5000 training images (--epochs, --train-limit), 3 seeds.",
            "Writes wide-narrow-profile.png, wide-narrow-plane.png, lines/*.csv, planes/*.csv, summary.json to --out."})
final class WideNarrowStory extends StoryCommand.StoryOptions implements Callable<Integer> {
    @Option(names = "--seeds", defaultValue = "3", description = "training seeds: --seed, --seed+1, ... (default: ${DEFAULT-VALUE})")
    int seeds;

    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--lr", defaultValue = "0.05", description = "peak learning rate of both runs, cosine decay (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch", defaultValue = "128", description = "batch size of both runs (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--rho", defaultValue = "0.05", description = "SAM neighbourhood radius (Foret et al.: 0.05) (default: ${DEFAULT-VALUE})")
    double rho;

    @Option(names = "--adaptive", description = "use ASAM (Kwon et al. 2021; then try --rho 0.5) instead of SAM")
    boolean adaptive;

    @Option(names = "--range", defaultValue = "1.0", description = "profile and plane over [-range, range] (default: ${DEFAULT-VALUE})")
    double range;

    @Option(names = "--points", defaultValue = "41", description = "points of each 1-D profile (default: ${DEFAULT-VALUE})")
    int points;

    @Option(names = "--grid", defaultValue = "21", description = "points per side of the 2-D planes, 0 = no planes (default: ${DEFAULT-VALUE})")
    int grid;

    @Option(names = "--sharpness-examples", defaultValue = "1000", description = "training examples for the top Hessian eigenvalue (default: ${DEFAULT-VALUE})")
    int sharpnessExamples;

    @Option(names = "--power-iterations", defaultValue = "30", description = "power-iteration steps at most (default: ${DEFAULT-VALUE})")
    int powerIterations;

    @Option(names = "--out", defaultValue = "out/story-wide-narrow", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    /** What one training run left: its numbers and its 1-D profile. */
    private record Run(String optimizer, long seed, TrainingResult training, LandscapeResult line,
                       SharpnessReport sharpness, double basinWidth) {
    }

    @Override
    public Integer call() throws IOException {
        validate();
        int ep = epochs == null ? 30 : epochs;
        int limit = trainLimit == null ? 5000 : trainLimit;
        OutputDir dir = OutputDir.create(out);
        String samName = adaptive ? "ASAM" : "SAM";
        System.out.printf(Locale.ROOT, "story wide-narrow: MLP 784-%s-10, SGD (momentum 0.9) vs %s (rho %s) around "
                        + "it, lr %s cosine, batch %d, %d epochs on %d examples, seeds %d..%d; profiles over [-%s, %s]%s%n",
                join(widths), samName, rho, lr, batch, ep, limit, seed, seed + seeds - 1, range, range,
                grid > 0 ? ", " + grid + "x" + grid + " planes for seed " + seed : "");
        DataSource train = trainData(limit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
        int examples = trainCount(limit);
        LandscapeCommand.Common lineCommon = common(dir.resolve("lines"));
        lineCommon.sharpnessExamples = Math.min(sharpnessExamples, examples);
        lineCommon.powerIterations = powerIterations;
        OutputDir lines = dir.sub("lines");
        List<Run> sgd = new ArrayList<>();
        List<Run> sam = new ArrayList<>();
        List<HeatmapPanel> planes = new ArrayList<>();
        Map<String, Object> planeSummary = new LinkedHashMap<>();
        for (int i = 0; i < seeds; i++) {
            long s = seed + i;
            ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                    .activation(Activation.RELU).output(10).init("kaiming-normal").seed(s).build();
            Optimizer base = Optimizer.momentum(lr, 0.9);
            for (boolean useSam : new boolean[] {false, true}) {
                String name = (useSam ? "sam" : "sgd") + "-seed" + s;
                Optimizer opt = useSam ? Optimizer.sam(base, rho, adaptive) : base;
                Path file = dir.resolve(name + ".descent");
                TrainingResult tr = train(def, train, examples, test, ep, s, opt, file,
                        (useSam ? samName : "SGD") + " seed " + s);
                try (Network net = Network.load(file)) {
                    LandscapeResult line = LandscapeCommand.evaluate(lineCommon, lines, lineCommon.apply(
                            LandscapePlan.builder().line(net, range, points), lines, name).seed(s)
                            .norm(DirectionNorm.FILTER).ignoreBiases(true), "profile " + name);
                    line.writeCsv(lines.resolve(name + ".csv"));
                    Files.deleteIfExists(lines.resolve(name + ".partial.csv"));
                    SharpnessReport sh = line.sharpness().getFirst();
                    System.out.printf(Locale.ROOT, "  %s: lambda_max %.4g (%s, %d iterations, relative change %.2g, "
                                    + "%s) basin width %.3f test accuracy %.4f%n", name, sh.topHessianEigenvalue(),
                            sh.converged() ? "converged" : "NOT converged", sh.powerIterations(),
                            sh.lastRelativeChange(), sh.hessianVectorProducts(), basinWidth(line),
                            tr.last().testAccuracy());
                    Run run = new Run(useSam ? samName.toLowerCase(Locale.ROOT) : "sgd", s, tr, line, sh,
                            basinWidth(line));
                    (useSam ? sam : sgd).add(run);
                    if (i == 0 && grid > 0) {
                        LandscapeCommand.Common pc = common(dir.resolve("planes"));
                        pc.testExamples = "0";
                        pc.sharpnessExamples = 0;
                        OutputDir pd = dir.sub("planes");
                        LandscapeResult plane = LandscapeCommand.evaluate(pc, pd, pc.apply(LandscapePlan.builder()
                                .plane(net, range, grid), pd, name).seed(s).norm(DirectionNorm.FILTER)
                                .ignoreBiases(true), "plane " + name);
                        plane.writeCsv(pd.resolve(name + ".csv"));
                        Files.deleteIfExists(pd.resolve(name + ".partial.csv"));
                        planes.add(HeatmapPanel.of(String.format(Locale.ROOT, "%s (seed %d): λmax %.1f, test acc %.3f",
                                        useSam ? samName : "SGD", s, sh.topHessianEigenvalue(),
                                        tr.last().testAccuracy()), "α", "β", plane.xs(), plane.ys(),
                                plane.trainLossGrid(), "train loss", true));
                        Map<String, Object> p = new LinkedHashMap<>();
                        p.put("centre_train_loss", plane.point(plane.centreIndex()).trainLoss());
                        p.put("max_train_loss", plane.maxTrainLoss());
                        p.put("area_fraction_below_2x_centre", areaBelow(plane.trainLossGrid(),
                                2 * plane.point(plane.centreIndex()).trainLoss()));
                        planeSummary.put(useSam ? "sam" : "sgd", p);
                    }
                }
            }
        }
        writeFigures(dir, sgd, sam, planes, samName);
        Map<String, Object> summary = new LinkedHashMap<>();
        Map<String, Object> runs = new LinkedHashMap<>();
        runs.put("sgd", runSummary(sgd));
        runs.put("sam", runSummary(sam));
        summary.put("runs", runs);
        double lSgd = mean(sgd, r -> r.sharpness().topHessianEigenvalue());
        double lSam = mean(sam, r -> r.sharpness().topHessianEigenvalue());
        double aSgd = mean(sgd, r -> r.training().last().testAccuracy());
        double aSam = mean(sam, r -> r.training().last().testAccuracy());
        double wSgd = mean(sgd, Run::basinWidth);
        double wSam = mean(sam, Run::basinWidth);
        Map<String, Object> verdict = new LinkedHashMap<>();
        verdict.put("sam_smaller_lambda_max", lSam < lSgd);
        verdict.put("sam_wider_basin", wSam > wSgd);
        verdict.put("sam_test_accuracy_at_least_sgd", aSam >= aSgd);
        verdict.put("lambda_max_ratio_sgd_over_sam", lSgd / lSam);
        verdict.put("test_accuracy_difference_sam_minus_sgd", aSam - aSgd);
        summary.put("verdict", verdict);
        if (!planeSummary.isEmpty()) {
            summary.put("planes_seed_" + seed, planeSummary);
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", "MLP 784-" + join(widths) + "-10, ReLU, Kaiming normal");
        cfg.put("sgd", Optimizer.momentum(lr, 0.9).toString());
        cfg.put("sam", Optimizer.sam(Optimizer.momentum(lr, 0.9), rho, adaptive).toString());
        cfg.put("schedule", "cosine from " + lr + " to 0");
        cfg.put("batch", batch);
        cfg.put("epochs", ep);
        cfg.put("train_examples", examples);
        cfg.put("eval_examples", evalExamples);
        cfg.put("sharpness_examples", lineCommon.sharpnessExamples);
        cfg.put("power_iterations_max", powerIterations);
        cfg.put("range", range);
        cfg.put("points", points);
        cfg.put("grid", grid);
        cfg.put("norm", "filter, biases ignored; same direction seed for SGD and SAM of one seed");
        cfg.put("seed", seed);
        cfg.put("seeds", seeds);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.printf(Locale.ROOT, "SGD: lambda_max %.4g, basin width %.3f, test accuracy %.4f | %s: lambda_max %.4g,"
                + " basin width %.3f, test accuracy %.4f (means over %d seeds)%n", lSgd, wSgd, aSgd, samName, lSam, wSam,
                aSam, seeds);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private void validate() {
        if (seeds < 1) {
            throw new UserError("--seeds must be >= 1, was " + seeds);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new UserError("--lr must be a finite number > 0, was " + lr);
        }
        if (!(rho > 0) || Double.isInfinite(rho)) {
            throw new UserError("--rho must be a finite number > 0, was " + rho);
        }
        if (batch < 1) {
            throw new UserError("--batch must be >= 1, was " + batch);
        }
        if (points < 3 || points % 2 == 0) {
            throw new UserError("--points must be odd and >= 3 (the centre is a point), was " + points);
        }
        if (grid != 0 && (grid < 3 || grid % 2 == 0)) {
            throw new UserError("--grid must be 0 or odd and >= 3, was " + grid);
        }
        if (!(range > 0) || Double.isInfinite(range)) {
            throw new UserError("--range must be a finite number > 0, was " + range);
        }
        if (sharpnessExamples < 1 || powerIterations < 1) {
            throw new UserError("--sharpness-examples and --power-iterations must be >= 1, were "
                    + sharpnessExamples + " and " + powerIterations);
        }
        for (int w : widths) {
            if (w < 1) {
                throw new UserError("--widths must all be >= 1, got " + join(widths));
            }
        }
    }

    private TrainingResult train(ModelDefinition model, DataSource train, int examples, DataSource test, int ep,
                                 long s, Optimizer opt, Path modelFile, String label) {
        int perEpoch = (examples + batch - 1) / batch;
        ProgressBar bar = new ProgressBar(System.out, "train " + label, (long) perEpoch * ep);
        TrainingResult r = Descent.trainInProcess(TrainingPlan.builder().model(model).train(train).test(test)
                .optimizer(opt).schedule(Schedule.cosine(lr, 0.0)).batchSize(batch).epochs(ep).seed(s)
                .modelFile(modelFile).listener(e -> {
                    if (e instanceof TrainingEvent.StepCompleted st) {
                        bar.update(st.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4f",
                                st.epoch() + 1, ep, st.loss()));
                    }
                }).build());
        EpochSummary last = r.last();
        bar.finish(String.format(Locale.ROOT, "train loss %.4f acc %.4f | test loss %.4f acc %.4f",
                last.trainLoss(), last.trainAccuracy(), last.testLoss(), last.testAccuracy()));
        return r;
    }

    private void writeFigures(OutputDir dir, List<Run> sgd, List<Run> sam, List<HeatmapPanel> planes, String samName) {
        List<Series> profile = new ArrayList<>();
        for (List<Run> runs : List.of(sgd, sam)) {
            for (Run r : runs) {
                double[] x = new double[r.line().points().size()];
                double[] y = new double[x.length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = r.line().point(i).a();
                    y[i] = r.line().point(i).trainLoss();
                }
                profile.add(new Series(String.format(Locale.ROOT, "%s seed %d", runs == sgd ? "SGD" : samName,
                        r.seed()), x, y));
            }
        }
        double[] seedAxis = new double[sgd.size()];
        double[][] lambda = new double[2][sgd.size()];
        double[][] acc = new double[2][sgd.size()];
        for (int i = 0; i < sgd.size(); i++) {
            seedAxis[i] = sgd.get(i).seed();
            lambda[0][i] = sgd.get(i).sharpness().topHessianEigenvalue();
            lambda[1][i] = sam.get(i).sharpness().topHessianEigenvalue();
            acc[0][i] = sgd.get(i).training().last().testAccuracy();
            acc[1][i] = sam.get(i).training().last().testAccuracy();
        }
        Panel line = Panel.of("1-D profile around each solution (filter-normalized direction)", "α",
                "train loss", profile).withLogY();
        Panel numbers = Panel.of("Top Hessian eigenvalue (left) and test accuracy (right) per seed", "seed",
                "λmax", List.of(new Series("SGD λmax", seedAxis, lambda[0]),
                        new Series(samName + " λmax", seedAxis, lambda[1])))
                .withSecondAxis("test accuracy", List.of(new Series("SGD test acc", seedAxis, acc[0]),
                        new Series(samName + " test acc", seedAxis, acc[1])));
        Figures.write(dir.resolve("wide-narrow-profile.png"), "Wide vs narrow minima: SGD vs " + samName, List.of(line,
                numbers), 2);
        if (!planes.isEmpty()) {
            Heatmaps.writeShared(dir.resolve("wide-narrow-plane.png"), "Train loss on a filter-normalized "
                    + "random plane around each solution (one colour scale, same contour levels)", planes, planes.size());
        }
    }

    private static Map<String, Object> runSummary(List<Run> runs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lambda_max", mean(runs, r -> r.sharpness().topHessianEigenvalue()));
        m.put("test_accuracy", mean(runs, r -> r.training().last().testAccuracy()));
        m.put("basin_width", mean(runs, Run::basinWidth));
        m.put("train_loss", mean(runs, r -> r.training().last().trainLoss()));
        m.put("train_accuracy", mean(runs, r -> r.training().last().trainAccuracy()));
        m.put("epsilon_sharpness_percent", mean(runs, r -> r.sharpness().epsilonSharpnessPercent()));
        m.put("seeds", runs.stream().map(Run::seed).toList());
        List<Map<String, Object>> per = new ArrayList<>();
        for (Run r : runs) {
            Map<String, Object> p = new LinkedHashMap<>();
            SharpnessReport s = r.sharpness();
            p.put("seed", r.seed());
            p.put("lambda_max", s.topHessianEigenvalue());
            p.put("power_iterations", s.powerIterations());
            p.put("last_relative_change", s.lastRelativeChange());
            p.put("converged", s.converged());
            p.put("hessian_vector_products", s.hessianVectorProducts());
            p.put("sharpness_seconds", s.seconds());
            p.put("epsilon_sharpness_percent", s.epsilonSharpnessPercent());
            p.put("basin_width", r.basinWidth());
            p.put("test_accuracy", r.training().last().testAccuracy());
            p.put("test_loss", r.training().last().testLoss());
            p.put("train_loss", r.training().last().trainLoss());
            p.put("train_accuracy", r.training().last().trainAccuracy());
            p.put("profile_min_train_loss", r.line().minTrainLoss());
            p.put("parameters_sha256", r.training().parametersSha256());
            per.add(p);
        }
        m.put("per_seed", per);
        return m;
    }

    private static double mean(List<Run> runs, java.util.function.ToDoubleFunction<Run> f) {
        return runs.stream().mapToDouble(f).average().orElse(Double.NaN);
    }

    /**
     * Width in α of the stretch of the 1-D profile, around its lowest point, where the train loss stays below twice
     * that minimum (the basin width; the profile's ends cap it at 2·range).
     */
    static double basinWidth(LandscapeResult line) {
        int n = line.points().size();
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (line.point(i).trainLoss() < line.point(best).trainLoss()) {
                best = i;
            }
        }
        double limit = 2 * line.point(best).trainLoss();
        int lo = best;
        while (lo > 0 && line.point(lo - 1).trainLoss() < limit) {
            lo--;
        }
        int hi = best;
        while (hi < n - 1 && line.point(hi + 1).trainLoss() < limit) {
            hi++;
        }
        return line.point(hi).a() - line.point(lo).a();
    }

    /** Fraction of the plane's grid points whose value is below {@code limit}. */
    static double areaBelow(double[][] z, double limit) {
        int below = 0;
        int all = 0;
        for (double[] row : z) {
            for (double v : row) {
                all++;
                below += v < limit ? 1 : 0;
            }
        }
        return (double) below / all;
    }

    private static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "-").append(w[i]);
        }
        return sb.toString();
    }
}
