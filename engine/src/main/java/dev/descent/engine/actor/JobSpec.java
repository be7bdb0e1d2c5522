package dev.descent.engine.actor;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingListener;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything one actor-engine training job needs, as a Context object: fluent setters named after the property,
 * {@link #conclude()} validates and fills defaults. The model and datasets stay the caller's (the job reads and
 * trains them, never closes them); the caller must not touch the model while the job runs.
 */
public final class JobSpec {
    /** How workers' gradients become updates. */
    public enum Mode {
        /** Data parallel: every step, each worker computes one shard of the batch; one summed update. */
        SYNC,
        /** Each worker trains on whole batches; a parameter server applies each gradient on arrival. */
        ASYNC
    }

    public static final int MAX_RETRIES_DEFAULT = 3;
    public static final Duration STEP_TIMEOUT_DEFAULT = Duration.ofMinutes(10);

    private String name = "job";
    private Model model;
    private Dataset train;
    private Dataset test;
    private LossKind loss = LossKind.CROSS_ENTROPY;
    private Optimizer optimizer = Optimizers.momentum(0.01, 0.9);
    private LrSchedule schedule;
    private BackpropStrategy strategy = BackpropStrategy.VANILLA;
    private int batchSize = 128;
    private int evalBatchSize = 1000;
    private int epochs = 1;
    private long seed = 1;
    private int threadsPerWorker = 1;
    private double clipNorm;
    private int workers = 1;
    private Mode mode = Mode.SYNC;
    private int maxStaleness = -1;
    private int evaluators = 1;
    private Path checkpointDir;
    private long checkpointEverySteps;
    private int keepCheckpoints = 3;
    private boolean resume;
    private int gradientStatsEverySteps;
    private int microBatch;
    private int noiseScaleEverySteps;
    private int maxRetries = MAX_RETRIES_DEFAULT;
    private Duration stepTimeout = STEP_TIMEOUT_DEFAULT;
    private FaultInjector faults = FaultInjector.NONE;
    private TrainingListener listener = TrainingListener.NONE;
    private KernelBackend kernels;
    private Path modelFile;
    private Path trajectoryDir;
    private RemoteWorkers remoteWorkers;
    private boolean concluded;

    public JobSpec name(String name) {
        this.name = name;
        return this;
    }

    public JobSpec model(Model model) {
        this.model = model;
        return this;
    }

    public JobSpec train(Dataset train) {
        this.train = train;
        return this;
    }

    /** Test set evaluated after every epoch (null: none). */
    public JobSpec test(Dataset test) {
        this.test = test;
        return this;
    }

    public JobSpec loss(LossKind loss) {
        this.loss = loss;
        return this;
    }

    public JobSpec optimizer(Optimizer optimizer) {
        this.optimizer = optimizer;
        return this;
    }

    /** Learning rate per step (default constant at the optimizer's rate); open-ended schedules are resolved. */
    public JobSpec schedule(LrSchedule schedule) {
        this.schedule = schedule;
        return this;
    }

    public JobSpec strategy(BackpropStrategy strategy) {
        this.strategy = strategy;
        return this;
    }

    public JobSpec batchSize(int batchSize) {
        this.batchSize = batchSize;
        return this;
    }

    public JobSpec evalBatchSize(int evalBatchSize) {
        this.evalBatchSize = evalBatchSize;
        return this;
    }

    public JobSpec epochs(int epochs) {
        this.epochs = epochs;
        return this;
    }

    /** Seeds shuffling and Dropout (weights are seeded when the model is built). */
    public JobSpec seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** GEMM threads of each worker (1 = deterministic). */
    public JobSpec threadsPerWorker(int threads) {
        this.threadsPerWorker = threads;
        return this;
    }

    /** Clip the global gradient norm to this value; 0 = off. */
    public JobSpec clipNorm(double clipNorm) {
        this.clipNorm = clipNorm;
        return this;
    }

    public JobSpec workers(int workers) {
        this.workers = workers;
        return this;
    }

    public JobSpec mode(Mode mode) {
        this.mode = mode;
        return this;
    }

    /**
     * Async mode: a gradient computed on parameters more than this many updates old is rejected and recomputed
     * on fresh parameters (default: the worker count).
     */
    public JobSpec maxStaleness(int maxStaleness) {
        this.maxStaleness = maxStaleness;
        return this;
    }

    /** Projection evaluators used for test-set evaluation (default 1: bit-identical to the direct path). */
    public JobSpec evaluators(int evaluators) {
        this.evaluators = evaluators;
        return this;
    }

    /** Folder of this job's checkpoints (null: no checkpoints, no resume). */
    public JobSpec checkpointDir(Path dir) {
        this.checkpointDir = dir;
        return this;
    }

    /** Write a checkpoint every N optimizer steps (0 = only when asked). */
    public JobSpec checkpointEverySteps(long steps) {
        this.checkpointEverySteps = steps;
        return this;
    }

    public JobSpec keepCheckpoints(int keep) {
        this.keepCheckpoints = keep;
        return this;
    }

    /** Resume from the newest valid checkpoint in the checkpoint folder, if there is one. */
    public JobSpec resume(boolean resume) {
        this.resume = resume;
        return this;
    }

    /**
     * Rows per forward/backward pass of a worker: a worker's share of a batch larger than this is accumulated over
     * micro-batches (equal to the big batch up to float rounding). 0 = never split (default).
     */
    public JobSpec microBatch(int rows) {
        this.microBatch = rows;
        return this;
    }

    /**
     * Measure the gradient noise scale every N steps and publish {@code TrainingEvent.GradientNoiseScale}: in sync
     * mode from the per-worker / per-micro-batch gradients of the step (a single worker whose share is one
     * micro-batch adds a half-batch probe, {@code GradientPass#measureUnits(boolean, boolean)}); in async mode from
     * each N-th batch a worker computes, measured by that worker alone. 0 = off (default).
     */
    public JobSpec noiseScaleEverySteps(int steps) {
        this.noiseScaleEverySteps = steps;
        return this;
    }

    /** Publish per-layer gradient norms and update ratios every N steps (0 = never). */
    public JobSpec gradientStatsEverySteps(int steps) {
        this.gradientStatsEverySteps = steps;
        return this;
    }

    /** Restarts of a worker for one step before the job fails with the worker's exception. */
    public JobSpec maxRetries(int maxRetries) {
        this.maxRetries = maxRetries;
        return this;
    }

    /** A step whose gradients are not all in after this long fails the job (nothing hangs silently). */
    public JobSpec stepTimeout(Duration timeout) {
        this.stepTimeout = timeout;
        return this;
    }

    public JobSpec faults(FaultInjector faults) {
        this.faults = faults;
        return this;
    }

    /** Receives the job's events, in order, on the supervisor's thread. */
    public JobSpec listener(TrainingListener listener) {
        this.listener = listener;
        return this;
    }

    public JobSpec kernels(KernelBackend kernels) {
        this.kernels = kernels;
        return this;
    }

    /** Save the model file here after every epoch (null: don't). */
    public JobSpec modelFile(Path modelFile) {
        this.modelFile = modelFile;
        return this;
    }

    /**
     * Save the model before training as {@code epoch-000.descent} and after every epoch as {@code epoch-NNN.descent}
     * in this folder (null: don't) — the optimizer's path, for PCA directions and trajectories on landscape plots.
     */
    public JobSpec trajectoryDir(Path trajectoryDir) {
        this.trajectoryDir = trajectoryDir;
        return this;
    }

    /**
     * Run the workers elsewhere (sync mode only), e.g. on cluster nodes; null (default): local {@link Worker}s.
     * The model must hold no buffers (BatchNorm statistics would stay on the nodes) and the optimizer must not be
     * SAM (its second pass needs the optimizer on the node).
     */
    public JobSpec remoteWorkers(RemoteWorkers remoteWorkers) {
        this.remoteWorkers = remoteWorkers;
        return this;
    }

    /** Validates and fills defaults; returns this. */
    public JobSpec conclude() {
        if (model == null || train == null) {
            throw new IllegalArgumentException("job " + name + ": model and train dataset are required");
        }
        if (train.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("dataset " + train.name() + " has " + train.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        if (train.classes() > model.outputSize()) {
            throw new IllegalArgumentException("dataset " + train.name() + " has " + train.classes()
                    + " classes, the model has only " + model.outputSize() + " outputs");
        }
        if (test != null && test.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("test dataset " + test.name() + " has " + test.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        if (loss == null || optimizer == null || strategy == null || mode == null || faults == null
                || listener == null || stepTimeout == null) {
            throw new IllegalArgumentException("job " + name + ": loss, optimizer, strategy, mode, faults, listener "
                    + "and stepTimeout must not be null");
        }
        check("batch size", batchSize, 1);
        check("eval batch size", evalBatchSize, 1);
        check("epochs", epochs, 0);
        check("threads per worker", threadsPerWorker, 1);
        check("workers", workers, 1);
        check("evaluators", evaluators, 1);
        check("keep checkpoints", keepCheckpoints, 1);
        check("max retries", maxRetries, 0);
        check("gradient stats interval (steps)", gradientStatsEverySteps, 0);
        check("micro-batch rows", microBatch, 0);
        check("noise scale interval (steps)", noiseScaleEverySteps, 0);
        if (checkpointEverySteps < 0) {
            throw new IllegalArgumentException("checkpoint interval must be >= 0 steps, was " + checkpointEverySteps);
        }
        if ((checkpointEverySteps > 0 || resume) && checkpointDir == null) {
            throw new IllegalArgumentException("job " + name + ": checkpoints and resume need a checkpoint folder");
        }
        if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("clip norm must be finite and >= 0 (0 = off), was " + clipNorm);
        }
        if (stepTimeout.isNegative() || stepTimeout.isZero()) {
            throw new IllegalArgumentException("step timeout must be > 0, was " + stepTimeout);
        }
        if (remoteWorkers != null) {
            if (mode != Mode.SYNC) {
                throw new IllegalArgumentException("job " + name + ": remote (cluster) workers need sync mode");
            }
            if (optimizer instanceof dev.descent.engine.optim.Sam) {
                throw new IllegalArgumentException("job " + name + ": SAM is not supported with cluster workers");
            }
            if (model.bufferFloats() > 0) {
                throw new IllegalArgumentException("job " + name + ": models with buffers (BatchNorm) are not "
                        + "supported with cluster workers: their running statistics would stay on the nodes");
            }
        }
        if (maxStaleness < 0) {
            maxStaleness = workers;
        }
        if (kernels == null) {
            kernels = Kernels.backend();
        }
        concluded = true;
        return this;
    }

    private static void check(String what, long v, long min) {
        if (v < min) {
            throw new IllegalArgumentException(what + " must be >= " + min + ", was " + v);
        }
    }

    boolean concluded() {
        return concluded;
    }

    public String name() {
        return name;
    }

    public Model model() {
        return model;
    }

    public Dataset train() {
        return train;
    }

    public Dataset test() {
        return test;
    }

    public LossKind loss() {
        return loss;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public LrSchedule schedule() {
        return schedule;
    }

    public BackpropStrategy strategy() {
        return strategy;
    }

    /** Rows per forward/backward of a worker (0: the worker's whole share of the batch). */
    public int microBatch() {
        return microBatch;
    }

    /** Steps between gradient noise scale measurements (0: off). */
    public int noiseScaleEverySteps() {
        return noiseScaleEverySteps;
    }

    /** True when step {@code step} (0-based; in async mode the batch's sequence number) measures the noise scale. */
    public boolean measuresNoiseScale(long step) {
        return noiseScaleEverySteps > 0 && (step + 1) % noiseScaleEverySteps == 0;
    }

    public int batchSize() {
        return batchSize;
    }

    public int evalBatchSize() {
        return evalBatchSize;
    }

    public int epochs() {
        return epochs;
    }

    public long seed() {
        return seed;
    }

    public int threadsPerWorker() {
        return threadsPerWorker;
    }

    public double clipNorm() {
        return clipNorm;
    }

    public int workers() {
        return workers;
    }

    public Mode mode() {
        return mode;
    }

    public int maxStaleness() {
        return maxStaleness;
    }

    public int evaluators() {
        return evaluators;
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    public long checkpointEverySteps() {
        return checkpointEverySteps;
    }

    public int keepCheckpoints() {
        return keepCheckpoints;
    }

    public boolean resume() {
        return resume;
    }

    public int gradientStatsEverySteps() {
        return gradientStatsEverySteps;
    }

    public int maxRetries() {
        return maxRetries;
    }

    public Duration stepTimeout() {
        return stepTimeout;
    }

    public FaultInjector faults() {
        return faults;
    }

    public TrainingListener listener() {
        return listener;
    }

    public KernelBackend kernels() {
        return kernels;
    }

    public Path modelFile() {
        return modelFile;
    }

    public Path trajectoryDir() {
        return trajectoryDir;
    }

    /** Where the workers run (null: local actors). */
    public RemoteWorkers remoteWorkers() {
        return remoteWorkers;
    }

    /** Optimizer steps per epoch. */
    public int stepsPerEpoch() {
        return (train.count() + batchSize - 1) / batchSize;
    }
}
