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
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import dev.descent.sdk.TrajectoryProjection;
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
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story landscape-plane}: the lecture's 2-D pictures of one training run — the loss on a random
 * filter-normalized plane around the initial point w0 and around the trained point w*, and the optimizer's path on
 * the plane of its first two principal components (PCA of per-few-steps snapshots).
 */
@Command(name = "landscape-plane", mixinStandardHelpOptions = true, sortOptions = false,
        defaultValueProvider = StoryCommand.PlaneDefaults.class,
        description = {"Trains an MLP once, saving the model every few steps; draws the train loss on a random "
                + "filter-normalized plane around w0 and around w* (one colour scale), and the training path on the "
                + "plane of its first two principal components, with the explained variance on the axes.",
            "Writes landscape-plane-random.png, landscape-plane-surface.png, landscape-plane-pca.png, planes/*.csv, "
                + "trajectory.csv, trajectory/*.descent and summary.json to --out."})
final class LandscapePlaneStory extends StoryCommand.StoryOptions implements Callable<Integer> {
    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--lr", defaultValue = "0.02", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--snapshot-every", defaultValue = "10", description = "save the model every N optimizer steps for "
            + "the PCA path (default: ${DEFAULT-VALUE})")
    int snapshotEvery;

    @Option(names = "--grid", defaultValue = "21", description = "points per side of each plane (default: ${DEFAULT-VALUE})")
    int grid;

    @Option(names = "--range", defaultValue = "1.0", description = "random planes over [-range, range]² (default: ${DEFAULT-VALUE})")
    double range;

    @Option(names = "--out", defaultValue = "out/story-landscape-plane", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        if (snapshotEvery < 1 || grid < 3 || !(range > 0) || !(lr > 0) || widths.length == 0) {
            throw new UserError("--snapshot-every must be >= 1, --grid >= 3, --range and --lr > 0, --widths non-empty;"
                    + " were " + snapshotEvery + ", " + grid + ", " + range + ", " + lr);
        }
        int ep = epochs == null ? 10 : epochs;
        int limit = trainLimit == null ? 6000 : trainLimit;
        OutputDir dir = OutputDir.create(out);
        OutputDir planes = dir.sub("planes");
        Path trajectory = dir.resolve("trajectory");
        String arch = "MLP 784-" + join(widths) + "-10";
        System.out.printf(Locale.ROOT, "story landscape-plane: %s, %d epochs on %d examples, a snapshot every %d steps;"
                + " %dx%d planes%n", arch, ep, limit, snapshotEvery, grid, grid);
        DataSource train = trainData(limit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
        int examples = trainCount(limit);
        Files.createDirectories(planes.path()); // inputs and data are valid: the run writes here from now on
        ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                .activation(Activation.RELU).output(10).init("kaiming-normal").seed(seed).build();
        deleteOld(trajectory);
        Path modelFile = dir.resolve("model.descent");
        TrainingResult tr = train(def, train, examples, test, ep, modelFile, trajectory);
        List<Path> path = new ArrayList<>();
        path.add(trajectory.resolve("epoch-000.descent"));
        try (Stream<Path> s = Files.list(trajectory)) {
            s.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().forEach(path::add);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("training", trainingSummary(tr));
        LandscapeCommand.Common c = common(planes.path());
        c.sharpnessExamples = 0;
        List<HeatmapPanel> maps = new ArrayList<>();
        List<SurfacePanel> surfaces = new ArrayList<>();
        try (Network w0 = Network.load(trajectory.resolve("epoch-000.descent"));
             Network wstar = Network.load(modelFile)) {
            for (String at : List.of("w0", "wstar")) {
                Network centre = at.equals("w0") ? w0 : wstar;
                String label = at.equals("w0") ? "around the initial point w0" : "around the trained point w*";
                LandscapeResult r = LandscapeCommand.evaluate(c, planes, c.apply(LandscapePlan.builder()
                        .plane(centre, range, grid), planes, at).seed(seed).norm(DirectionNorm.FILTER)
                        .ignoreBiases(true), "plane " + at);
                r.writeCsv(planes.resolve(at + ".csv"));
                Files.deleteIfExists(planes.resolve(at + ".partial.csv"));
                maps.add(HeatmapPanel.of(label, "α", "β", r.xs(), r.ys(), r.trainLossGrid(), "train loss", true));
                surfaces.add(SurfacePanel.of(label, "α", "β", r.xs(), r.ys(), r.trainLossGrid(), "train loss", true));
                summary.put("plane_" + at, planeSummary(r));
            }
            LandscapeResult pca = LandscapeCommand.evaluate(c, planes, c.apply(LandscapePlan.builder()
                    .trajectoryPlane(wstar, path, grid), planes, "pca"), "pca plane");
            pca.writeCsv(planes.resolve("pca.csv"));
            Files.deleteIfExists(planes.resolve("pca.partial.csv"));
            TrajectoryProjection t = pca.trajectory();
            double[][] xy = t.coords();
            double[] ev = t.explained();
            writeTrajectoryCsv(dir.resolve("trajectory.csv"), t);
            String xLabel = String.format(Locale.ROOT, "PC1 (%.1f %% of the path's variance)", 100 * ev[0]);
            String yLabel = String.format(Locale.ROOT, "PC2 (%.1f %%)", 100 * ev[1]);
            Heatmaps.write(dir.resolve("landscape-plane-pca.png"), String.format(Locale.ROOT, "The path on its PCA "
                    + "plane (%d points, every %d steps)", xy.length, snapshotEvery),
                    List.of(HeatmapPanel.of("train loss of the " + arch, xLabel, yLabel, pca.xs(), pca.ys(),
                    pca.trainLossGrid(), "train loss", true).withPath(xy, "SGD path, momentum 0.9")));
            Map<String, Object> p = planeSummary(pca);
            p.put("snapshots", xy.length);
            p.put("explained_variance", ev);
            summary.put("plane_pca", p);
        }
        Heatmaps.writeShared(dir.resolve("landscape-plane-random.png"), "Train loss of the " + arch + " on a random "
                + "filter-normalized plane (one colour scale)", maps, 2);
        SurfaceRenderer.writeShared(dir.resolve("landscape-plane-surface.png"), "Train loss surfaces of the " + arch
                + " (log height, one scale)", surfaces, 2);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", arch + " ReLU, Kaiming normal");
        cfg.put("epochs", ep);
        cfg.put("train_examples", limit);
        cfg.put("lr", lr);
        cfg.put("snapshot_every_steps", snapshotEvery);
        cfg.put("eval_examples", evalExamples);
        cfg.put("grid", grid);
        cfg.put("range", range);
        cfg.put("norm", "filter, biases ignored (random planes); PCA of the snapshots (trajectory plane)");
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private TrainingResult train(ModelDefinition def, DataSource train, int examples, DataSource test, int ep,
                                 Path modelFile, Path trajectory) {
        int perEpoch = (examples + 127) / 128;
        ProgressBar bar = new ProgressBar(System.out, "train", (long) perEpoch * ep);
        TrainingResult r = Descent.trainInProcess(TrainingPlan.builder().model(def).train(train).test(test)
                .optimizer(Optimizer.momentum(lr, 0.9)).schedule(Schedule.cosine(lr, 0.0)).batchSize(128).epochs(ep)
                .seed(seed).modelFile(modelFile).trajectoryDir(trajectory).trajectoryEverySteps(snapshotEvery)
                .listener(e -> {
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

    /** A rerun must not mix in snapshots of an earlier run with other settings. */
    private static void deleteOld(Path trajectory) throws IOException {
        if (!Files.isDirectory(trajectory)) {
            return;
        }
        try (Stream<Path> s = Files.list(trajectory)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".descent")).toList()) {
                Files.delete(p);
            }
        }
    }

    private static Map<String, Object> planeSummary(LandscapeResult r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("centre_train_loss", r.point(r.points().size() / 2).trainLoss());
        m.put("train_loss_min", min(r.trainLossGrid()));
        m.put("train_loss_max", r.maxTrainLoss());
        m.put("local_minima_on_grid", StoryCommand.localMinima(r.trainLossGrid()));
        m.put("x_range", new double[] {r.xs()[0], r.xs()[r.xs().length - 1]});
        m.put("y_range", new double[] {r.ys()[0], r.ys()[r.ys().length - 1]});
        return m;
    }

    private static void writeTrajectoryCsv(Path csv, TrajectoryProjection t) throws IOException {
        StringBuilder sb = new StringBuilder("file,pc1,pc2\n");
        double[][] xy = t.coords();
        for (int i = 0; i < xy.length; i++) {
            String name = i < t.files().size() ? t.files().get(i).getFileName().toString() : "model.descent (w*)";
            sb.append(String.format(Locale.ROOT, "%s,%.6g,%.6g%n", name, xy[i][0], xy[i][1]));
        }
        Files.writeString(csv, sb.toString());
    }

    private static double min(double[][] z) {
        double m = Double.POSITIVE_INFINITY;
        for (double[] row : z) {
            for (double v : row) {
                m = Math.min(m, v);
            }
        }
        return m;
    }

    private static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "-").append(w[i]);
        }
        return sb.toString();
    }
}
