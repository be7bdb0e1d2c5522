package dev.descent.samples.cli;

import dev.descent.monitoring.Monitoring;
import dev.descent.monitoring.MonitoringConfig;
import dev.descent.samples.CtrlC;
import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Backprop;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.DivergedException;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.Loss;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.TrainingJob;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    @Option(names = "--dataset", defaultValue = "fashion-mnist", description = "fashion-mnist, mnist or modular (all pairs of a op b mod p as tokens 'a op b =': --operation, --modulus, --train-fraction) (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--operation", defaultValue = "add", description = "modular: add, sub, mul, div or square-sum (default: ${DEFAULT-VALUE})")
    String operation;

    @Option(names = "--modulus", defaultValue = "97", description = "modular: the prime p (default: ${DEFAULT-VALUE})")
    int modulus;

    @Option(names = "--train-fraction", defaultValue = "0.5", description = "modular: fraction of the pairs trained on, the rest is the test set (default: ${DEFAULT-VALUE})")
    double trainFraction;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden layer widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--activation", defaultValue = "relu", description = "relu, leaky-relu, sigmoid, tanh, gelu (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--dropout", defaultValue = "0", description = "dropout probability after each hidden layer (default: ${DEFAULT-VALUE})")
    double dropout;

    @Option(names = "--init", defaultValue = "kaiming-normal", description = "zeros, constant:V, normal:STD, uniform:A, xavier-normal, xavier-uniform, kaiming-normal, kaiming-uniform; :gain=G on the last four, *K scales any (kaiming-normal*2) (default: ${DEFAULT-VALUE})")
    String init;

    @Option(names = "--loss", defaultValue = "cross-entropy", description = "cross-entropy or mse (default: ${DEFAULT-VALUE})")
    String loss;

    @Option(names = "--optimizer", defaultValue = "momentum", description = "sgd, momentum, nesterov, adam, adamw, sam (default: ${DEFAULT-VALUE})")
    String optimizer;

    @Option(names = "--sam-rho", defaultValue = "0.05", description = "SAM neighbourhood radius rho (Foret et al.: 0.05; ASAM: 0.5-2) (default: ${DEFAULT-VALUE})")
    double samRho;

    @Option(names = "--sam-adaptive", description = "adaptive SAM (ASAM, Kwon et al. 2021): neighbourhood scaled by |w|")
    boolean samAdaptive;

    @Option(names = "--sam-base", defaultValue = "momentum", description = "update rule SAM steps with: sgd, momentum, nesterov, adam, adamw (default: ${DEFAULT-VALUE})")
    String samBase;

    @Option(names = "--lr", description = "peak learning rate (default: 0.02; 0.01 for --loss mse; 0.001 for adam/adamw)")
    Double lr;

    @Option(names = "--momentum", defaultValue = "0.9", description = "momentum for momentum/nesterov (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--weight-decay", defaultValue = "0", description = "weight decay (L2 for sgd/momentum/adam, decoupled for adamw) (default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, step, cosine, exponential, exponential-step, warmup-cosine (default: ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--gamma", defaultValue = "0.5", description = "decay factor: per --step-epochs for step, per epoch for exponential, per optimizer step for exponential-step (default: ${DEFAULT-VALUE})")
    double gamma;

    @Option(names = "--step-epochs", defaultValue = "3", description = "epochs between decays for --schedule step (default: ${DEFAULT-VALUE})")
    int stepEpochs;

    @Option(names = "--warmup-epochs", defaultValue = "1", description = "linear warmup length for warmup-cosine (default: ${DEFAULT-VALUE})")
    double warmupEpochs;

    @Option(names = "--warmup-steps", defaultValue = "0", description = "gradual linear warm-up over the first N steps, composed with any --schedule except warmup-cosine (Goyal et al. 2017) (default: ${DEFAULT-VALUE})")
    long warmupSteps;

    @Option(names = "--micro-batch", defaultValue = "0", description = "rows per forward/backward of a worker; a larger share of a batch accumulates gradients over micro-batches (same update), 0 = never split (default: ${DEFAULT-VALUE})")
    int microBatch;

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

    @Option(names = "--model", defaultValue = "mlp", description = "mlp, resmlp (residual MLP: --depth, --width, --no-skip), cnn (LeNet-like); for --dataset modular: transformer (decoder-only: --layers, --width, --heads) or embedding-mlp (--width per token, --widths) (default: ${DEFAULT-VALUE})")
    String modelName;

    @Option(names = "--depth", defaultValue = "8", description = "resmlp: residual blocks (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--width", description = "resmlp: width of every block (default: 256); transformer: model width (default: 128); embedding-mlp: embedding per token (default: 32)")
    Integer width;

    @Option(names = "--layers", defaultValue = "2", description = "transformer: blocks (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "transformer: attention heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--no-skip", description = "resmlp: drop the skip connections (same depth and parameters)")
    boolean noSkip;

    @Option(names = "--workers", description = "data-parallel workers (default: one per core; results are bit-identical for a given worker count)")
    Integer workers;

    @Option(names = "--cluster", split = ",", description = "run the workers on a Descent cluster: host:port of its seed nodes (start worker nodes with `descent node`); this JVM keeps the supervisor, aggregator, evaluation and outputs")
    List<String> cluster;

    @Option(names = "--nodes", defaultValue = "1", description = "with --cluster: worker nodes to wait for and use; --workers defaults to their compute slots (default: ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--submitter-workers", defaultValue = "0", description = "with --cluster: workers that compute in this JVM (their shares never cross the wire); the others run on the worker nodes (default: ${DEFAULT-VALUE})")
    int submitterWorkers;

    @Option(names = "--join-timeout", defaultValue = "60", description = "with --cluster: seconds to wait for the cluster and its worker nodes (default: ${DEFAULT-VALUE})")
    double joinTimeout;

    @Option(names = "--heartbeat-pause", defaultValue = "5", description = "with --cluster: seconds of missed heartbeats before a node is unreachable; the same on every node (default: ${DEFAULT-VALUE})")
    double heartbeatPause;

    @Option(names = "--stable-after", defaultValue = "3", description = "with --cluster: seconds of stable membership before the split-brain resolver downs unreachable nodes (default: ${DEFAULT-VALUE})")
    double stableAfter;

    @Option(names = "--checkpoint-every", defaultValue = "0", description = "write a checkpoint every N steps to OUT/checkpoints, 0 = off (default: ${DEFAULT-VALUE})")
    long checkpointEvery;

    @Option(names = "--keep-checkpoints", defaultValue = "3", description = "checkpoints kept (default: ${DEFAULT-VALUE})")
    int keepCheckpoints;

    @Option(names = "--resume", paramLabel = "DIR", description = "resume the run whose output folder is DIR from its last valid checkpoint (outputs go to DIR)")
    Path resume;

    @Option(names = "--metrics-port", description = "serve Prometheus metrics, /health and /api/jobs on this port while training (0 = any free port)")
    Integer metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", description = "address the metrics server binds (default: ${DEFAULT-VALUE})")
    String metricsHost;

    @Option(names = "--metrics-linger", defaultValue = "0", description = "seconds to keep serving metrics after training ends, so a scraper sees the final values (default: ${DEFAULT-VALUE})")
    double metricsLinger;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--fresh", description = "with --resume: if no checkpoint there can be read, start over from step 0 (the unreadable ones are moved to checkpoints/unreadable-TIME/) instead of failing")
    boolean fresh;

    private CtrlC ctrlC;
    @Option(names = "--gradient-stats-every", defaultValue = "50", description = "publish per-layer gradient norms and update ratios every N steps (metrics and listeners), 0 = never (default: ${DEFAULT-VALUE})")
    int gradientStatsEvery;

    @Override
    public Integer call() throws IOException, InterruptedException {
        validate();
        Loss lossKind = Loss.parse(loss);
        double learningRate = resolveLearningRate();
        Optimizer opt = optimizer.trim().equalsIgnoreCase("sam")
                ? Optimizer.sam(Optimizer.parse(samBase, learningRate, momentum, weightDecay), samRho, samAdaptive)
                : Optimizer.parse(optimizer, learningRate, momentum, weightDecay);
        Backprop backprop = Backprop.parse(strategy);
        Activation act = Activation.parse(activation);
        TrainData data = TrainData.of(dataset, dataDir, operation, modulus, trainFraction, seed);
        if (resume != null) {
            if (!Files.isDirectory(resume.resolve("checkpoints"))) {
                throw new UserError("--resume " + resume + ": no checkpoints/ folder there (train with "
                        + "--checkpoint-every N --out " + resume + " first)");
            }
            if (!fresh && !hasCheckpoints(resume.resolve("checkpoints"))) {
                throw new UserError("--resume " + resume + ": its checkpoints/ folder holds no checkpoint (add --fresh "
                        + "to start over there)");
            }
            out = resume;
        }
        OutputDir dir = OutputDir.create(out, resume != null); // checks now that --out can be written
        int available = data.available();
        int trainCount = trainLimit == null ? available : Math.min(trainLimit, available);
        int stepsPerEpoch = (trainCount + batch - 1) / batch;
        int workerCount = workers != null ? workers : cluster != null ? 0 : DescentConfig.WORKERS_DEFAULT;
        ModelDefinition model = model(act, data);
        System.out.printf(Locale.ROOT, "descent train: %s (%d examples), %s, %s, %s lr=%s %s, batch %d, %d epochs, "
                        + "%s backprop, seed %d, %s x %d thread(s), %s kernels%n", data.displayName(),
                trainCount, model, lossKind == Loss.MSE ? "mse" : "cross-entropy", optimizer, learningRate, schedule, batch,
                epochs, backprop, seed, cluster == null ? workerCount + " worker(s)"
                        : (workerCount > 0 ? workerCount + " worker(s)" : "one worker per compute slot") + " on "
                        + nodes + " cluster node(s) via " + String.join(",", cluster), threads,
                Descent.kernels().backend());

        DataSource train = data.train();
        TrainingPlan.Builder plan = TrainingPlan.builder().name("train").model(model)
                .train(trainLimit == null ? train : train.limit(trainLimit)).test(data.test())
                .loss(lossKind).optimizer(opt).schedule(schedule(learningRate, stepsPerEpoch)).backprop(backprop)
                .batchSize(batch).epochs(epochs).seed(seed).workers(workerCount).threadsPerWorker(threads)
                .clipNorm(clipNorm).microBatch(microBatch).modelFile(dir.resolve("model.descent"));
        plan.gradientStatsEvery(gradientStatsEvery);
        if (saveTrajectory) {
            plan.trajectoryDir(dir.resolve("trajectory"));
        }
        if (checkpointEvery > 0 || resume != null) {
            plan.checkpointDir(dir.resolve("checkpoints")).checkpointEvery(checkpointEvery)
                    .keepCheckpoints(keepCheckpoints).resume(resume != null);
        }
        RunRecorder recorder = new RunRecorder(dir, epochs, stepsPerEpoch, data.displayName() + " training");
        if (resume != null) {
            recorder.keepHistory(dir.resolve("metrics.csv"));
        }
        plan.listener(recorder);
        Monitoring monitoring = null;
        DescentConfig engineConfig = new DescentConfig().workers(Math.max(1, workerCount)).threads(threads);
        if (cluster == null && submitterWorkers != 0) {
            throw new UserError("--submitter-workers needs --cluster (without it every worker computes in this JVM)");
        }
        if (cluster != null) {
            if (!(joinTimeout > 0)) {
                throw new UserError("--join-timeout must be > 0 seconds, was " + joinTimeout);
            }
            engineConfig.cluster(cluster).clusterNodes(nodes).clusterSubmitterWorkers(submitterWorkers)
                    .clusterFailureDetection(
                    java.time.Duration.ofMillis(Math.round(heartbeatPause * 1000)),
                    java.time.Duration.ofMillis(Math.round(stableAfter * 1000)))
                    .clusterJoinTimeout(java.time.Duration.ofMillis(Math.round(joinTimeout * 1000)));
            try {
                engineConfig.conclude();
            } catch (IllegalArgumentException e) {
                throw new UserError("--cluster: " + e.getMessage(), e);
            }
        }
        try (DescentEngine engine = Descent.start(engineConfig)) {
            if (metricsPort != null) {
                try {
                    monitoring = Monitoring.start(new MonitoringConfig().host(metricsHost).port(metricsPort)
                            .job("train"));
                } catch (IllegalStateException e) {
                    throw new UserError(e.getMessage() + " (--metrics-port " + metricsPort
                            + "; choose a free port, or 0 for any free port)", e);
                }
                plan.listener(monitoring.listener());
                System.out.println("metrics: " + monitoring.metricsUri() + " (status: /api/jobs, health: /health)");
            }
            TrainingResult result;
            try {
                result = submitAndAwait(engine, plan, dir);
            } catch (DivergedException e) {
                recorder.finishBar();
                if (monitoring != null) {
                    monitoring.jobs().failed("train", e.getMessage());
                    lingerAfterFailure();
                }
                throw new UserError(e.getMessage() + "; the last good parameters (start of epoch " + (e.epoch() + 1)
                        + ") are in " + dir.resolve("model.descent") + (Files.exists(dir.resolve("metrics.csv"))
                        ? ", the finished epochs in " + dir.resolve("metrics.csv") : ""), e);
            } catch (RuntimeException e) {
                if (ctrlC != null && ctrlC.requested()) {
                    ctrlC.yieldToShutdown(); // Ctrl-C: the hook reports what was kept, the JVM exits with 130
                }
                recorder.finishBar();
                if (monitoring != null) {
                    monitoring.jobs().failed("train", String.valueOf(e.getMessage()));
                }
                dir.writeJson("summary.json", failureSummary(e, recorder));
                throw e;
            }
            if (monitoring != null) {
                monitoring.jobs().finished("train");
            }
            Map<String, Object> summary = summary(result, data, backprop, learningRate, model, trainCount,
                    workerCount);
            summary.put("train_seconds_this_process", recorder.stepSeconds());
            summary.put("last_checkpoint", recorder.lastCheckpoint());
            summary.put("checkpoint_write_failures", recorder.failedCheckpoints());
            if (lastJob != null && lastJob.clusterStats().isPresent()) {
                dev.descent.sdk.ClusterStats cs = lastJob.clusterStats().get();
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("placement", cs.placement());
                c.put("workers", cs.workers());
                c.put("bytes_per_step", cs.bytesPerStep());
                c.put("transport_seconds_per_share", cs.transportSecondsPerShare());
                c.put("compute_seconds_per_share", cs.computeSecondsPerShare());
                c.put("nodes_lost", cs.nodesLost());
                c.put("shares_moved", cs.sharesMoved());
                c.put("shares_per_node", cs.sharesPerNode());
                summary.put("cluster", c);
                System.out.printf(Locale.ROOT, "cluster: %s; %.2f MB on the wire per step; per worker-step %.1f ms "
                                + "compute on the node, %.1f ms serialization + transport; %d node(s) lost; "
                                + "%d share(s) moved to free nodes; shares computed per node %s%n",
                        cs.placement(), cs.bytesPerStep() / 1e6, cs.computeSecondsPerShare() * 1e3,
                        cs.transportSecondsPerShare() * 1e3, cs.nodesLost(), cs.sharesMoved(), cs.sharesPerNode());
            }
            dir.writeJson("summary.json", summary);
            EpochSummary last = result.last();
            System.out.printf(Locale.ROOT, "done: test accuracy %.4f, test loss %.4f, %.0f examples/s, %.1f s; "
                            + "wrote %s%n", last == null ? Double.NaN : last.testAccuracy(),
                    last == null ? Double.NaN : last.testLoss(), result.examplesPerSecond(), result.wallSeconds(),
                    dir.path());
            if (monitoring != null && metricsLinger > 0) {
                System.out.printf(Locale.ROOT, "serving the final metrics for %.0f s more%n", metricsLinger);
                Thread.sleep((long) (metricsLinger * 1000));
            }
            if (recorder.failedCheckpoints() > 0) {
                spec.commandLine().getErr().println("descent train: " + recorder.failedCheckpoints() + " checkpoint write(s) failed; "
                        + (recorder.lastCheckpoint() == null ? "no checkpoint was written"
                        : "the newest good checkpoint is " + recorder.lastCheckpoint()) + " (see summary.json)");
                return 3;
            }
            return 0;
        } finally {
            if (ctrlC != null) {
                ctrlC.close();
            }
            if (monitoring != null) {
                monitoring.close();
            }
        }
    }

    private TrainingJob lastJob;

    /** Ctrl-C from now on checkpoints (when the run can), says what was kept and exits 130. */
    private TrainingJob watched(TrainingJob job, OutputDir dir) {
        lastJob = job;
        if (ctrlC != null) {
            ctrlC.close();
        }
        ctrlC = CtrlC.watch(job, checkpointEvery > 0 || resume != null, dir.path());
        return job;
    }

    /**
     * Submits and waits. With {@code --resume --fresh}, a folder none of whose checkpoints can be read is set aside
     * and the run starts over; without {@code --fresh} that is an error (the job fails before it trains).
     */
    private TrainingResult submitAndAwait(DescentEngine engine, TrainingPlan.Builder plan, OutputDir dir)
            throws InterruptedException {
        try {
            return watched(engine.submit(plan.build()), dir).await();
        } catch (dev.descent.sdk.DescentException e) {
            if (resume == null || !String.valueOf(e.getMessage()).contains("can be read")) {
                throw e;
            }
            if (!fresh) {
                throw new UserError(e.getMessage() + " (or add --fresh to set them aside and start over)", e);
            }
            Path aside = dir.resolve("checkpoints").resolve("unreadable-" + System.currentTimeMillis());
            try {
                Files.createDirectories(aside);
                try (var files = Files.list(dir.resolve("checkpoints"))) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        Files.move(f, aside.resolve(f.getFileName()));
                    }
                }
            } catch (IOException io) {
                throw new UserError("cannot set the unreadable checkpoints aside into " + aside + ": " + io.getMessage(),
                        io);
            }
            spec.commandLine().getErr().println("descent train: no checkpoint could be read; moved them to " + aside
                    + " and starting over (--fresh)");
            return watched(engine.submit(plan.build()), dir).await();
        }
    }

    private static boolean hasCheckpoints(Path folder) throws IOException {
        try (var files = Files.list(folder)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("checkpoint-\\d{12}\\.dck"));
        }
    }

    /** summary.json of a run that failed: the reason and the newest checkpoint to resume from. */
    private static Map<String, Object> failureSummary(RuntimeException e, RunRecorder recorder) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "failed");
        s.put("error", String.valueOf(e.getMessage()));
        s.put("last_checkpoint", recorder.lastCheckpoint());
        s.put("last_checkpoint_step", recorder.lastCheckpointStep() < 0 ? null : recorder.lastCheckpointStep());
        s.put("checkpoint_write_failures", recorder.failedCheckpoints());
        return s;
    }

    /** Keeps the metrics of a diverged run up for --metrics-linger seconds, so alerts on it can fire. */
    private void lingerAfterFailure() throws InterruptedException {
        if (metricsLinger > 0) {
            System.out.printf(Locale.ROOT, "training diverged; serving the final metrics for %.0f s more%n",
                    metricsLinger);
            Thread.sleep((long) (metricsLinger * 1000));
        }
    }

    private ModelDefinition model(Activation act, TrainData data) {
        int[] input = data.sampleShape();
        String name = modelName.trim().toLowerCase(Locale.ROOT);
        if (name.equals("transformer") || name.equals("embedding-mlp")) {
            if (!data.sequences()) {
                throw new UserError("--model " + name + " reads token sequences; use it with --dataset modular");
            }
            try {
                return name.equals("transformer")
                        ? ModelDefinition.transformer(data.vocabulary(), input[0], width == null ? 128 : width, heads,
                                layers, data.classes(), seed)
                        : ModelDefinition.embeddingMlp(data.vocabulary(), input[0], width == null ? 32 : width,
                                widths, data.classes(), seed);
            } catch (IllegalArgumentException e) {
                throw new UserError("--model " + name + ": " + e.getMessage(), e);
            }
        }
        if (data.sequences()) {
            throw new UserError("--dataset modular holds token ids: use --model transformer or embedding-mlp, not "
                    + modelName);
        }
        return switch (name) {
            case "mlp" -> ModelDefinition.mlp().input(input).hidden(widths).activation(act)
                    .output(data.classes()).dropout(dropout).init(init).seed(seed).build();
            case "resmlp" -> ModelDefinition.resMlp(input, data.classes(), depth, width == null ? 256 : width, !noSkip,
                    seed);
            case "cnn" -> ModelDefinition.cnn(input, data.classes(), seed);
            default -> throw new UserError("unknown --model '" + modelName + "'; expected mlp, resmlp, cnn, "
                    + "transformer or embedding-mlp");
        };
    }

    private double resolveLearningRate() {
        if (lr != null) {
            return lr;
        }
        String o = optimizer.trim().toLowerCase(Locale.ROOT);
        if (o.equals("sam")) {
            o = samBase.trim().toLowerCase(Locale.ROOT);
        }
        if (o.startsWith("adam")) {
            return 0.001;
        }
        // MSE on one-hot targets diverges into dead ReLUs at 0.02 (test accuracy 0.28 after 2 epochs), 0.01 trains.
        return loss.trim().equalsIgnoreCase("mse") ? 0.01 : 0.02;
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
        int cores = Descent.kernels().maxThreads();
        if (threads < 1 || threads > cores) {
            throw new UserError("--threads must be between 1 and " + cores + " (the cores), was " + threads);
        }
        for (int w : widths) {
            if (w < 1) {
                throw new UserError("--widths must all be >= 1, got " + joinWidths());
            }
        }
        if (trainLimit != null && trainLimit < 1) {
            throw new UserError("--train-limit must be >= 1, was " + trainLimit);
        }
        if (warmupSteps < 0) {
            throw new UserError("--warmup-steps must be >= 0, was " + warmupSteps);
        }
        if (warmupSteps > 0 && schedule.trim().equalsIgnoreCase("warmup-cosine")) {
            throw new UserError("--warmup-steps " + warmupSteps + " with --schedule warmup-cosine: that schedule has "
                    + "its own warm-up (--warmup-epochs); use --schedule cosine --warmup-steps N instead");
        }
        if (microBatch < 0) {
            throw new UserError("--micro-batch must be >= 0 (0 = never split), was " + microBatch);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new UserError("--momentum must be in [0, 1), was " + momentum);
        }
        if (!(samRho > 0) || Double.isInfinite(samRho)) {
            throw new UserError("--sam-rho must be a finite number > 0, was " + samRho);
        }
        if (!List.of("sgd", "momentum", "nesterov", "adam", "adamw", "sam")
                .contains(optimizer.trim().toLowerCase(Locale.ROOT))) {
            throw new UserError("unknown optimizer '" + optimizer + "'; expected sgd, momentum, nesterov, adam, adamw"
                    + " or sam");
        }
        if (samBase.trim().equalsIgnoreCase("sam")) {
            throw new UserError("--sam-base must be sgd, momentum, nesterov, adam or adamw, was " + samBase);
        }
        if (checkpointEvery < 0) {
            throw new UserError("--checkpoint-every must be >= 0 steps (0 = off), was " + checkpointEvery);
        }
        if (keepCheckpoints < 1) {
            throw new UserError("--keep-checkpoints must be >= 1, was " + keepCheckpoints);
        }
        if (fresh && resume == null) {
            throw new UserError("--fresh only applies with --resume DIR");
        }
    }

    private Schedule schedule(double lr0, int stepsPerEpoch) {
        return scheduleWithoutWarmup(lr0, stepsPerEpoch).withWarmup(warmupSteps);
    }

    private Schedule scheduleWithoutWarmup(double lr0, int stepsPerEpoch) {
        return switch (schedule.trim().toLowerCase(Locale.ROOT)) {
            case "constant" -> Schedule.constant(lr0);
            case "step" -> Schedule.step(lr0, gamma, (long) stepEpochs * stepsPerEpoch);
            case "cosine" -> Schedule.cosine(lr0, 0.0);
            case "exponential" -> Schedule.exponential(lr0, Math.pow(gamma, 1.0 / stepsPerEpoch));
            case "exponential-step" -> Schedule.exponential(lr0, gamma);
            case "warmup-cosine" -> Schedule.warmupCosine(Math.max(1, Math.round(warmupEpochs * stepsPerEpoch)),
                    lr0, 0.0);
            default -> throw new UserError("unknown --schedule '" + schedule
                    + "'; expected constant, step, cosine, exponential, exponential-step or warmup-cosine");
        };
    }

    static Corpus parseCorpus(String name) {
        try {
            return Corpus.parse(name);
        } catch (IllegalArgumentException e) {
            throw new UserError("unknown --dataset '" + name + "'; expected fashion-mnist or mnist", e);
        }
    }

    private String joinWidths() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            sb.append(i == 0 ? "" : "-").append(widths[i]);
        }
        return sb.toString();
    }

    private Map<String, Object> summary(TrainingResult r, TrainData data, Backprop backprop,
                                        double learningRate, ModelDefinition model, int trainCount, int workerCount) {
        EpochSummary last = r.last();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("status", "succeeded");
        s.put("test_accuracy", last.testAccuracy());
        s.put("test_loss", last.testLoss());
        s.put("train_loss", last.trainLoss());
        s.put("train_accuracy", last.trainAccuracy());
        s.put("examples_per_second", r.examplesPerSecond());
        s.put("wall_seconds", r.wallSeconds());
        s.put("train_seconds", r.trainSeconds()); // all processes of a resumed run; wall_seconds: this one
        s.put("epochs", r.epochs().size());
        s.put("steps", r.steps());
        s.put("parameters", r.parameters());
        s.put("parameters_sha256", r.parametersSha256());
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("dataset", data.displayName());
        cfg.put("train_examples", trainCount);
        cfg.put("model", model.toString());
        cfg.put("loss", loss.trim().toLowerCase(Locale.ROOT));
        cfg.put("optimizer", optimizer);
        if (optimizer.trim().equalsIgnoreCase("sam")) {
            cfg.put("sam", Map.of("rho", samRho, "adaptive", samAdaptive, "base", samBase));
        }
        cfg.put("lr", learningRate);
        cfg.put("momentum", momentum);
        cfg.put("weight_decay", weightDecay);
        cfg.put("schedule", schedule);
        cfg.put("warmup_steps", warmupSteps);
        cfg.put("micro_batch", microBatch);
        cfg.put("batch", batch);
        cfg.put("dropout", dropout);
        cfg.put("init", init);
        cfg.put("strategy", backprop.toString());
        cfg.put("seed", seed);
        cfg.put("workers", workerCount);
        cfg.put("threads_per_worker", threads);
        cfg.put("kernels", Descent.kernels().backend());
        s.put("config", cfg);
        return s;
    }
}
