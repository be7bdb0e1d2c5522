package dev.descent.samples.story;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.nio.file.Path;
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
 * {@code descent story gradients}: vanishing and exploding gradients in a deep MLP, measured layer by layer — the
 * "chain of matrices" argument of the lecture. Three configurations of the same depth: {@code vanishing} (sigmoid,
 * Xavier), {@code healthy} (ReLU, Kaiming) and {@code exploding} (ReLU, Kaiming with its standard deviation doubled).
 */
@Command(name = "gradients", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Per-layer gradient norms and update ratios of deep MLPs in three configurations: vanishing "
                + "(sigmoid, Xavier), healthy (ReLU, Kaiming), exploding (ReLU, Kaiming x2), at initialization and "
                + "during training.",
            "Writes gradients.png, update-ratios.png, gradient-heatmaps.png, layer-stats.csv and summary.json to "
                + "--out. The same configurations with `descent train --metrics-port` show it live in Grafana."})
public final class GradientsStory implements Callable<Integer> {
    /** The three configurations: name, activation, initializer (as {@code descent train --activation/--init}). */
    public static final List<String[]> CONFIGS = List.of(
            new String[] {"vanishing", "sigmoid", "xavier-normal"},
            new String[] {"healthy", "relu", "kaiming-normal"},
            new String[] {"exploding", "relu", "kaiming-normal*2"});

    @Option(names = "--depth", defaultValue = "20", description = "Linear layers (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--width", defaultValue = "64", description = "width of every hidden layer (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--train-limit", defaultValue = "6000", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "2000", description = "test accuracy on the first N test examples (default: ${DEFAULT-VALUE})")
    int testLimit;

    @Option(names = "--epochs", defaultValue = "5", description = "epochs of every run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "0.01", description = "learning rate, constant, momentum 0.9, same for every run (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--stats-every", defaultValue = "10", description = "gradient statistics every N steps, from step 1 (default: ${DEFAULT-VALUE})")
    int statsEvery;

    @Option(names = "--seed", defaultValue = "1", description = "seed of weights and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--out", defaultValue = "out/story-gradients", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (depth < 2 || width < 1 || epochs < 1 || batch < 1 || statsEvery < 1 || !(lr > 0)) {
            throw new UserError("--depth must be >= 2, --width, --epochs, --batch, --stats-every >= 1 and --lr > 0; "
                    + "got depth " + depth + ", width " + width + ", epochs " + epochs + ", batch " + batch
                    + ", stats-every " + statsEvery + ", lr " + lr);
        }
        DataSource train = StoryTraining.train(dataDir, trainLimit);
        DataSource test = StoryTraining.test(dataDir, testLimit);
        int examples = StoryTraining.trainExamples(dataDir, trainLimit);
        OutputDir dir = OutputDir.create(out); // only once the data is known to be there
        System.out.printf(Locale.ROOT, "story gradients: MLPs of %d Linear layers (width %d): vanishing (sigmoid, "
                + "Xavier), healthy (ReLU, Kaiming), exploding (ReLU, Kaiming x2); momentum 0.9 lr %s, batch %d, "
                + "%d epochs on %d examples, statistics every %d steps, seed %d%n", depth, width, lr, batch, epochs,
                examples, statsEvery, seed);
        Map<String, Object> configs = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("config,step,layer_index,layer,gradient_norm,update_ratio\n");
        List<Series> initNorms = new ArrayList<>();
        List<Series> lateNorms = new ArrayList<>();
        List<Series> initRatios = new ArrayList<>();
        List<Series> lateRatios = new ArrayList<>();
        List<Series> losses = new ArrayList<>();
        List<HeatmapPanel> heatmaps = new ArrayList<>();
        for (String[] c : CONFIGS) {
            String name = c[0];
            ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape())
                    .hidden(StoryTraining.repeat(width, depth - 1)).activation(Activation.parse(c[1])).output(10)
                    .init(c[2]).seed(seed).build();
            StoryTraining.Run r = StoryTraining.run(name, def, train, examples, test, epochs, batch, lr, seed,
                    statsEvery);
            List<TrainingEvent.GradientStats> stats = r.stats();
            if (stats.isEmpty()) {
                throw new IllegalStateException(name + ": no gradient statistics were published");
            }
            for (TrainingEvent.GradientStats g : stats) {
                for (int l = 0; l < g.layers().size(); l++) {
                    csv.append(String.format(Locale.ROOT, "%s,%d,%d,%s,%.6g,%.6g%n", name, g.step(), l,
                            g.layers().get(l), g.gradientNorms()[l], g.updateRatios()[l]));
                }
            }
            TrainingEvent.GradientStats first = stats.get(0);
            TrainingEvent.GradientStats last = stats.get(stats.size() - 1);
            initNorms.add(Series.ofIndexed(name, positive(first.gradientNorms())));
            initRatios.add(Series.ofIndexed(name, positive(first.updateRatios())));
            lateNorms.add(Series.ofIndexed(name + " (step " + last.step() + ")", positive(last.gradientNorms())));
            lateRatios.add(Series.ofIndexed(name + " (step " + last.step() + ")", positive(last.updateRatios())));
            double[][] sm = StoryTraining.smooth(r.batchLoss(), Math.max(1, r.batchLoss().length / 60));
            losses.add(new Series(name + (r.diverged() ? " (diverged)" : ""), sm[0], sm[1]));
            if (stats.size() >= 2) {
                heatmaps.add(heatmap(name, stats));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("activation", c[1]);
            m.put("init", c[2]);
            m.put("gradient_norm_by_layer", toList(first.gradientNorms()));
            m.put("update_ratio_by_layer", toList(first.updateRatios()));
            m.put("first_over_last_gradient_norm", first.gradientNorms()[0]
                    / first.gradientNorms()[first.gradientNorms().length - 1]);
            m.put("final_train_loss", StoryTraining.number(r.finalTrainLoss()));
            m.put("test_accuracy", StoryTraining.number(r.testAccuracy()));
            m.put("steps", r.steps());
            m.put("diverged", r.diverged());
            if (r.diverged()) {
                m.put("diverged_message", r.divergedMessage());
            }
            m.put("last_stats_step", last.step());
            m.put("gradient_norm_by_layer_last", toList(last.gradientNorms()));
            m.put("update_ratio_by_layer_last", toList(last.updateRatios()));
            configs.put(name, m);
        }
        dir.writeString("layer-stats.csv", csv.toString());
        Figures.write(dir.resolve("gradients.png"), "Gradient norm of every layer, " + depth + "-layer MLPs "
                + "(first layer on the left)", List.of(
                Panel.of("at initialization (step 1)", "layer (1 = first)", "‖∂L/∂W‖ (log)", initNorms).withLogY(),
                Panel.of("after training (last statistics)", "layer (1 = first)", "‖∂L/∂W‖ (log)", lateNorms)
                        .withLogY(),
                Panel.of("train loss", "step", "batch loss (smoothed, log)", losses).withLogY()), 3);
        Figures.write(dir.resolve("update-ratios.png"), "Update-to-parameter ratio ‖Δw‖/‖w‖ of every layer "
                + "(healthy ≈ 1e-3)", List.of(
                Panel.of("first step", "layer (1 = first)", "‖Δw‖/‖w‖ (log)", initRatios).withLogY(),
                Panel.of("last statistics", "layer (1 = first)", "‖Δw‖/‖w‖ (log)", lateRatios).withLogY()), 2);
        if (!heatmaps.isEmpty()) {
            Heatmaps.write(dir.resolve("gradient-heatmaps.png"), "Gradient norm, layer × step (log colour)",
                    heatmaps);
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("configs", configs);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("depth", depth);
        cfg.put("width", width);
        cfg.put("train_examples", examples);
        cfg.put("test_examples", testLimit);
        cfg.put("epochs", epochs);
        cfg.put("batch", batch);
        cfg.put("optimizer", "momentum 0.9, constant lr " + lr);
        cfg.put("stats_every", statsEvery);
        cfg.put("gradient_norm", "L2 norm of each Linear layer's gradient (weight and bias), at the parameters "
                + "before the step");
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        for (var e : configs.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            System.out.printf(Locale.ROOT, "  %-10s first/last layer gradient norm at init %.3g  final train loss %s%s%n",
                    e.getKey(), (double) m.get("first_over_last_gradient_norm"), m.get("final_train_loss"),
                    Boolean.TRUE.equals(m.get("diverged")) ? " (diverged)" : "");
        }
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private static HeatmapPanel heatmap(String name, List<TrainingEvent.GradientStats> stats) {
        int layers = stats.get(0).layers().size();
        double[] xs = stats.stream().mapToDouble(TrainingEvent.GradientStats::step).toArray();
        double[] ys = new double[layers];
        Arrays.setAll(ys, i -> i + 1);
        double[][] z = new double[layers][xs.length];
        for (int t = 0; t < xs.length; t++) {
            double[] g = positive(stats.get(t).gradientNorms());
            for (int l = 0; l < layers; l++) {
                z[l][t] = g[l];
            }
        }
        return HeatmapPanel.of(name, "step", "layer (1 = first)", xs, ys, z, "‖∂L/∂W‖", true);
    }

    /** Values for a log axis: non-finite or non-positive ones become NaN (not drawn) instead of breaking the axis. */
    private static double[] positive(double[] v) {
        double[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            if (!(out[i] > 0) || !Double.isFinite(out[i])) {
                out[i] = Double.NaN;
            }
        }
        return out;
    }

    private static List<Object> toList(double[] v) {
        List<Object> out = new ArrayList<>();
        for (double x : v) {
            out.add(StoryTraining.number(x));
        }
        return out;
    }
}
