package dev.descent.samples.story.mpo;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.RunEstimate;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.LandscapePoint;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.LandscapeResumeException;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.PlaneTrainer;
import dev.descent.sdk.Split;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story mpo}: "Loss Landscape Sightseeing with Multi-Point Optimization" (Skorokhodov &amp; Burtsev
 * 2019) on Fashion-MNIST. A plane of MLPs w(a, b) = origin + a·u + b·v is trained — origin, u and v together — so that
 * its loss draws an icon: low on the icon's dark cells, high (up to a cap) on its light cells. Then the plane is saved
 * as a model file and a directions file, evaluated on its grid with the SDK's landscape job (the same that
 * {@code descent landscape plane} runs), and drawn next to the icon.
 */
@Command(name = "mpo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Multi-point optimization (Skorokhodov & Burtsev 2019): trains a plane of MLPs "
                + "w(a,b) = origin + a*u + b*v (origin, u, v together) on Fashion-MNIST so that the loss over the plane "
                + "draws an icon: low on its dark cells, high on its light cells.",
            "Writes mpo.png (icon, train-loss map, test-accuracy map), mpo-training.png, landscape.csv, training.csv, "
                + "icon.txt, origin.descent + directions.descentd (open them with `descent landscape plane --model "
                + "origin.descent --directions directions.descentd --range 1 --grid N`) and summary.json to --out."})
public final class MpoStory implements Callable<Integer> {
    @Option(names = "--icon", defaultValue = "heart", description = "built-in icon (heart, smiley, letter-d) or an "
            + "image file (PNG, GIF, BMP, JPEG: grayscale, resized to the grid) or a .txt grid of '#' and '.' "
            + "(default: ${DEFAULT-VALUE})")
    String icon;

    @Option(names = "--grid", defaultValue = "17", description = "cells per side of the plane's grid over [-range, "
            + "range]^2 (default: ${DEFAULT-VALUE})")
    int grid;

    @Option(names = "--range", defaultValue = "1.0", description = "a and b run over [-range, range] (default: ${DEFAULT-VALUE})")
    double range;

    @Option(names = "--widths", defaultValue = "64", split = ",", description = "hidden widths of the MLP (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--steps", defaultValue = "8000", description = "optimizer steps of the plane (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "64", description = "training examples per step, shared by the step's cells (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--cells", defaultValue = "8", description = "dark and light cells sampled per step, each (default: ${DEFAULT-VALUE}; the paper: 50)")
    int cells;

    @Option(names = "--train-cells", defaultValue = "boundary", description = "which cells are trained: boundary (next "
            + "to a cell of the other kind, as the paper) or all (default: ${DEFAULT-VALUE})")
    String trainCells;

    @Option(names = "--lr", defaultValue = "0.001", description = "Adam learning rate of origin, u and v (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--loss-cap", defaultValue = "2.5", description = "light cells' loss is maximized up to this value (default: ${DEFAULT-VALUE}, as the paper)")
    double lossCap;

    @Option(names = "--train-limit", defaultValue = "20000", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--eval-examples", defaultValue = "1000", description = "train and test examples per grid cell of the final maps (default: ${DEFAULT-VALUE})")
    int evalExamples;

    @Option(names = "--checkpoint-every", defaultValue = "250", description = "write plane.state every N steps; rerun with --resume to continue (default: ${DEFAULT-VALUE})")
    int checkpointEvery;

    @Option(names = "--resume", description = "continue from plane.state in --out (same settings) instead of starting afresh")
    boolean resume;

    @Option(names = "--evaluators", description = "grid cells evaluated in parallel (default: the number of cores)")
    Integer evaluators;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the three initial networks, batches and sampled cells (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--out", defaultValue = "out/story-mpo", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (grid < 3 || !(range > 0) || Double.isInfinite(range) || steps < 1 || batch < 1 || cells < 1 || !(lr > 0)
                || !(lossCap > 0) || trainLimit < 1 || evalExamples < 1 || checkpointEvery < 1 || widths.length == 0
                || Arrays.stream(widths).anyMatch(w -> w < 1) || evaluators != null && evaluators < 1) {
            throw new UserError("--grid must be >= 3, --range, --lr, --loss-cap > 0, --steps, --batch, --cells, "
                    + "--train-limit, --eval-examples, --checkpoint-every, --evaluators and every --widths >= 1; were "
                    + grid + ", " + range + ", " + lr + ", " + lossCap + ", " + steps + ", " + batch + ", " + cells
                    + ", " + trainLimit + ", " + evalExamples + ", " + checkpointEvery + ", " + evaluators + ", "
                    + Arrays.toString(widths));
        }
        boolean boundary = switch (trainCells.trim().toLowerCase(Locale.ROOT)) {
            case "boundary" -> true;
            case "all" -> false;
            default -> throw new UserError("--train-cells must be boundary or all, was '" + trainCells + "'");
        };
        Icon target = Icon.load(icon, grid);
        if (target.darkCells() == 0 || target.darkCells() == grid * grid) {
            throw new UserError("--icon " + icon + " at " + grid + "x" + grid + " has " + target.darkCells() + " dark "
                    + "cells of " + grid * grid + ": it needs both dark and light cells");
        }
        DataSource train = Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(trainLimit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
        int examples = Math.min(trainLimit, Corpus.FASHION_MNIST.count(Split.TRAIN, dataDir));
        OutputDir dir = OutputDir.create(out, resume);
        Path state = dir.resolve("plane.state");
        String arch = "MLP 784-" + join(widths) + "-10";
        System.out.printf(Locale.ROOT, "story mpo: icon %s (%d of %dx%d cells dark), %s ReLU; %d Adam steps (lr %s) "
                + "on %d examples, batch %d, %d dark + %d light cells per step, loss cap %s, seed %d%n",
                target.name(), target.darkCells(), grid, grid, arch, steps, lr, examples, batch, cells, cells,
                lossCap, seed);
        dir.writeString("icon.txt", target.text());

        ModelDefinition[] defs = new ModelDefinition[3];
        for (int i = 0; i < 3; i++) {
            defs[i] = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                    .activation(Activation.RELU).output(10).init("kaiming-normal").seed(seed * 3 + i).build();
        }
        Path originFile = dir.resolve("origin.descent");
        Path directionsFile = dir.resolve("directions.descentd");
        Path log = dir.resolve("training.csv");
        long cpu0 = cpuNanos();
        long wall0 = System.nanoTime();
        try (PlaneTrainer t = PlaneTrainer.builder().model(defs[0], defs[1], defs[2]).train(train)
                .target(target.target()).range(range).batchSize(batch).cellsPerStep(cells, cells).lossCap(lossCap)
                .optimizer(Optimizer.adam(lr)).boundaryOnly(boundary).seed(seed).open()) {
            System.out.printf(Locale.ROOT, "trained cells: %d dark, %d light (%s)%n", t.trainedLowCells(),
                    t.trainedHighCells(), boundary ? "on the icon's edges" : "all");
            boolean resumed = resume && t.resume(state);
            if (resumed) {
                System.out.printf(Locale.ROOT, "resumed from %s at step %d%n", state, t.step());
            } else {
                Files.writeString(log, "step,objective,dark_loss,light_loss_capped,dark_accuracy,light_accuracy,"
                        + "capped_cells,gradient_norm\n");
            }
            trainPlane(t, state, log);
            t.save(originFile, directionsFile);
        }
        double trainSeconds = (System.nanoTime() - wall0) / 1e9;
        double trainCpu = (cpuNanos() - cpu0) / 1e9;

        LandscapeResult r = evaluate(dir, originFile, directionsFile, train, test);
        r.writeCsv(dir.resolve("landscape.csv"));
        Files.deleteIfExists(dir.resolve("landscape.partial.csv"));
        double[][] loss = r.trainLossGrid();
        double[][] testAcc = testAccuracyGrid(r);
        boolean[][] low = target.target();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("icon", target.name());
        summary.put("grid", grid);
        summary.put("iou", PlaneMetrics.iou(low, PlaneMetrics.belowQuantile(loss, 0.5)));
        double darkFraction = (double) target.darkCells() / (grid * grid);
        summary.put("iou_at_icon_fraction", PlaneMetrics.iou(low, PlaneMetrics.belowQuantile(loss, darkFraction)));
        summary.put("iou_chance", PlaneMetrics.chanceIou(darkFraction, 0.5));
        summary.put("iou_test_loss", PlaneMetrics.iou(low, PlaneMetrics.belowQuantile(r.testLossGrid(), 0.5)));
        summary.put("mean_test_accuracy_inside", PlaneMetrics.mean(testAcc, low, true));
        summary.put("mean_test_accuracy_outside", PlaneMetrics.mean(testAcc, low, false));
        summary.put("mean_train_loss_inside", PlaneMetrics.mean(loss, low, true));
        summary.put("mean_train_loss_outside", PlaneMetrics.mean(loss, low, false));
        summary.put("dark_cells", target.darkCells());
        summary.put("train_seconds", trainSeconds);
        summary.put("train_cpu_seconds", trainCpu);
        Map<String, Object> files = new LinkedHashMap<>();
        files.put("origin", "origin.descent");
        files.put("directions", "directions.descentd");
        files.put("reopen", String.format(Locale.ROOT, "./descent landscape plane --model %s --directions %s --range %s "
                + "--grid %d", originFile, directionsFile, range, grid));
        summary.put("files", files);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", arch + " ReLU, Kaiming normal; plane through three networks (seeds " + (seed * 3) + ", "
                + (seed * 3 + 1) + ", " + (seed * 3 + 2) + "), v orthogonalized to u, |v| = |u|");
        cfg.put("objective", "mean CE of dark cells - mean min(CE, cap) of light cells, one batch per step");
        cfg.put("trained_cells", boundary ? "boundary (next to a cell of the other kind)" : "all");
        cfg.put("range", range);
        cfg.put("steps", steps);
        cfg.put("batch", batch);
        cfg.put("cells_per_step", Map.of("dark", cells, "light", cells));
        cfg.put("optimizer", "adam lr " + lr);
        cfg.put("loss_cap", lossCap);
        cfg.put("train_examples", examples);
        cfg.put("eval_examples", evalExamples);
        cfg.put("seed", seed);
        summary.put("config", cfg);

        draw(dir, target, r, loss, testAcc, arch, summary);
        drawTraining(dir, log);
        dir.writeJson("summary.json", summary);
        System.out.printf(Locale.ROOT, "IoU %.3f (chance %.3f), mean test accuracy inside %.3f, outside %.3f%n",
                (double) summary.get("iou"), (double) summary.get("iou_chance"),
                (double) summary.get("mean_test_accuracy_inside"), (double) summary.get("mean_test_accuracy_outside"));
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private void trainPlane(PlaneTrainer t, Path state, Path log) throws IOException {
        ProgressBar bar = new ProgressBar(System.out, "plane", steps);
        RunEstimate estimate = new RunEstimate(System.out);
        int logEvery = Math.max(1, steps / 200);
        StringBuilder lines = new StringBuilder();
        long startStep = t.step();
        while (t.step() < steps) {
            PlaneTrainer.StepStats s = t.train(1);
            estimate.onStep(t.step() - startStep, steps - startStep);
            if (t.step() % logEvery == 0 || t.step() == steps) {
                lines.append(String.format(Locale.ROOT, "%d,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.6g%n", s.step(),
                        s.objective(), s.lowLoss(), s.highLoss(), s.lowAccuracy(), s.highAccuracy(), s.cappedCells(),
                        s.gradientNorm()));
                bar.update(t.step(), String.format(Locale.ROOT, "dark loss %.3f acc %.2f | light loss %.3f acc %.2f",
                        s.lowLoss(), s.lowAccuracy(), s.highLoss(), s.highAccuracy()));
            }
            if (t.step() % checkpointEvery == 0 || t.step() == steps) {
                Files.writeString(log, lines, StandardOpenOption.APPEND); // the log up to the checkpoint
                lines.setLength(0);
                t.checkpoint(state);
            }
        }
        PlaneTrainer.StepStats last = t.last();
        bar.finish(last == null ? "nothing to do: plane.state is at step " + t.step() : String.format(Locale.ROOT,
                "dark loss %.3f acc %.2f | light loss %.3f acc %.2f", last.lowLoss(), last.lowAccuracy(),
                last.highLoss(), last.highAccuracy()));
    }

    private LandscapeResult evaluate(OutputDir dir, Path originFile, Path directionsFile, DataSource train,
                                     DataSource test) {
        try (Network origin = Network.load(originFile)) {
            LandscapePlan.Builder plan = LandscapePlan.builder().plane(origin, range, grid)
                    .directionsFile(directionsFile).train(train.limit(evalExamples)).test(test.limit(evalExamples))
                    .evalBatch(500).sharpness(0, 1).partialResults(dir.resolve("landscape.partial.csv"), !resume);
            if (evaluators != null) {
                plan.evaluators(evaluators);
            }
            ProgressBar[] bar = {null};
            plan.listener((done, total, last) -> bar[0].update(done, String.format(Locale.ROOT,
                    "%d/%d cells, train loss %.3f", done, total, last.trainLoss())));
            LandscapePlan p = plan.build();
            bar[0] = new ProgressBar(System.out, "map", p.points());
            LandscapeResult r = Descent.landscape(p);
            bar[0].finish(String.format(Locale.ROOT, "%d cells on %d evaluator(s), %.1f cells/s", r.evaluated(),
                    r.evaluators(), r.pointsPerSecond()));
            return r;
        } catch (LandscapeResumeException e) {
            throw new UserError(e.getMessage() + " (rerun without --resume)", e);
        }
    }

    private static double[][] testAccuracyGrid(LandscapeResult r) {
        double[][] g = new double[r.ys().length][r.xs().length];
        for (LandscapePoint p : r.points()) {
            g[p.index() / r.xs().length][p.index() % r.xs().length] = p.testAccuracy();
        }
        return g;
    }

    private void draw(OutputDir dir, Icon target, LandscapeResult r, double[][] loss, double[][] testAcc, String arch,
                      Map<String, Object> summary) {
        boolean[][] low = target.target();
        double[][] light = new double[grid][grid];
        for (int j = 0; j < grid; j++) {
            for (int i = 0; i < grid; i++) {
                light[j][i] = low[j][i] ? 0 : 1;
            }
        }
        List<HeatmapPanel> panels = new ArrayList<>();
        panels.add(new HeatmapPanel("target: " + Path.of(target.name()).getFileName() + " (dark = low loss)", "a",
                "b", r.xs(), r.ys(), light, "light cell", false, 1, null, null));
        panels.add(HeatmapPanel.of(String.format(Locale.ROOT, "train loss (IoU with the icon %.2f)",
                (double) summary.get("iou")), "a", "b", r.xs(), r.ys(), loss, "train loss", true));
        panels.add(HeatmapPanel.of(String.format(Locale.ROOT, "test accuracy (inside %.2f, outside %.2f)",
                (double) summary.get("mean_test_accuracy_inside"), (double) summary.get("mean_test_accuracy_outside")),
                "a", "b", r.xs(), r.ys(), testAcc, "test accuracy", false));
        Heatmaps.write(dir.resolve("mpo.png"), "Multi-point optimization: a plane w(a,b) = origin + a·u + b·v of " + arch
                + " nets on Fashion-MNIST, trained to draw the icon", panels);
    }

    private static void drawTraining(OutputDir dir, Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        int n = lines.size() - 1;
        double[] step = new double[n];
        double[] dark = new double[n];
        double[] light = new double[n];
        double[] darkAcc = new double[n];
        double[] lightAcc = new double[n];
        for (int i = 0; i < n; i++) {
            String[] f = lines.get(i + 1).split(",");
            step[i] = Double.parseDouble(f[0]);
            dark[i] = Double.parseDouble(f[2]);
            light[i] = Double.parseDouble(f[3]);
            darkAcc[i] = Double.parseDouble(f[4]);
            lightAcc[i] = Double.parseDouble(f[5]);
        }
        if (n == 0) {
            return;
        }
        Figures.write(dir.resolve("mpo-training.png"), "Training the plane: batch loss and accuracy at the sampled cells",
                List.of(Panel.of("batch loss", "step", "cross-entropy", List.of(new Series("dark cells (minimized)",
                                step, dark), new Series("light cells (maximized, capped)", step, light))),
                        Panel.of("batch accuracy", "step", "accuracy", List.of(new Series("dark cells", step, darkAcc),
                                new Series("light cells", step, lightAcc)))));
    }

    /** CPU time of this thread, which runs the plane's training (one GEMM thread). */
    private static long cpuNanos() {
        java.lang.management.ThreadMXBean t = java.lang.management.ManagementFactory.getThreadMXBean();
        return t.isCurrentThreadCpuTimeSupported() ? t.getCurrentThreadCpuTime() : 0;
    }

    private static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "-").append(w[i]);
        }
        return sb.toString();
    }
}
