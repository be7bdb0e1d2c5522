package dev.descent.samples.story.largebatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.samples.story.StoryTraining;
import dev.descent.sdk.Activation;
import dev.descent.sdk.BatchNormMode;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.DivergedException;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.Evaluation;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.LandscapeResult;
import dev.descent.sdk.Loss;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.SharpnessReport;
import dev.descent.sdk.Split;
import dev.descent.sdk.StepTrainer;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
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
 * {@code descent story large-batch}: a sweep over batch sizes on Fashion-MNIST (the MLP), the same epochs for
 * each: time per epoch with 1 and 2 workers, test accuracy under a fixed learning rate and under the linear
 * scaling rule with gradual warm-up (Goyal et al. 2017), sharpness of the solutions (Keskar et al. 2017) — also of
 * every batch size trained under the fixed lr to a common train loss, Keskar's own protocol — a 1-D interpolation
 * between the small-batch and the large-batch solution at that loss, and the gradient noise scale (McCandlish et al.
 * 2018) over training. Every finished point is a file in {@code points/}; a rerun continues where a killed one
 * stopped.
 */
@Command(name = "large-batch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Large-batch training: a sweep over batch sizes (same epochs each) measuring time per epoch "
                + "with 1 and 2 workers, test accuracy under a fixed lr and under the linear scaling rule with warm-up "
                + "(Goyal et al. 2017), sharpness (top Hessian eigenvalue, epsilon-sharpness; Keskar et al. 2017) of those "
                + "solutions and, as Keskar et al. compare them, of every batch size trained under the fixed lr to a "
                + "common train loss (--target-loss), an interpolation between the small-batch and the large-batch "
                + "solution at that loss, and the gradient noise scale B_simple (McCandlish et al. 2018).",
            "Resumable point by point (points/*.json). Writes time-per-epoch.png, accuracy-vs-batch.png, "
                + "sharpness-vs-batch.png, interpolation.png, noise-scale.png, points.csv and summary.json to --out."})
public final class LargeBatchStory implements Callable<Integer> {
    static final String FIXED = "fixed";
    static final String LINEAR_WARMUP = "linear-warmup";

    @Option(names = "--batches", defaultValue = "32,128,512,2048,8192", split = ",", description = "batch sizes of the sweep (default: ${DEFAULT-VALUE})")
    int[] batches;

    @Option(names = "--workers", defaultValue = "1,2", split = ",", description = "worker counts timed at every batch size; accuracy and sharpness come from 1 worker (default: ${DEFAULT-VALUE})")
    int[] workers;

    @Option(names = "--epochs", defaultValue = "8", description = "epochs of every run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--train-limit", defaultValue = "60000", description = "train on the first N Fashion-MNIST training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "5000", description = "test examples evaluated after every epoch (default: ${DEFAULT-VALUE})")
    int testLimit;

    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden widths of the MLP (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--batch-norm", negatable = true, defaultValue = "true", fallbackValue = "true", description = "BatchNorm after every hidden Linear (--no-batch-norm: the plain MLP) (default: ${DEFAULT-VALUE})")
    boolean batchNorm;

    @Option(names = "--lr", defaultValue = "0.02", description = "the fixed learning rate, and the linear rule's rate at --base-batch (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--base-batch", defaultValue = "128", description = "linear scaling rule: lr(B) = lr * B / base-batch (default: ${DEFAULT-VALUE})")
    int baseBatch;

    @Option(names = "--momentum", defaultValue = "0.9", description = "SGD momentum of every run (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--warmup-epochs", defaultValue = "1", description = "gradual warm-up of the linear-warmup runs, in epochs (default: ${DEFAULT-VALUE})")
    double warmupEpochs;

    @Option(names = "--micro-batch", defaultValue = "2048", description = "rows per forward/backward of a worker; larger shares accumulate gradients (default: ${DEFAULT-VALUE})")
    int microBatch;

    @Option(names = "--reference-batch", defaultValue = "128", description = "the fixed-lr run (most workers, nearest swept batch) whose final noise scale is summary.json's gradient_noise_scale (default: ${DEFAULT-VALUE})")
    int referenceBatch;

    @Option(names = "--target-loss", defaultValue = "0.1", description = "Keskar's comparison: train every batch size under the fixed lr until the train loss on --converged-train-limit examples is at most this, then measure sharpness (0: skip) (default: ${DEFAULT-VALUE})")
    double targetLoss;

    @Option(names = "--converged-train-limit", defaultValue = "16384", description = "training examples of the runs to --target-loss (the first N) (default: ${DEFAULT-VALUE})")
    int convergedTrainLimit;

    @Option(names = "--max-epochs-to-target", defaultValue = "400", description = "cap of a run to --target-loss, in epochs of --converged-train-limit examples (default: ${DEFAULT-VALUE})")
    int maxEpochsToTarget;

    @Option(names = "--sharpness-examples", defaultValue = "2000", description = "training examples of the Hessian eigenvalue and epsilon-sharpness (default: ${DEFAULT-VALUE})")
    int sharpnessExamples;

    @Option(names = "--power-iterations", defaultValue = "20", description = "power-iteration steps of the top Hessian eigenvalue (default: ${DEFAULT-VALUE})")
    int powerIterations;

    @Option(names = "--interpolation-points", defaultValue = "21", description = "points of the small-to-large-batch interpolation (default: ${DEFAULT-VALUE})")
    int interpolationPoints;

    @Option(names = "--eval-examples", defaultValue = "2000", description = "train and test examples per interpolation point (default: ${DEFAULT-VALUE})")
    int evalExamples;

    @Option(names = "--seed", defaultValue = "1", description = "seed of weights, shuffling and the power iteration (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--out", defaultValue = "out/story-large-batch", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--fresh", description = "discard the points of an earlier sweep in --out instead of continuing it")
    boolean fresh;

    @Option(names = "--max-new-points", description = "stop after computing this many new points (continue later by running the same command again)")
    Integer maxNewPoints;

    @Override
    public Integer call() throws IOException, InterruptedException {
        validate();
        OutputDir dir = OutputDir.create(out, true); // resumable point by point: it checks its own settings
        OutputDir pointsDir = dir.sub("points");
        Map<String, Object> config = config();
        List<PointSpec> specs = specs();
        int trainCount = StoryTraining.trainExamples(dataDir, trainLimit);
        System.out.printf(Locale.ROOT, "story large-batch: MLP 784-%s-10%s on %d Fashion-MNIST examples, %d epochs "
                        + "per run, batches %s, workers %s, lr %s fixed vs %s*B/%d with %s epoch(s) of warm-up; %d points%n",
                join(widths), batchNorm ? " (BatchNorm)" : "", trainCount, epochs, Arrays.toString(batches),
                Arrays.toString(workers), lr, lr,
                baseBatch, warmupEpochs, specs.size());
        Map<String, JsonNode> done = loadDone(pointsDir, specs, config);
        if (!done.isEmpty()) {
            System.out.printf(Locale.ROOT, "continuing: %d of %d points were done earlier (%s)%n", done.size(),
                    specs.size(), pointsDir.path());
        }
        DataSource train = Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(trainLimit);
        DataSource test = Corpus.FASHION_MNIST.source(Split.TEST, dataDir).limit(testLimit);
        int maxWorkers = Arrays.stream(workers).max().orElse(1);
        computed = 0;
        int index = 0;
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(maxWorkers).threads(1))) {
            if (done.size() < specs.size()) {
                warmUp(engine, train);
            }
            for (PointSpec p : specs) {
                index++;
                if (done.containsKey(p.id())) {
                    continue;
                }
                if (maxNewPoints != null && computed >= maxNewPoints) {
                    System.out.printf(Locale.ROOT, "stopping after %d new point(s) (--max-new-points); run the same "
                            + "command again to continue%n", computed);
                    return 0;
                }
                System.out.printf(Locale.ROOT, "[%d/%d] batch %d, %d worker(s), %s, lr %.4g%n", index, specs.size(),
                        p.batch(), p.workers(), p.schedule(), p.lr());
                Map<String, Object> point = runPoint(engine, p, train, test, trainCount, pointsDir, config);
                pointsDir.writeJson(p.id() + ".json", point);
                done.put(p.id(), OutputDir.json().valueToTree(point));
                computed++;
            }
        }
        List<JsonNode> points = new ArrayList<>();
        for (PointSpec p : specs) {
            points.add(done.get(p.id()));
        }
        List<JsonNode> converged = targetLoss > 0 ? converged(pointsDir, test) : List.of();
        if (converged == null) {
            return 0; // --max-new-points reached
        }
        LandscapeResult line = interpolate(dir, pointsDir, train, test);
        LargeBatchReport.write(dir, points, converged, line, Arrays.stream(batches).min().orElseThrow(),
                Arrays.stream(batches).max().orElseThrow(), targetLoss > 0, config, convergedConfig(), referenceId());
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private int computed; // new points of this invocation (--max-new-points)

    /**
     * Keskar et al.'s comparison: every batch size trained under the fixed lr (no warm-up) on the first
     * --converged-train-limit examples until the eval-mode train loss is at most --target-loss (checked every epoch,
     * at least every 25 steps; capped at --max-epochs-to-target epochs), then its sharpness on the same fixed
     * examples as the sweep's. Resumable: one points/c-bNNNNN.json (and model) per batch. Null when --max-new-points
     * stopped it.
     */
    private List<JsonNode> converged(OutputDir pointsDir, DataSource test) throws IOException {
        DataSource subset = Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(convergedTrainLimit);
        int n = StoryTraining.trainExamples(dataDir, convergedTrainLimit);
        Map<String, Object> cfg = convergedConfig();
        JsonNode want = OutputDir.json().valueToTree(cfg);
        List<JsonNode> out = new ArrayList<>();
        System.out.printf(Locale.ROOT, "to a common train loss (Keskar et al.): fixed lr %s, batches %s, %d examples, "
                + "until train loss <= %s (at most %d epochs)%n", lr, Arrays.toString(batches), n, targetLoss,
                maxEpochsToTarget);
        for (int b : batches) {
            String id = convergedId(b);
            Path json = pointsDir.resolve(id + ".json");
            if (Files.isRegularFile(json) && Files.isRegularFile(pointsDir.resolve(id + ".descent"))) {
                JsonNode node = OutputDir.json().readTree(json.toFile());
                if (!want.toString().equals(String.valueOf(node.get("config")))) {
                    throw new UserError(json + " belongs to a sweep with other settings (" + node.get("config")
                            + " vs now " + want + "); use another --out or --fresh");
                }
                out.add(node);
                continue;
            }
            if (maxNewPoints != null && computed >= maxNewPoints) {
                System.out.printf(Locale.ROOT, "stopping after %d new point(s) (--max-new-points); run the same "
                        + "command again to continue%n", computed);
                return null;
            }
            System.out.printf(Locale.ROOT, "[to target] batch %d%n", b);
            Map<String, Object> point = trainToTarget(b, subset, n, test, pointsDir.resolve(id + ".descent"));
            point.put("config", cfg);
            pointsDir.writeJson(id + ".json", point);
            out.add(OutputDir.json().valueToTree(point));
            computed++;
        }
        return out;
    }

    static String convergedId(int batch) {
        return String.format(Locale.ROOT, "c-b%05d", batch);
    }

    private Map<String, Object> trainToTarget(int batch, DataSource subset, int n, DataSource test, Path modelFile) {
        int perEpoch = (n + batch - 1) / batch;
        long maxSteps = (long) maxEpochsToTarget * perEpoch;
        long every = Math.max(perEpoch, 25);
        TrainingPlan plan = TrainingPlan.builder().name(convergedId(batch)).model(model()).train(subset).test(test)
                .optimizer(Optimizer.momentum(lr, momentum)).batchSize(batch).evalBatchSize(1000).seed(seed)
                .threadsPerWorker(1).build();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", batch);
        m.put("lr", lr);
        ProgressBar bar = new ProgressBar(System.out, "  train", maxSteps);
        long t0 = System.nanoTime();
        try (StepTrainer t = StepTrainer.open(plan, maxSteps)) {
            StepTrainer.Evaluation e = null;
            try {
                while (t.step() < maxSteps) {
                    t.train(every);
                    e = t.evaluateTrain();
                    bar.update(t.step(), String.format(Locale.ROOT, "epoch %d, train loss %.4f (target %s)",
                            (t.step() + perEpoch - 1) / perEpoch, e.loss(), targetLoss));
                    if (e.loss() <= targetLoss) {
                        break;
                    }
                }
            } catch (DivergedException d) {
                bar.finish("diverged: " + d.getMessage());
                throw new UserError("the run of batch " + batch + " to --target-loss diverged at lr " + lr + ": "
                        + d.getMessage(), d);
            }
            StepTrainer.Evaluation testEval = t.evaluateTest();
            t.saveModel(modelFile);
            double seconds = (System.nanoTime() - t0) / 1e9;
            bar.finish(String.format(Locale.ROOT, "%d steps (%d epochs), train loss %.4f, train acc %.4f, test acc "
                    + "%.4f, %.0f s", t.step(), (t.step() + perEpoch - 1) / perEpoch, e.loss(), e.accuracy(),
                    testEval.accuracy(), seconds));
            m.put("steps", t.step());
            m.put("epochs", (double) t.step() / perEpoch);
            m.put("reached_target", e.loss() <= targetLoss);
            m.put("train_loss", e.loss());
            m.put("train_accuracy", e.accuracy());
            m.put("test_loss", testEval.loss());
            m.put("test_accuracy", testEval.accuracy());
            m.put("generalization_gap", e.accuracy() - testEval.accuracy());
            m.put("seconds", seconds);
        }
        SharpnessReport s = sharpness(modelFile, subset);
        m.put("lambda_max", finite(s.topHessianEigenvalue()));
        m.put("epsilon_sharpness", finite(s.epsilonSharpnessPercent()));
        Map<String, Object> sh = new LinkedHashMap<>();
        sh.put("examples", s.examples());
        sh.put("loss", s.loss());
        sh.put("power_iterations", s.powerIterations());
        sh.put("last_relative_change", finite(s.lastRelativeChange()));
        sh.put("epsilon", s.epsilon());
        sh.put("seconds", s.seconds());
        m.put("sharpness", sh);
        return m;
    }

    private Map<String, Object> convergedConfig() {
        Map<String, Object> c = new LinkedHashMap<>(config());
        c.put("target_loss", targetLoss);
        c.put("converged_train_examples", convergedTrainLimit);
        c.put("max_epochs_to_target", maxEpochsToTarget);
        return c;
    }

    /** One run of the sweep. */
    record PointSpec(int batch, int workers, String schedule, double lr, long warmupSteps, int stepsPerEpoch) {
        String id() {
            return String.format(Locale.ROOT, "b%05d-w%d-%s", batch, workers, schedule);
        }
    }

    private List<PointSpec> specs() {
        int trainCount = StoryTraining.trainExamples(dataDir, trainLimit);
        List<PointSpec> out = new ArrayList<>();
        for (int b : batches) {
            int perEpoch = (trainCount + b - 1) / b;
            long warmup = warmupEpochs == 0 ? 0 : Math.max(1, Math.round(warmupEpochs * perEpoch));
            for (int w : workers) {
                out.add(new PointSpec(b, w, FIXED, lr, 0, perEpoch));
                if (w == 1) {
                    out.add(new PointSpec(b, w, LINEAR_WARMUP, lr * b / baseBatch, warmup, perEpoch));
                }
            }
        }
        return out;
    }

    /** The fixed-lr run with the most workers at the swept batch nearest (in log scale) to --reference-batch. */
    private String referenceId() {
        int w = Arrays.stream(workers).max().orElse(1);
        int b = batches[0];
        for (int x : batches) {
            if (Math.abs(Math.log((double) x / referenceBatch)) < Math.abs(Math.log((double) b / referenceBatch))) {
                b = x;
            }
        }
        return new PointSpec(b, w, FIXED, lr, 0, 0).id();
    }

    private Map<String, Object> runPoint(DescentEngine engine, PointSpec p, DataSource train, DataSource test,
                                         int trainCount, OutputDir pointsDir, Map<String, Object> config)
            throws InterruptedException {
        ModelDefinition def = model();
        Schedule schedule = Schedule.constant(p.lr()).withWarmup(p.warmupSteps());
        List<double[]> noise = java.util.Collections.synchronizedList(new ArrayList<>());
        ProgressBar bar = new ProgressBar(System.out, "  train", (long) p.stepsPerEpoch() * epochs);
        // 16 noise-scale measurements per epoch; at least 8 steps apart when a lone worker's batch is one micro-batch,
        // whose measurement costs an extra half (no BatchNorm) or whole (BatchNorm) batch of compute
        boolean probes = p.workers() == 1 && (microBatch <= 0 || p.batch() <= microBatch);
        int every = Math.max(probes ? 8 : 1, p.stepsPerEpoch() / 16);
        Path modelFile = pointsDir.resolve(p.id() + ".descent");
        TrainingPlan plan = TrainingPlan.builder().name(p.id()).model(def).train(train).test(test)
                .optimizer(Optimizer.momentum(p.lr(), momentum)).schedule(schedule).batchSize(p.batch())
                .evalBatchSize(1000).epochs(epochs).seed(seed).workers(p.workers()).threadsPerWorker(1)
                .microBatch(microBatch).noiseScaleEvery(every).gradientStatsEvery(0).modelFile(modelFile)
                .listener(e -> {
                    if (e instanceof TrainingEvent.StepCompleted s) {
                        bar.update(s.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4f lr %.3g",
                                s.epoch() + 1, epochs, s.loss(), s.learningRate()));
                    } else if (e instanceof TrainingEvent.GradientNoiseScale n) {
                        noise.add(new double[] {(double) n.step() / p.stepsPerEpoch(), n.noiseScale(),
                            n.traceCovariance(), n.gradientSquaredNorm()});
                    }
                }).build();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", p.batch());
        m.put("workers", p.workers());
        m.put("schedule", p.schedule());
        m.put("lr", p.lr());
        TrainingResult r;
        try {
            r = engine.submit(plan).await();
        } catch (DivergedException e) {
            bar.finish("diverged: " + e.getMessage());
            m.put("seconds_per_epoch", null);
            m.put("examples_per_second", null);
            m.put("test_accuracy", null);
            m.put("lambda_max", null);
            m.put("epsilon_sharpness", null);
            m.put("diverged", true);
            m.put("diverged_at_step", e.step());
            m.put("warmup_steps", p.warmupSteps());
            m.put("config", config);
            return m;
        }
        EpochSummary last = r.last();
        double[] seconds = r.epochs().stream().mapToDouble(EpochSummary::seconds).toArray();
        // the first epoch of a run includes JIT compilation of new code paths: time the later ones when there are any
        double perEpoch = seconds.length > 1 ? Arrays.stream(seconds, 1, seconds.length).average().orElseThrow()
                : seconds[0];
        bar.finish(String.format(Locale.ROOT, "test acc %.4f, %.2f s/epoch, %,.0f ex/s", last.testAccuracy(), perEpoch,
                trainCount / perEpoch));
        m.put("seconds_per_epoch", perEpoch);
        m.put("examples_per_second", trainCount / perEpoch);
        m.put("test_accuracy", last.testAccuracy());
        SharpnessReport s = null;
        if (p.workers() == 1) {
            s = sharpness(modelFile, train);
            try (Network n = Network.load(modelFile)) { // all training examples as one batch, in 1,000-row chunks
                Evaluation all = n.evaluate(train, Loss.CROSS_ENTROPY, 0, 1000);
                m.put("train_loss_eval", all.loss());
                m.put("train_accuracy_eval", all.accuracy());
                m.put("generalization_gap", all.accuracy() - last.testAccuracy());
            }
        }
        m.put("lambda_max", s == null ? null : finite(s.topHessianEigenvalue()));
        m.put("epsilon_sharpness", s == null ? null : finite(s.epsilonSharpnessPercent()));
        m.put("diverged", false);
        m.put("test_loss", last.testLoss());
        m.put("train_loss", last.trainLoss());
        m.put("train_accuracy", last.trainAccuracy());
        m.put("steps", r.steps());
        m.put("warmup_steps", p.warmupSteps());
        m.put("epoch_seconds", seconds);
        if (s != null) {
            Map<String, Object> sh = new LinkedHashMap<>();
            sh.put("examples", s.examples());
            sh.put("loss", s.loss());
            sh.put("power_iterations", s.powerIterations());
            sh.put("last_relative_change", finite(s.lastRelativeChange()));
            sh.put("epsilon", s.epsilon());
            sh.put("seconds", s.seconds());
            m.put("sharpness", sh);
        }
        double[] lastNoise = noise.isEmpty() ? null : noise.getLast();
        m.put("gradient_noise_scale", lastNoise == null ? null : finite(lastNoise[1]));
        m.put("noise_scale_trace", noise.stream().map(x -> new Object[] {x[0], finite(x[1]), finite(x[2]),
            finite(x[3])}).toList());
        m.put("parameters_sha256", r.parametersSha256());
        m.put("config", config);
        return m;
    }

    /**
     * A short unrecorded run per worker count, so the JIT has compiled the training path before the first timed
     * point (otherwise the first point's time per epoch includes compilation).
     */
    private void warmUp(DescentEngine engine, DataSource train) throws InterruptedException {
        System.out.println("warming up the JIT (a short unrecorded run per worker count)");
        for (int w : workers) {
            engine.submit(TrainingPlan.builder().name("warm-up-" + w).model(model()).train(train.limit(2048))
                    .optimizer(Optimizer.momentum(lr, momentum)).batchSize(64).epochs(1).seed(seed).workers(w)
                    .threadsPerWorker(1).microBatch(microBatch).noiseScaleEvery(4).gradientStatsEvery(0).build())
                    .await();
        }
    }

    /** Top Hessian eigenvalue and epsilon-sharpness of a trained model, through the SDK's landscape sharpness. */
    private SharpnessReport sharpness(Path modelFile, DataSource train) {
        try (Network n = Network.load(modelFile)) {
            LandscapeResult r = Descent.landscape(LandscapePlan.builder().line(n, 0.05, 2).train(train
                            .limit(sharpnessExamples)).seed(seed).evaluators(1)
                    .sharpness(sharpnessExamples, powerIterations).build());
            SharpnessReport s = r.sharpness().getFirst();
            System.out.printf(Locale.ROOT, "  sharpness: lambda_max %.4g (%d iterations), epsilon-sharpness %.4g%% "
                    + "(%.1f s)%n", s.topHessianEigenvalue(), s.powerIterations(), s.epsilonSharpnessPercent(),
                    s.seconds());
            return s;
        }
    }

    /**
     * Train and test loss on the line from the smallest-batch to the largest-batch solution trained to --target-loss
     * (the same-epochs fixed-lr solutions with --target-loss 0), or null.
     */
    private LandscapeResult interpolate(OutputDir dir, OutputDir pointsDir, DataSource train, DataSource test) {
        int small = Arrays.stream(batches).min().orElseThrow();
        int large = Arrays.stream(batches).max().orElseThrow();
        Path from = pointsDir.resolve((targetLoss > 0 ? convergedId(small)
                : new PointSpec(small, 1, FIXED, lr, 0, 0).id()) + ".descent");
        Path to = pointsDir.resolve((targetLoss > 0 ? convergedId(large)
                : new PointSpec(large, 1, FIXED, lr, 0, 0).id()) + ".descent");
        if (small == large || !Files.isRegularFile(from) || !Files.isRegularFile(to)) {
            System.out.println("no interpolation: it needs two batch sizes with 1-worker fixed-lr solutions");
            return null;
        }
        System.out.printf(Locale.ROOT, "interpolating: batch %d solution (alpha = 0) -> batch %d solution (alpha = 1)%s, "
                + "%d points%n", small, large, targetLoss > 0 ? " (both trained to the target loss)" : "",
                interpolationPoints);
        try (Network a = Network.load(from);
             Network b = Network.load(to)) {
            ProgressBar bar = new ProgressBar(System.out, "  interpolate", interpolationPoints);
            LandscapeResult r = Descent.landscape(LandscapePlan.builder().interpolation(a, b, 0.5, interpolationPoints)
                    .train(train.limit(evalExamples)).test(test.limit(evalExamples)).seed(seed)
                    // BatchNorm statistics follow the interpolated weights (the running ones belong to alpha = 0)
                    .batchNorm(batchNorm ? BatchNormMode.RECOMPUTE : BatchNormMode.RUNNING)
                    .partialResults(dir.resolve("interpolation.partial.csv"), fresh)
                    .listener((done, total, last) -> bar.update(done, String.format(Locale.ROOT,
                            "train loss %.4f", last.trainLoss()))).build());
            bar.finish(String.format(Locale.ROOT, "%d points (%d resumed)", r.points().size(), r.resumed()));
            r.writeCsv(dir.resolve("interpolation.csv"));
            try {
                Files.deleteIfExists(dir.resolve("interpolation.partial.csv"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return r;
        }
    }

    private Map<String, JsonNode> loadDone(OutputDir pointsDir, List<PointSpec> specs, Map<String, Object> config)
            throws IOException {
        Map<String, JsonNode> done = new LinkedHashMap<>();
        JsonNode want = OutputDir.json().valueToTree(config);
        for (PointSpec p : specs) {
            Path json = pointsDir.resolve(p.id() + ".json");
            if (!Files.isRegularFile(json)) {
                continue;
            }
            if (fresh) {
                Files.delete(json);
                Files.deleteIfExists(pointsDir.resolve(p.id() + ".descent"));
                continue;
            }
            JsonNode node;
            try {
                node = OutputDir.json().readTree(json.toFile());
            } catch (IOException e) {
                throw new UserError(json + " is not readable JSON (" + e.getMessage() + "); delete it or use --fresh",
                        e);
            }
            if (!want.toString().equals(String.valueOf(node.get("config")))) { // as text: int vs long nodes differ
                throw new UserError(json + " belongs to a sweep with other settings (" + node.get("config")
                        + " vs now " + want + "); use another --out or --fresh");
            }
            boolean diverged = node.path("diverged").asBoolean(false);
            if (!diverged && !Files.isRegularFile(pointsDir.resolve(p.id() + ".descent"))) {
                continue; // its model is gone: train the point again
            }
            done.put(p.id(), node);
        }
        if (fresh) {
            Files.deleteIfExists(out.resolve("interpolation.partial.csv"));
            for (int b : batches) {
                Files.deleteIfExists(pointsDir.resolve(convergedId(b) + ".json"));
                Files.deleteIfExists(pointsDir.resolve(convergedId(b) + ".descent"));
            }
        }
        return done;
    }

    private Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", "MLP 784-" + join(widths) + "-10, ReLU" + (batchNorm ? ", BatchNorm" : "") + ", Kaiming normal");
        c.put("train_examples", trainLimit);
        c.put("test_examples", testLimit);
        c.put("epochs", epochs);
        c.put("lr", lr);
        c.put("base_batch", baseBatch);
        c.put("momentum", momentum);
        c.put("warmup_epochs", warmupEpochs);
        c.put("micro_batch", microBatch);
        c.put("sharpness_examples", sharpnessExamples);
        c.put("power_iterations", powerIterations);
        c.put("seed", seed);
        return c;
    }

    private ModelDefinition model() {
        return ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                .activation(Activation.RELU).batchNorm(batchNorm).output(10).init("kaiming-normal").seed(seed).build();
    }

    private void validate() {
        if (batches.length == 0 || Arrays.stream(batches).anyMatch(b -> b < 1)) {
            throw new UserError("--batches must be sizes >= 1, was " + Arrays.toString(batches));
        }
        if (workers.length == 0 || Arrays.stream(workers).anyMatch(w -> w < 1)
                || Arrays.stream(workers).noneMatch(w -> w == 1)) {
            throw new UserError("--workers must be counts >= 1 including 1 (accuracy and sharpness come from 1 "
                    + "worker), was " + Arrays.toString(workers));
        }
        int cores = Descent.kernels().maxThreads();
        if (Arrays.stream(workers).anyMatch(w -> w > cores)) {
            throw new UserError("--workers must be at most the " + cores + " cores, was " + Arrays.toString(workers));
        }
        check("--epochs", epochs, 1);
        check("--train-limit", trainLimit, 1);
        check("--test-limit", testLimit, 1);
        check("--base-batch", baseBatch, 1);
        check("--reference-batch", referenceBatch, 1);
        check("--micro-batch", microBatch, 0);
        check("--sharpness-examples", sharpnessExamples, 1);
        check("--converged-train-limit", convergedTrainLimit, 1);
        check("--max-epochs-to-target", maxEpochsToTarget, 1);
        if (!(targetLoss >= 0) || Double.isInfinite(targetLoss)) {
            throw new UserError("--target-loss must be a finite number >= 0 (0: skip), was " + targetLoss);
        }
        check("--power-iterations", powerIterations, 1);
        check("--interpolation-points", interpolationPoints, 2);
        check("--eval-examples", evalExamples, 1);
        if (maxNewPoints != null) {
            check("--max-new-points", maxNewPoints, 0);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new UserError("--lr must be a finite number > 0, was " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new UserError("--momentum must be in [0, 1), was " + momentum);
        }
        if (!(warmupEpochs >= 0) || Double.isInfinite(warmupEpochs)) {
            throw new UserError("--warmup-epochs must be a finite number >= 0, was " + warmupEpochs);
        }
        for (int w : widths) {
            check("--widths", w, 1);
        }
    }

    private static void check(String option, long value, long min) {
        if (value < min) {
            throw new UserError(option + " must be >= " + min + ", was " + value);
        }
    }

    static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : "-").append(w[i]);
        }
        return sb.toString();
    }
}
