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
import dev.descent.sdk.LandscapePoint;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent story ...}: the loss-landscape stories, each training its models and drawing its figures. */
@Command(name = "story", mixinStandardHelpOptions = true,
        description = "Reproduce a story end to end: train, measure, draw (figures + CSV + summary.json in --out).",
        subcommands = {
            StoryCommand.LandscapeDropout.class,
            SkipConnectionsStory.class,
            dev.descent.samples.story.doubledescent.DoubleDescentStory.class,
            dev.descent.samples.story.largebatch.LargeBatchStory.class,
            WideNarrowStory.class,
            dev.descent.samples.story.toys.SgdEscape.class,
            dev.descent.samples.story.toys.LocalDivergence.class,
            dev.descent.samples.story.explr.ExpLr.class,
            dev.descent.samples.story.InitStory.class,
            dev.descent.samples.story.GradientsStory.class,
            dev.descent.samples.story.SymmetryStory.class,
            dev.descent.samples.story.grokking.GrokkingStory.class,
            LandscapePlaneStory.class,
            dev.descent.samples.story.mpo.MpoStory.class,
        })
public final class StoryCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * A story's own defaults for the shared options ({@code --epochs}, {@code --train-limit}): picocli applies them
     * and {@code --help} shows them (a story names its provider in {@code @Command(defaultValueProvider = ...)}).
     */
    abstract static class StoryDefaults implements picocli.CommandLine.IDefaultValueProvider {
        private final int epochs;
        private final int trainLimit;

        StoryDefaults(int epochs, int trainLimit) {
            this.epochs = epochs;
            this.trainLimit = trainLimit;
        }

        @Override
        public String defaultValue(picocli.CommandLine.Model.ArgSpec arg) {
            if (arg instanceof picocli.CommandLine.Model.OptionSpec o) {
                return switch (o.longestName()) {
                    case "--epochs" -> Integer.toString(epochs);
                    case "--train-limit" -> Integer.toString(trainLimit);
                    default -> null;
                };
            }
            return null;
        }
    }

    /** landscape-dropout: 30 epochs on 6,000 examples. */
    static final class DropoutDefaults extends StoryDefaults {
        DropoutDefaults() {
            super(30, 6000);
        }
    }

    /** skip-connections: 8 epochs on 10,000 examples. */
    static final class SkipDefaults extends StoryDefaults {
        SkipDefaults() {
            super(8, 10000);
        }
    }

    /** landscape-plane: 10 epochs on 6,000 examples. */
    static final class PlaneDefaults extends StoryDefaults {
        PlaneDefaults() {
            super(10, 6000);
        }
    }

    /** wide-narrow: 30 epochs on 5,000 examples. */
    static final class WideNarrowDefaults extends StoryDefaults {
        WideNarrowDefaults() {
            super(30, 5000);
        }
    }

    /** Options the landscape stories share. */
    abstract static class StoryOptions {
        @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
        Path dataDir;

        @Option(names = "--train-limit", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
        Integer trainLimit;

        @Option(names = "--epochs", description = "training epochs (default: ${DEFAULT-VALUE})")
        Integer epochs;

        @Option(names = "--eval-examples", defaultValue = "2000", description = "train and test examples per landscape point (default: ${DEFAULT-VALUE})")
        int evalExamples;

        @Option(names = "--seed", defaultValue = "1", description = "seed of weights, shuffling, dropout and directions (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--evaluators", description = "points evaluated in parallel (default: the number of cores)")
        Integer evaluators;

        /** A holder whose {@code @Mixin} gives the story's landscape options the defaults of {@code descent landscape}. */
        @Command(name = "story-landscape")
        static final class LandscapeDefaults {
            @picocli.CommandLine.Mixin
            LandscapeCommand.Common common;
        }

        /**
         * The landscape options of a story: {@code descent landscape}'s own ({@code @Mixin}, so every default comes
         * from its annotations, never copied), with the story's dataset, example counts, evaluators and folder.
         */
        LandscapeCommand.Common common(Path out) {
            if (evalExamples < 1) {
                throw new UserError("--eval-examples must be >= 1, was " + evalExamples);
            }
            List<String> args = new ArrayList<>(List.of("--dataset", "fashion-mnist", "--loss", "cross-entropy",
                    "--train-examples", String.valueOf(evalExamples), "--test-examples", String.valueOf(evalExamples),
                    "--sharpness-examples", String.valueOf(Math.min(1000, evalExamples)), "--out", out.toString()));
            if (dataDir != null) {
                args.addAll(List.of("--data-dir", dataDir.toString()));
            }
            if (evaluators != null) {
                args.addAll(List.of("--evaluators", String.valueOf(evaluators)));
            }
            LandscapeDefaults d = new LandscapeDefaults();
            new picocli.CommandLine(d).parseArgs(args.toArray(String[]::new));
            d.common.validate();
            return d.common;
        }

        /** Fashion-MNIST train examples of the story (the first --train-limit, default {@code defaultLimit}). */
        DataSource trainData(int limit) {
            if (limit < 1) {
                throw new UserError("--train-limit must be >= 1, was " + limit);
            }
            return Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(limit);
        }

        int trainCount(int limit) {
            return Math.min(limit, Corpus.FASHION_MNIST.count(Split.TRAIN, dataDir));
        }

        /** One in-process worker: momentum 0.9, cosine schedule from {@code lr}, batch 128; saves the model file. */
        static TrainingResult train(ModelDefinition model, DataSource train, int examples, DataSource test, int epochs,
                                    long seed, double lr, String label, Path modelFile) {
            int perEpoch = (examples + 127) / 128;
            ProgressBar bar = new ProgressBar(System.out, label, (long) perEpoch * epochs);
            TrainingResult r = Descent.trainInProcess(TrainingPlan.builder().model(model).train(train).test(test)
                    .optimizer(Optimizer.momentum(lr, 0.9)).schedule(Schedule.cosine(lr, 0.0)).batchSize(128)
                    .epochs(epochs).seed(seed).modelFile(modelFile).listener(e -> {
                        if (e instanceof TrainingEvent.StepCompleted st) {
                            bar.update(st.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4f",
                                    st.epoch() + 1, epochs, st.loss()));
                        }
                    }).build());
            EpochSummary last = r.last();
            bar.finish(String.format(Locale.ROOT, "train loss %.4f acc %.4f | test loss %.4f acc %.4f",
                    last.trainLoss(), last.trainAccuracy(), last.testLoss(), last.testAccuracy()));
            return r;
        }

        static Map<String, Object> trainingSummary(TrainingResult r) {
            EpochSummary e = r.last();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("train_loss", e.trainLoss());
            m.put("train_accuracy", e.trainAccuracy());
            m.put("test_loss", e.testLoss());
            m.put("test_accuracy", e.testAccuracy());
            m.put("parameters", r.parameters());
            m.put("parameters_sha256", r.parametersSha256());
            return m;
        }
    }

    @Command(name = "landscape-dropout", mixinStandardHelpOptions = true, sortOptions = false,
            defaultValueProvider = DropoutDefaults.class,
            description = {"Trains the same MLP with and without dropout and draws 1-D landscapes (filter-normalized "
                    + "random direction) around the initial point w0 and the trained point w*, train and test loss.",
                "Writes landscape-dropout.png, wstar-compared.png, lines/*.csv, models and summary.json to --out."})
    static final class LandscapeDropout extends StoryOptions implements Callable<Integer> {
        @Option(names = "--widths", defaultValue = "512,256", split = ",", description = "hidden widths (default: ${DEFAULT-VALUE})")
        int[] widths;

        @Option(names = "--dropout", defaultValue = "0.5", description = "dropout of the second model (default: ${DEFAULT-VALUE})")
        double dropout;

        @Option(names = "--range", defaultValue = "1.0", description = "α in [-range, range] (default: ${DEFAULT-VALUE})")
        double range;

        @Option(names = "--points", defaultValue = "41", description = "points per line (default: ${DEFAULT-VALUE})")
        int points;

        @Option(names = "--out", defaultValue = "out/story-landscape-dropout", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Override
        public Integer call() throws IOException {
            if (!(dropout > 0 && dropout < 1)) {
                throw new UserError("--dropout must be in (0, 1), was " + dropout);
            }
            int ep = epochs == null ? 30 : epochs;
            int limit = trainLimit == null ? 6000 : trainLimit;
            OutputDir dir = OutputDir.create(out);
            System.out.printf(Locale.ROOT, "story landscape-dropout: MLP 784-%s-10, dropout 0 vs %s, %d epochs on %d "
                    + "examples, lines over [-%s, %s] around w0 and w*%n", join(widths), dropout, ep, limit, range, range);
            Map<String, Object> summary = new LinkedHashMap<>();
            List<Panel> panels = new ArrayList<>();
            List<Series> wstar = new ArrayList<>();
            DataSource train = trainData(limit);
            DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
            int examples = trainCount(limit);
            for (double p : new double[] {0.0, dropout}) {
                String name = p == 0 ? "no-dropout" : "dropout";
                String label = p == 0 ? "no dropout" : "dropout " + p;
                ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                        .activation(Activation.RELU).output(10).dropout(p).init("kaiming-normal").seed(seed).build();
                Map<String, Object> part = new LinkedHashMap<>();
                Path file = dir.resolve(name + ".descent");
                TrainingResult tr = train(def, train, examples, test, ep, seed, 0.02, "train " + label, file);
                part.put("training", trainingSummary(tr));
                LandscapeCommand.Common c = common(dir.resolve("lines"));
                OutputDir lines = dir.sub("lines");
                try (Network w0 = Network.create(def);
                     Network m = Network.load(file)) {
                    for (String at : List.of("w0", "w*")) {
                        String f = name + "-" + (at.equals("w0") ? "w0" : "wstar");
                        LandscapePlan.Builder plan = c.apply(LandscapePlan.builder().line(at.equals("w0") ? w0 : m,
                                range, points), lines, f).seed(seed).norm(DirectionNorm.FILTER).ignoreBiases(true);
                        if (at.equals("w0")) {
                            plan.sharpness(0, c.powerIterations); // measured at w* only
                        }
                        LandscapeResult r = LandscapeCommand.evaluate(c, lines, plan, f);
                        r.writeCsv(lines.resolve(f + ".csv"));
                        Files.deleteIfExists(lines.resolve(f + ".partial.csv"));
                        panels.add(LandscapeCommand.linePanel(label + ", around " + at, r, "α"));
                        Map<String, Object> l = new LinkedHashMap<>();
                        l.put("centre_train_loss", r.point(points / 2).trainLoss());
                        l.put("centre_test_loss", r.point(points / 2).testLoss());
                        l.put("edge_train_loss", Math.max(r.point(0).trainLoss(), r.point(points - 1).trainLoss()));
                        l.put("basin_width_train_loss_below_2x_centre", basinWidth(r));
                        part.put("line_" + (at.equals("w0") ? "w0" : "wstar"), l);
                        if (at.equals("w*")) {
                            wstar.add(series(label + " train", r, true));
                            wstar.add(series(label + " test", r, false));
                            part.put("sharpness_wstar", LandscapeCommand.sharpness(c, r, 0));
                        }
                    }
                }
                summary.put(name, part);
            }
            Figures.write(dir.resolve("landscape-dropout.png"), "1-D loss landscapes with and without dropout "
                    + "(filter-normalized direction)", panels, 2);
            Figures.write(dir.resolve("wstar-compared.png"), "Around w*: without vs with dropout",
                    List.of(Panel.of("loss along the same kind of direction", "α", "loss", wstar)));
            Map<String, Object> cfg = new LinkedHashMap<>();
            cfg.put("widths", widths);
            cfg.put("dropout", dropout);
            cfg.put("epochs", ep);
            cfg.put("train_examples", limit);
            cfg.put("eval_examples", evalExamples);
            cfg.put("range", range);
            cfg.put("points", points);
            cfg.put("norm", "filter, biases ignored");
            cfg.put("seed", seed);
            summary.put("config", cfg);
            dir.writeJson("summary.json", summary);
            System.out.println("done: wrote " + dir.path());
            return 0;
        }
    }

    private static Series series(String name, LandscapeResult r, boolean train) {
        List<LandscapePoint> p = r.points();
        double[] x = new double[p.size()];
        double[] y = new double[p.size()];
        for (int i = 0; i < p.size(); i++) {
            x[i] = p.get(i).a();
            y[i] = train ? p.get(i).trainLoss() : p.get(i).testLoss();
        }
        return new Series(name, x, y);
    }

    /** Width in α of the interval around the centre where the train loss stays below twice the centre's. */
    static double basinWidth(LandscapeResult r) {
        int n = r.points().size();
        int c = n / 2;
        double limit = 2 * r.point(c).trainLoss();
        int lo = c;
        while (lo > 0 && r.point(lo - 1).trainLoss() < limit) {
            lo--;
        }
        int hi = c;
        while (hi < n - 1 && r.point(hi + 1).trainLoss() < limit) {
            hi++;
        }
        return r.point(hi).a() - r.point(lo).a();
    }

    /** Grid points lower than all 8 neighbours (a rough count of how non-convex the plane is). */
    static int localMinima(double[][] z) {
        int count = 0;
        for (int j = 1; j + 1 < z.length; j++) {
            for (int i = 1; i + 1 < z[j].length; i++) {
                boolean min = true;
                for (int dj = -1; dj <= 1 && min; dj++) {
                    for (int di = -1; di <= 1; di++) {
                        if ((di != 0 || dj != 0) && z[j + dj][i + di] <= z[j][i]) {
                            min = false;
                            break;
                        }
                    }
                }
                count += min ? 1 : 0;
            }
        }
        return count;
    }

    private static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "-").append(w[i]);
        }
        return sb.toString();
    }
}
