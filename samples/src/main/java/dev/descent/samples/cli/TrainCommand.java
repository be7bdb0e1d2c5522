package dev.descent.samples.cli;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.Split;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.ModelFile;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.StepReport;
import dev.descent.engine.train.Trainer;
import dev.descent.engine.train.TrainingResult;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.io.IOException;
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
 * {@code descent train}: trains a model on Fashion-MNIST (or MNIST) and writes metrics.csv, summary.json,
 * training-curves.png and model.descent to the output folder.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, abbreviateSynopsis = true,
        description = {"Train a network on Fashion-MNIST (default: MLP 784-256-128-10 ReLU, cross-entropy, SGD "
                + "momentum 0.9 lr 0.02 with cosine decay, batch 128, 10 epochs, Kaiming init, seed 1).",
            "Writes metrics.csv, summary.json, training-curves.png and model.descent to --out."})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "fashion-mnist or mnist (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden layer widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--activation", defaultValue = "relu", description = "relu, leaky-relu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--dropout", defaultValue = "0", description = "dropout probability after each hidden layer (default: ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--init", defaultValue = "kaiming-normal", description = "zeros, constant:V, normal:STD, uniform:A, xavier-normal, xavier-uniform, kaiming-normal, kaiming-uniform (default: ${DEFAULT-VALUE})")
    String init;

    @Option(names = "--loss", defaultValue = "cross-entropy", description = "cross-entropy or mse (default: ${DEFAULT-VALUE})")
    String loss;

    @Option(names = "--optimizer", defaultValue = "momentum", description = "sgd, momentum, nesterov, adam, adamw (default: ${DEFAULT-VALUE})")
    String optimizer;

    @Option(names = "--lr", description = "peak learning rate (default: 0.02; 0.001 for adam/adamw)")
    Double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "momentum for momentum/nesterov (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "weight decay (L2 for sgd/momentum/adam, decoupled for adamw) (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, step, cosine, exponential, warmup-cosine (default: ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--gamma", defaultValue = "0.5", description = "decay factor: per --step-epochs for step, per epoch for exponential (default: ${DEFAULT-VALUE})")
    double gamma;

    @Option(names = "--step-epochs", defaultValue = "3", description = "epochs between decays for --schedule step (default: ${DEFAULT-VALUE})")
    int stepEpochs;

    @Option(names = "--warmup-epochs", defaultValue = "1", description = "linear warmup length for warmup-cosine (default: ${DEFAULT-VALUE})")
    double warmupEpochs;

    @Option(names = "--clip-norm", defaultValue = "0", description = "clip the global gradient norm to this value, 0 = off (default: ${DEFAULT-VALUE})")
    double clipNorm;

    @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--epochs", defaultValue = "10", description = "epochs (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--strategy", defaultValue = "vanilla", description = "backprop memory strategy: vanilla, recompute, checkpointed, checkpointed:K (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--seed", defaultValue = "1", description = "seed for weights, shuffling and dropout (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", defaultValue = "1", description = "kernel threads; 1 = bit-identical runs (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--train-limit", description = "use only the first N training examples (quick runs)")
    Integer trainLimit;

    @Option(names = "--out", defaultValue = "out/train", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--save-trajectory", description = "also save the model before training and after every epoch as trajectory/epoch-NNN.descent (for `descent landscape plane --trajectory`)")
    boolean saveTrajectory;

    @Override
    public Integer call() throws IOException {
        validate();
        LossKind lossKind = LossKind.parse(loss);
        double learningRate = resolveLearningRate();
        Optimizer opt = Optimizers.parse(optimizer, learningRate, momentum, weightDecay);
        BackpropStrategy backprop = BackpropStrategy.parse(strategy);
        OutputDir dir = OutputDir.create(out);
        IdxDatasets.Corpus corpus = parseCorpus(dataset);
        System.out.printf(Locale.ROOT, "descent train: %s, MLP 784-%s-10 %s, %s, %s lr=%s, batch %d, %d epochs, "
                        + "%s, seed %d, %d thread(s), %s kernels%n", corpus.displayName(), joinWidths(), activation,
                lossKind.name().toLowerCase(Locale.ROOT), optimizer, learningRate, batch, epochs, backprop, seed,
                threads, Kernels.backend().name());
        try (Dataset fullTrain = IdxDatasets.load(corpus, Split.TRAIN, dataDir);
             Dataset test = IdxDatasets.load(corpus, Split.TEST, dataDir);
             Dataset train = trainLimit == null ? null : fullTrain.subset(0, Math.min(trainLimit, fullTrain.count()));
             Model model = Mlp.builder().input(fullTrain.sampleShape()).hidden(widths)
                     .activation(parseActivation(activation)).output(fullTrain.classes()).dropout(dropout)
                     .init(Init.parse(init)).seed(seed).build()) {
            Dataset trainSet = train != null ? train : fullTrain;
            int stepsPerEpoch = (trainSet.count() + batch - 1) / batch;
            Trainer trainer = Trainer.builder().model(model).loss(lossKind).optimizer(opt)
                    .schedule(schedule(learningRate, stepsPerEpoch)).strategy(backprop).batchSize(batch)
                    .epochs(epochs).seed(seed).threads(threads).clipNorm(clipNorm).build();
            Path modelPath = dir.resolve("model.descent");
            RunRecorder recorder = new RunRecorder(dir, model, modelPath, epochs, corpus.displayName() + " training");
            TrainingResult result;
            if (saveTrajectory) {
                ModelFile.save(model, dir.resolve("trajectory/epoch-000.descent"));
            }
            try {
                result = trainer.fit(trainSet, test, saveTrajectory ? trajectorySaver(recorder, model, dir) : recorder);
            } catch (NonFiniteLossException e) {
                recorder.finishBar();
                ModelFile.save(model, modelPath);
                throw new UserError(e.getMessage() + "; the last good parameters (start of epoch "
                        + (e.epoch() + 1) + ") are in " + modelPath + ", the epochs before it in "
                        + dir.resolve("metrics.csv"), e);
            }
            ModelFile.save(model, modelPath);
            Map<String, Object> summary = summary(result, corpus, backprop, learningRate, model, trainSet, test);
            dir.writeJson("summary.json", summary);
            EpochReport last = result.last();
            System.out.printf(Locale.ROOT, "done: test accuracy %.4f, test loss %.4f, %.0f examples/s, %.1f s; "
                            + "wrote %s%n", last == null ? Double.NaN : last.testAccuracy(),
                    last == null ? Double.NaN : last.testLoss(), result.examplesPerSecond(), result.wallSeconds(),
                    dir.path());
            return 0;
        }
    }

    /** Passes every callback to {@code recorder}, then saves the epoch's model as trajectory/epoch-NNN.descent. */
    private static FitListener trajectorySaver(FitListener recorder, Model model, OutputDir dir) {
        return new FitListener() {
            @Override
            public void onStep(StepReport r) {
                recorder.onStep(r);
            }

            @Override
            public void onEpoch(EpochReport r) {
                recorder.onEpoch(r);
                Path file = dir.resolve(String.format(Locale.ROOT, "trajectory/epoch-%03d.descent", r.epoch() + 1));
                try {
                    ModelFile.save(model, file);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException("cannot save " + file + ": " + e.getMessage(), e);
                }
            }
        };
    }

    private double resolveLearningRate() {
        if (lr != null) {
            return lr;
        }
        String o = optimizer.trim().toLowerCase(Locale.ROOT);
        if (o.startsWith("adam")) {
            return 0.001;
        }
        return 0.02;
    }

    private void validate() {
        if (lr != null && (!(lr > 0) || Double.isInfinite(lr))) {
            throw new UserError("--lr must be a finite number > 0, was " + lr);
        }
        if (batch < 1) {
            throw new UserError("--batch must be >= 1, was " + batch);
        }
        if (epochs < 1) {
            throw new UserError("--epochs must be >= 1, was " + epochs);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new UserError("--dropout must be in [0, 1), was " + dropout);
        }
        if (threads < 1 || threads > Kernels.pool().size()) {
            throw new UserError("--threads must be between 1 and " + Kernels.pool().size() + " (the cores), was "
                    + threads);
        }
        for (int w : widths) {
            if (w < 1) {
                throw new UserError("--widths must all be >= 1, got " + joinWidths());
            }
        }
        if (trainLimit != null && trainLimit < 1) {
            throw new UserError("--train-limit must be >= 1, was " + trainLimit);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new UserError("--momentum must be in [0, 1), was " + momentum);
        }
    }

    private LrSchedule schedule(double lr0, int stepsPerEpoch) {
        return switch (schedule.trim().toLowerCase(Locale.ROOT)) {
            case "constant" -> LrSchedule.constant(lr0);
            case "step" -> LrSchedule.step(lr0, gamma, (long) stepEpochs * stepsPerEpoch);
            case "cosine" -> LrSchedule.cosine(lr0, 0.0, 0);
            case "exponential" -> LrSchedule.exponential(lr0, Math.pow(gamma, 1.0 / stepsPerEpoch));
            case "warmup-cosine" -> LrSchedule.warmupCosine(Math.max(1, Math.round(warmupEpochs * stepsPerEpoch)),
                    lr0, 0.0);
            default -> throw new UserError("unknown --schedule '" + schedule
                    + "'; expected constant, step, cosine, exponential or warmup-cosine");
        };
    }

    static IdxDatasets.Corpus parseCorpus(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "fashion-mnist", "fashionmnist" -> IdxDatasets.Corpus.FASHION_MNIST;
            case "mnist" -> IdxDatasets.Corpus.MNIST;
            default -> throw new UserError("unknown --dataset '" + name + "'; expected fashion-mnist or mnist");
        };
    }

    static Activation parseActivation(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT).replace('_', '-')) {
            case "relu" -> Activation.RELU;
            case "leaky-relu" -> Activation.LEAKY_RELU;
            case "sigmoid" -> Activation.SIGMOID;
            case "tanh" -> Activation.TANH;
            case "gelu" -> Activation.GELU;
            default -> throw new UserError("unknown --activation '" + name
                    + "'; expected relu, leaky-relu, sigmoid, tanh or gelu");
        };
    }

    private String joinWidths() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            sb.append(i == 0 ? "" : "-").append(widths[i]);
        }
        return sb.toString();
    }

    private Map<String, Object> summary(TrainingResult r, IdxDatasets.Corpus corpus, BackpropStrategy backprop,
                                        double learningRate, Model model, Dataset train, Dataset test) {
        EpochReport last = r.last();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("test_accuracy", last.testAccuracy());
        s.put("test_loss", last.testLoss());
        s.put("train_loss", last.trainLoss());
        s.put("train_accuracy", last.trainAccuracy());
        s.put("examples_per_second", r.examplesPerSecond());
        s.put("wall_seconds", r.wallSeconds());
        s.put("train_seconds", r.trainSeconds());
        s.put("epochs", r.epochs().size());
        s.put("steps", r.steps());
        s.put("parameters", r.parameters());
        s.put("parameters_sha256", r.parametersSha256());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("dataset", corpus.displayName());
        cfg.put("train_examples", train.count());
        cfg.put("test_examples", test.count());
        cfg.put("model", model.spec());
        cfg.put("loss", loss);
        cfg.put("optimizer", optimizer);
        cfg.put("lr", learningRate);
        cfg.put("momentum", momentum);
        cfg.put("weight_decay", weightDecay);
        cfg.put("schedule", schedule);
        cfg.put("batch", batch);
        cfg.put("dropout", dropout);
        cfg.put("init", init);
        cfg.put("strategy", backprop.name());
        cfg.put("seed", seed);
        cfg.put("threads", threads);
        cfg.put("kernels", Kernels.backend().name());
        s.put("config", cfg);
        return s;
    }

    /** Progress bar per epoch, metrics.csv rewritten after every epoch, curves drawn at each epoch end. */
    private static final class RunRecorder implements FitListener {
        private final OutputDir dir;
        private final Model model;
        private final Path modelPath;
        private final int epochs;
        private final List<EpochReport> history = new ArrayList<>();
        private ProgressBar bar;
        private int barEpoch = -1;

        private final String title;

        RunRecorder(OutputDir dir, Model model, Path modelPath, int epochs, String title) {
            this.title = title;
            this.dir = dir;
            this.model = model;
            this.modelPath = modelPath;
            this.epochs = epochs;
        }

        @Override
        public void onStep(StepReport r) {
            if (r.epoch() != barEpoch) {
                barEpoch = r.epoch();
                bar = new ProgressBar(System.out, String.format(Locale.ROOT, "epoch %d/%d", r.epoch() + 1, epochs),
                        r.batchesPerEpoch());
            }
            bar.update(r.batchInEpoch() + 1, String.format(Locale.ROOT, "loss %.4f acc %.3f %,.0f ex/s",
                    r.loss(), r.accuracy(), r.examplesPerSecond()));
        }

        @Override
        public void onEpoch(EpochReport r) {
            history.add(r);
            if (bar != null) {
                bar.finish(String.format(Locale.ROOT, "train loss %.4f acc %.4f | test loss %.4f acc %.4f | %,.0f ex/s",
                        r.trainLoss(), r.trainAccuracy(), r.testLoss(), r.testAccuracy(), r.examplesPerSecond()));
                bar = null;
            }
            writeCsv();
            drawCurves();
            try {
                ModelFile.save(model, modelPath); // the last good model is always on disk
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot save " + modelPath + ": " + e.getMessage(), e);
            }
        }

        void finishBar() {
            if (bar != null) {
                bar.finish("stopped");
                bar = null;
            }
        }

        private void writeCsv() {
            StringBuilder csv = new StringBuilder(
                    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,examples_per_second\n");
            for (EpochReport e : history) {
                csv.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.1f%n", e.epoch() + 1,
                        e.trainLoss(), e.trainAccuracy(), e.testLoss(), e.testAccuracy(), e.learningRate(),
                        e.seconds(), e.examplesPerSecond()));
            }
            dir.writeString("metrics.csv", csv.toString());
        }

        private void drawCurves() {
            int n = history.size();
            double[] trL = new double[n];
            double[] teL = new double[n];
            double[] trA = new double[n];
            double[] teA = new double[n];
            for (int i = 0; i < n; i++) {
                EpochReport e = history.get(i);
                trL[i] = e.trainLoss();
                teL[i] = e.testLoss();
                trA[i] = e.trainAccuracy();
                teA[i] = e.testAccuracy();
            }
            Figures.write(dir.resolve("training-curves.png"), title, List.of(
                    Panel.of("Loss", "epoch", "loss", List.of(Series.ofIndexed("train", trL),
                            Series.ofIndexed("test", teL))),
                    Panel.of("Accuracy", "epoch", "accuracy", List.of(Series.ofIndexed("train", trA),
                            Series.ofIndexed("test", teA)))));
        }
    }
}
