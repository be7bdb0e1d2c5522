package dev.descent.samples.story;

import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.LayerActivation;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
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
 * {@code descent story init}: He et al. 2015 ("Delving Deep into Rectifiers"), figure 3. Plain deep ReLU MLPs (no
 * BatchNorm, no skips) of 22 and 30 Linear layers, trained with the same optimizer under Xavier and under Kaiming
 * initialization; plus the standard deviation of every layer's pre-activation at initialization.
 */
@Command(name = "init", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Xavier vs Kaiming initialization of plain deep ReLU MLPs on Fashion-MNIST (He et al. 2015, "
                + "figure 3): at 22 Linear layers both train, Kaiming faster; at 30 Xavier stalls near ln 10.",
            "Writes init-loss.png, activation-std.png, loss.csv, activation-std.csv and summary.json to --out."})
public final class InitStory implements Callable<Integer> {
    @Option(names = "--depths", defaultValue = "22,30", split = ",", description = "Linear layers of the nets (default: ${DEFAULT-VALUE})")
    int[] depths;

    @Option(names = "--width", defaultValue = "64", description = "width of every hidden layer (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--train-limit", defaultValue = "10000", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "2000", description = "test accuracy on the first N test examples (default: ${DEFAULT-VALUE})")
    int testLimit;

    @Option(names = "--epochs", defaultValue = "20", description = "epochs of every run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "0.01", description = "learning rate, constant, momentum 0.9, same for every run (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--stats-examples", defaultValue = "500", description = "examples of the activation statistics at initialization (default: ${DEFAULT-VALUE})")
    int statsExamples;

    @Option(names = "--seed", defaultValue = "1", description = "seed of weights and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--out", defaultValue = "out/story-init", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    static final String[] INITS = {"xavier", "kaiming"};

    @Override
    public Integer call() {
        for (int d : depths) {
            if (d < 2) {
                throw new UserError("--depths must all be >= 2 (Linear layers), got " + d);
            }
        }
        if (width < 1 || epochs < 1 || batch < 1 || !(lr > 0)) {
            throw new UserError("--width, --epochs, --batch must be >= 1 and --lr > 0; got width " + width
                    + ", epochs " + epochs + ", batch " + batch + ", lr " + lr);
        }
        if (statsExamples < 1) {
            throw new UserError("--stats-examples must be >= 1, was " + statsExamples);
        }
        DataSource train = StoryTraining.train(dataDir, trainLimit);
        DataSource test = StoryTraining.test(dataDir, testLimit);
        int examples = StoryTraining.trainExamples(dataDir, trainLimit);
        OutputDir dir = OutputDir.create(out); // only once the data is known to be there
        System.out.printf(Locale.ROOT, "story init: plain ReLU MLPs of %s Linear layers (width %d), Xavier vs Kaiming "
                + "normal, momentum 0.9 lr %s, batch %d, %d epochs on %d examples, seed %d%n", join(depths), width, lr,
                batch, epochs, examples, seed);
        Map<String, Object> runs = new LinkedHashMap<>();
        StringBuilder lossCsv = new StringBuilder("run,step,batch_loss\n");
        StringBuilder stdCsv = new StringBuilder("run,node,layer,mean,std\n");
        List<Panel> lossPanels = new ArrayList<>();
        List<Series> stdSeries = new ArrayList<>();
        int deepest = java.util.Arrays.stream(depths).max().orElseThrow();
        for (int depth : depths) {
            List<Series> curves = new ArrayList<>();
            int steps = 0;
            for (String init : INITS) {
                String name = init + "-" + depth;
                ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape())
                        .hidden(StoryTraining.repeat(width, depth - 1)).activation(Activation.RELU).output(10)
                        .init(init + "-normal").seed(seed).build();
                List<LayerActivation> acts;
                try (Network fresh = Network.create(def)) {
                    acts = fresh.activationStatistics(train, Math.min(statsExamples, examples));
                }
                double[] linearStd = acts.stream().filter(a -> a.isKind("linear")).mapToDouble(LayerActivation::std)
                        .toArray();
                for (LayerActivation a : acts) {
                    stdCsv.append(String.format(Locale.ROOT, "%s,%d,%s,%.6g,%.6g%n", name, a.node(), a.layer(),
                            a.mean(), a.std()));
                }
                if (depth == deepest) { // the shallower nets share the deepest one's first layers (same seed)
                    stdSeries.add(Series.ofIndexed(name + (init.equals("xavier") ? " (Xavier)" : " (Kaiming)"),
                            linearStd));
                }
                StoryTraining.Run r = StoryTraining.run(name, def, train, examples, test, epochs, batch, lr, seed, 0);
                for (int s = 0; s < r.batchLoss().length; s++) {
                    lossCsv.append(name).append(',').append(s + 1).append(',')
                            .append(String.format(Locale.ROOT, "%.6g", r.batchLoss()[s])).append('\n');
                }
                double[][] sm = StoryTraining.smooth(r.batchLoss(), Math.max(1, r.batchLoss().length / 60));
                curves.add(new Series(init.equals("xavier") ? "Xavier" : "Kaiming", sm[0], sm[1]));
                steps = Math.max(steps, r.batchLoss().length);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("final_train_loss", StoryTraining.number(r.finalTrainLoss()));
                m.put("test_accuracy", StoryTraining.number(r.testAccuracy()));
                m.put("steps", r.steps());
                m.put("activation_std_last_over_first", linearStd[linearStd.length - 1] / linearStd[0]);
                m.put("diverged", r.diverged());
                m.put("train_loss_by_epoch", r.epochs().stream().map(e -> e.trainLoss()).toList());
                m.put("test_accuracy_by_epoch", r.epochTestAccuracy());
                m.put("steps_to_train_loss_below_2", firstBelow(r.batchLoss(), 2.0));
                runs.put(name, m);
            }
            curves.add(new Series("ln 10 (chance)", new double[] {0, steps}, new double[] {Math.log(10), Math.log(10)}));
            lossPanels.add(Panel.of(depth + " Linear layers (" + (depth - 1) + " ReLU)", "step",
                    "train loss (batch mean, smoothed)", curves));
        }
        dir.writeString("loss.csv", lossCsv.toString());
        dir.writeString("activation-std.csv", stdCsv.toString());
        Figures.write(dir.resolve("init-loss.png"), "Plain ReLU MLPs on Fashion-MNIST: Xavier vs Kaiming "
                + "initialization (same optimizer and learning rate)", lossPanels, lossPanels.size());
        Figures.write(dir.resolve("activation-std.png"), "Signal scale at initialization",
                List.of(Panel.of("std of each Linear layer's output, " + Math.min(statsExamples, examples)
                        + " examples", "Linear layer (1 = first)",
                        "std of the layer's output", stdSeries).withLogY()));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("runs", runs);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("depths", depths);
        cfg.put("width", width);
        cfg.put("train_examples", examples);
        cfg.put("test_examples", testLimit);
        cfg.put("epochs", epochs);
        cfg.put("batch", batch);
        cfg.put("optimizer", "momentum 0.9, constant lr " + lr);
        cfg.put("inits", "xavier-normal (gain 1), kaiming-normal (fan_in, gain sqrt 2); biases 0");
        cfg.put("stats_examples", Math.min(statsExamples, examples));
        cfg.put("seed", seed);
        cfg.put("ln10", Math.log(10));
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        for (var e : runs.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            System.out.printf(Locale.ROOT, "  %-11s final train loss %s  test acc %s  std last/first at init %.3g%n",
                    e.getKey(), m.get("final_train_loss"), m.get("test_accuracy"),
                    (double) m.get("activation_std_last_over_first"));
        }
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    /** First step (1-based) whose batch loss is below {@code v}, or -1. */
    static int firstBelow(double[] loss, double v) {
        for (int i = 0; i < loss.length; i++) {
            if (loss[i] < v) {
                return i + 1;
            }
        }
        return -1;
    }

    static String join(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ",").append(v[i]);
        }
        return sb.toString();
    }
}
