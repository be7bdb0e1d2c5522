package dev.descent.samples.story.explr;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.samples.story.StoryTraining;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
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
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story exp-lr} (Li &amp; Arora 2019): on a scale-invariant network, SGD with weight decay at a
 * constant learning rate and SGD without weight decay on an exponentially growing learning rate train the same
 * network function, while the second run's weights grow exponentially.
 */
@Command(name = "exp-lr", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Li & Arora 2019, 'An exponential learning rate schedule for deep learning': a scale-invariant MLP "
                + "on Fashion-MNIST (every Linear without bias and followed by BatchNorm; the BatchNorm scale/shift and "
                + "the last Linear frozen) trained twice from the same weights and batches: (1) SGD with weight decay "
                + "wd at the constant rate lr; (2) SGD without weight decay at lr_t = lr*alpha^(-2t-1), alpha = 1 - "
                + "lr*wd (with --momentum: the root of x^2 - (1 + mu - lr*wd)x + mu). The per-step train losses "
                + "coincide while the weight norm of run 2 grows like alpha^-t times run 1's.",
            "Writes exp-lr.png, steps.csv, epochs.csv and summary.json to --out."})
public final class ExpLr implements Callable<Integer> {
    /** Tensors that must not train for the network to be scale-invariant: BatchNorm's affine map and the classifier. */
    static final String[] FROZEN = {"*:batchnorm.*", "7:linear.*"};
    /** The scale-invariant weights whose norm the story follows. */
    static final String[] WEIGHTS = {"1:linear.weight", "4:linear.weight"};

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--train-limit", defaultValue = "60000", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--epochs", defaultValue = "10", description = "epochs of each run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "the two hidden widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--activation", defaultValue = "tanh", description = "hidden activation: tanh, relu, gelu ... (ReLU kinks amplify float rounding: see docs) (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--lr", defaultValue = "0.1", description = "constant learning rate of run 1 and lr_0·alpha of run 2 (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--weight-decay", defaultValue = "0.005", description = "weight decay (L2, coupled) of run 1 (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--momentum", defaultValue = "0", description = "momentum of both runs (0: plain SGD, the exact equivalence) (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the weights and the shuffling, the same in both runs (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/story-exp-lr", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    /** Run 2's weight norm divided by run 1's after {@code steps} steps, as the equivalence predicts: alpha^-steps. */
    static double predictedRatio(double alpha, long steps) {
        return Math.pow(alpha, -(double) steps);
    }

    static String spec(int[] widths, String activation) {
        return "descent-sequential v1\ninput 1 28 28\nflatten\n"
                + "linear " + widths[0] + " nobias\nbatchnorm 0.1 1e-5\nactivation " + activation + "\n"
                + "linear " + widths[1] + " nobias\nbatchnorm 0.1 1e-5\nactivation " + activation + "\n"
                + "linear 10\n";
    }

    @Override
    public Integer call() throws IOException {
        if (epochs < 1 || batch < 1 || trainLimit < 1 || widths.length != 2 || widths[0] < 1 || widths[1] < 1) {
            throw new UserError("need --epochs, --batch, --train-limit >= 1 and two --widths >= 1; was epochs=" + epochs
                    + " batch=" + batch + " train-limit=" + trainLimit + " widths=" + Arrays.toString(widths));
        }
        if (!(lr > 0) || !(weightDecay > 0) || !(momentum >= 0 && momentum < 1)) {
            throw new UserError("need --lr > 0, --weight-decay > 0 and --momentum in [0, 1); was lr=" + lr
                    + " weight-decay=" + weightDecay + " momentum=" + momentum);
        }
        double alpha;
        try {
            alpha = Schedule.weightDecayShrinkFactor(lr, weightDecay, momentum);
        } catch (IllegalArgumentException e) {
            throw new UserError("--lr " + lr + " with --weight-decay " + weightDecay + ": " + e.getMessage());
        }
        OutputDir dir = OutputDir.create(out);
        ModelDefinition model;
        try {
            model = ModelDefinition.fromSpec(spec(widths, activation.trim().toLowerCase(Locale.ROOT)), "kaiming-normal",
                    seed).freeze(FROZEN);
        } catch (IllegalArgumentException e) {
            throw new UserError("--activation '" + activation + "': " + e.getMessage());
        }
        DataSource train = Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(trainLimit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir);
        int examples = StoryTraining.trainExamples(dataDir, trainLimit);
        long stepsTotal = (long) ((examples + batch - 1) / batch) * epochs;
        System.out.printf(Locale.ROOT, "story exp-lr: scale-invariant MLP 784-%d-%d-10 (Linear without bias + BatchNorm; BN "
                + "affine and last layer frozen), %d epochs x %d examples, batch %d = %d steps%n  run 1: %s, lr %s, "
                + "weight decay %s%n  run 2: no weight decay, lr_t = %s * %.8f^(-2t-1) (final %.4g); predicted norm ratio "
                + "%.4f%n", widths[0], widths[1], epochs, examples, batch, stepsTotal, momentum > 0 ? "momentum " + momentum
                : "SGD", lr, weightDecay, lr, alpha, lr * Math.pow(alpha, -2.0 * (stepsTotal - 1) - 1),
                predictedRatio(alpha, stepsTotal));

        Optimizer decayed = Optimizer.parse(momentum > 0 ? "momentum" : "sgd", lr, momentum, weightDecay);
        Optimizer plain = Optimizer.parse(momentum > 0 ? "momentum" : "sgd", lr, momentum, 0);
        Run wd = run("run 1 (weight decay)", model, train, test, decayed, Schedule.constant(lr), stepsTotal, dir, "wd");
        Run ex = run("run 2 (exponential lr)", model, train, test, plain,
                Schedule.exponentialForWeightDecay(lr, weightDecay, momentum), stepsTotal, dir, "exp");

        int steps = Math.min(wd.losses.length, ex.losses.length);
        double maxDiff = 0;
        StringBuilder csv = new StringBuilder("step,train_loss_weight_decay,train_loss_exponential,abs_difference,"
                + "lr_exponential\n");
        double[] diff = new double[steps];
        for (int t = 0; t < steps; t++) {
            diff[t] = Math.abs(wd.losses[t] - ex.losses[t]);
            maxDiff = Math.max(maxDiff, diff[t]);
            csv.append(String.format(Locale.ROOT, "%d,%.8f,%.8f,%.3e,%.6e%n", t, wd.losses[t], ex.losses[t], diff[t],
                    ex.lrs[t]));
        }
        dir.writeString("steps.csv", csv.toString());
        StringBuilder ecsv = new StringBuilder("epoch,steps,weight_norm_weight_decay,weight_norm_exponential,"
                + "weight_norm_exponential_predicted,test_accuracy_weight_decay,test_accuracy_exponential\n");
        double[] predicted = new double[wd.norms.length];
        for (int e = 0; e < wd.norms.length; e++) {
            long s = (long) e * stepsTotal / epochs;
            predicted[e] = wd.norms[e] * predictedRatio(alpha, s);
            ecsv.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%s,%s%n", e, s, wd.norms[e], ex.norms[e],
                    predicted[e], e == 0 ? "" : String.valueOf(wd.result.epochs().get(e - 1).testAccuracy()),
                    e == 0 ? "" : String.valueOf(ex.result.epochs().get(e - 1).testAccuracy())));
        }
        dir.writeString("epochs.csv", ecsv.toString());
        double ratio = ex.norms[ex.norms.length - 1] / wd.norms[wd.norms.length - 1];
        double ratioPredicted = predictedRatio(alpha, stepsTotal);
        figures(dir, wd, ex, diff, predicted, alpha);

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("steps", steps);
        summary.put("max_abs_loss_difference", maxDiff);
        summary.put("test_accuracy_weight_decay", wd.result.last().testAccuracy());
        summary.put("test_accuracy_exponential", ex.result.last().testAccuracy());
        summary.put("weight_norm_ratio_final", ratio);
        summary.put("weight_norm_ratio_predicted", ratioPredicted);
        summary.put("alpha", alpha);
        summary.put("final_lr_exponential", ex.lrs[steps - 1]);
        summary.put("max_abs_loss_difference_first_epoch", max(diff, 0, (int) Math.min(steps, stepsTotal / epochs)));
        summary.put("weight_norms_weight_decay", wd.norms);
        summary.put("weight_norms_exponential", ex.norms);
        summary.put("train_loss_weight_decay", wd.result.last().trainLoss());
        summary.put("train_loss_exponential", ex.result.last().trainLoss());
        summary.put("test_loss_weight_decay", wd.result.last().testLoss());
        summary.put("test_loss_exponential", ex.result.last().testLoss());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("model", "784-" + widths[0] + "-" + widths[1] + "-10, Linear(no bias)+BatchNorm+" + activation + ", frozen "
                + String.join(" ", FROZEN));
        cfg.put("epochs", epochs);
        cfg.put("train_examples", examples);
        cfg.put("batch", batch);
        cfg.put("lr", lr);
        cfg.put("weight_decay", weightDecay);
        cfg.put("momentum", momentum);
        cfg.put("weight_norm_of", String.join(" + ", WEIGHTS));
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.printf(Locale.ROOT, "max |loss difference| over %d steps: %.3g; test accuracy %.4f (weight decay) vs "
                + "%.4f (exponential lr); weight norm ratio %.4f (predicted %.4f)%n", steps, maxDiff,
                wd.result.last().testAccuracy(), ex.result.last().testAccuracy(), ratio, ratioPredicted);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private static double max(double[] v, int from, int to) {
        double m = 0;
        for (int i = from; i < to; i++) {
            m = Math.max(m, v[i]);
        }
        return m;
    }

    /** One training run: per-step losses and learning rates, per-epoch weight norms (epoch 0 = the start). */
    private record Run(TrainingResult result, double[] losses, double[] lrs, double[] norms) {
    }

    private Run run(String label, ModelDefinition model, DataSource train, DataSource test, Optimizer opt,
                    Schedule schedule, long steps, OutputDir dir, String name) throws IOException {
        double[] losses = new double[(int) steps];
        double[] lrs = new double[(int) steps];
        int[] seen = {0};
        ProgressBar bar = new ProgressBar(System.out, label, steps);
        Path traj = Files.createTempDirectory(dir.path(), "trajectory-" + name);
        try {
            TrainingResult r = Descent.trainInProcess(TrainingPlan.builder().name("exp-lr-" + name).model(model)
                    .train(train).test(test).optimizer(opt).schedule(schedule).batchSize(batch).epochs(epochs).seed(seed)
                    .threadsPerWorker(1).trajectoryDir(traj).listener(e -> {
                        if (e instanceof TrainingEvent.StepCompleted st && st.step() < steps) {
                            losses[(int) st.step()] = st.loss();
                            lrs[(int) st.step()] = st.learningRate();
                            seen[0] = (int) st.step() + 1;
                            if (st.step() % 20 == 0 || st.step() + 1 == steps) {
                                bar.update(st.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4f lr %.3g",
                                        st.epoch() + 1, epochs, st.loss(), st.learningRate()));
                            }
                        }
                    }).build());
            bar.finish(String.format(Locale.ROOT, "train loss %.4f | test acc %.4f", r.last().trainLoss(),
                    r.last().testAccuracy()));
            double[] norms = new double[epochs + 1];
            for (int e = 0; e <= epochs; e++) {
                try (Network n = Network.load(traj.resolve(String.format(Locale.ROOT, "epoch-%03d.descent", e)))) {
                    double s = 0;
                    for (String w : WEIGHTS) {
                        double v = n.parameterNorm(w);
                        s += v * v;
                    }
                    norms[e] = Math.sqrt(s);
                }
            }
            return new Run(r, Arrays.copyOf(losses, seen[0]), Arrays.copyOf(lrs, seen[0]), norms);
        } finally {
            try (Stream<Path> files = Files.walk(traj)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ex) {
                        throw new UncheckedIOException(ex);
                    }
                });
            }
        }
    }

    private void figures(OutputDir dir, Run wd, Run ex, double[] diff, double[] predicted, double alpha) {
        int steps = diff.length;
        double[] t = new double[steps];
        Arrays.setAll(t, i -> i);
        double[] e = new double[wd.norms.length];
        Arrays.setAll(e, i -> i);
        double[] floorDiff = new double[steps];
        for (int i = 0; i < steps; i++) {
            floorDiff[i] = Math.max(diff[i], 1e-9); // a log axis cannot show exact zeros
        }
        double[] constLr = new double[steps];
        Arrays.fill(constLr, lr);
        List<Panel> panels = new ArrayList<>();
        panels.add(Panel.of("train loss per step (the two curves coincide)", "step", "train loss (batch)", List.of(
                new Series("SGD + weight decay " + weightDecay + ", lr " + lr, t, Arrays.copyOf(wd.losses, steps)),
                new Series("SGD, no decay, exponential lr", t, Arrays.copyOf(ex.losses, steps)))));
        panels.add(Panel.of("|difference| of the per-step losses", "step", "|Δ loss| (floor 1e-9)",
                List.of(new Series("|loss(run 1) − loss(run 2)|", t, floorDiff))).withLogY());
        panels.add(Panel.of(String.format(Locale.ROOT, "weight norm of the scale-invariant weights (α = %.6f)", alpha),
                "epoch", "‖W1‖² + ‖W2‖², square root", List.of(new Series("run 1: weight decay", e, wd.norms),
                        new Series("run 2: exponential lr (measured)", e, ex.norms),
                        new Series("run 2 predicted: α^-t · run 1", e, predicted))).withLogY());
        panels.add(Panel.of("learning rate", "step", "lr", List.of(new Series("run 1: constant", t, constLr),
                new Series("run 2: lr·α^(−2t−1)", t, Arrays.copyOf(ex.lrs, steps)))).withLogY());
        Figures.write(dir.resolve("exp-lr.png"), "Weight decay at a constant lr = no weight decay at an exponentially "
                + "growing lr (scale-invariant net, Fashion-MNIST)", panels, 2);
    }
}
