package dev.descent.sdk;

import dev.descent.engine.event.TrainingListener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything about one training run, immutable once built:
 * <pre>{@code
 * TrainingPlan plan = TrainingPlan.builder().name("fmnist")
 *         .model(ModelDefinition.mlp().input(1, 28, 28).hidden(256, 128).output(10).build())
 *         .train(DataSource.fashionMnist(Split.TRAIN)).test(DataSource.fashionMnist(Split.TEST))
 *         .optimizer(Optimizer.momentum(0.02, 0.9)).schedule(Schedule.cosine(0.02, 0))
 *         .batchSize(128).epochs(10).seed(1).workers(2).checkpointEvery(500).build();
 * }</pre>
 * Unset values come from the engine's {@link DescentConfig} (workers, threads, checkpoint folder).
 */
public final class TrainingPlan {
    /** How the workers' gradients become updates. */
    public enum Mode {
        /** Data parallel, one summed update per step; deterministic for a given worker count and seed. */
        SYNC,
        /** A parameter server applies each worker's gradient on arrival (bounded staleness); not deterministic. */
        ASYNC
    }

    final String name;
    final ModelDefinition model;
    final DataSource train;
    final DataSource test;
    final Loss loss;
    final Optimizer optimizer;
    final Schedule schedule;
    final Backprop backprop;
    final int batchSize;
    final int evalBatchSize;
    final int epochs;
    final long seed;
    final int workers;
    final int threadsPerWorker;
    final Mode mode;
    final int maxStaleness;
    final int evaluators;
    final double clipNorm;
    final long checkpointEvery;
    final int keepCheckpoints;
    final boolean resume;
    final Path checkpointDir;
    final int gradientStatsEvery;
    final int microBatch;
    final int noiseScaleEvery;
    final int maxRetries;
    final Duration stepTimeout;
    final Path modelFile;
    final Path trajectoryDir;
    final int trajectoryEverySteps;
    final List<TrainingListener> listeners;

    private TrainingPlan(Builder b) {
        this.name = b.name;
        this.model = b.model;
        this.train = b.train;
        this.test = b.test;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.schedule = b.schedule;
        this.backprop = b.backprop;
        this.batchSize = b.batchSize;
        this.evalBatchSize = b.evalBatchSize;
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.workers = b.workers;
        this.threadsPerWorker = b.threadsPerWorker;
        this.mode = b.mode;
        this.maxStaleness = b.maxStaleness;
        this.evaluators = b.evaluators;
        this.clipNorm = b.clipNorm;
        this.checkpointEvery = b.checkpointEvery;
        this.keepCheckpoints = b.keepCheckpoints;
        this.resume = b.resume;
        this.checkpointDir = b.checkpointDir;
        this.gradientStatsEvery = b.gradientStatsEvery;
        this.microBatch = b.microBatch;
        this.noiseScaleEvery = b.noiseScaleEvery;
        this.maxRetries = b.maxRetries;
        this.stepTimeout = b.stepTimeout;
        this.modelFile = b.modelFile;
        this.trajectoryDir = b.trajectoryDir;
        this.trajectoryEverySteps = b.trajectoryEverySteps;
        this.listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    public String name() {
        return name;
    }

    public int epochs() {
        return epochs;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Workers asked for (0: the engine's default). */
    public int workers() {
        return workers;
    }

    @Override
    public String toString() {
        return "TrainingPlan[" + name + ": " + model + " on " + train + ", " + optimizer + ", batch " + batchSize
                + ", " + epochs + " epochs, seed " + seed + "]";
    }

    /** Fluent builder; {@link #build()} validates. */
    public static final class Builder {
        private String name;
        private ModelDefinition model;
        private DataSource train;
        private DataSource test;
        private Loss loss = Loss.CROSS_ENTROPY;
        private Optimizer optimizer = Optimizer.momentum(0.01, 0.9);
        private Schedule schedule;
        private Backprop backprop = Backprop.VANILLA;
        private int batchSize = 128;
        private int evalBatchSize = 1000;
        private int epochs = 1;
        private long seed = 1;
        private int workers;
        private int threadsPerWorker;
        private Mode mode = Mode.SYNC;
        private int maxStaleness = -1;
        private int evaluators = 1;
        private double clipNorm;
        private long checkpointEvery;
        private int keepCheckpoints = 3;
        private boolean resume;
        private Path checkpointDir;
        private int gradientStatsEvery = 50;
        private int microBatch;
        private int noiseScaleEvery = 10;
        private int maxRetries = 3;
        private Duration stepTimeout = Duration.ofMinutes(10);
        private Path modelFile;
        private Path trajectoryDir;
        private int trajectoryEverySteps;
        private final List<TrainingListener> listeners = new ArrayList<>();

        private Builder() {
        }

        /** Job name (letters, digits, '-', '_', '.'; default job-N). */
        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder model(ModelDefinition model) {
            this.model = model;
            return this;
        }

        public Builder train(DataSource train) {
            this.train = train;
            return this;
        }

        /** Evaluated after every epoch (optional). */
        public Builder test(DataSource test) {
            this.test = test;
            return this;
        }

        public Builder loss(Loss loss) {
            this.loss = loss;
            return this;
        }

        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** Default: constant at the optimizer's learning rate. */
        public Builder schedule(Schedule schedule) {
            this.schedule = schedule;
            return this;
        }

        public Builder backprop(Backprop backprop) {
            this.backprop = backprop;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder evalBatchSize(int evalBatchSize) {
            this.evalBatchSize = evalBatchSize;
            return this;
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Seeds shuffling and Dropout (the model definition seeds the weights). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Data-parallel workers (0: the engine's default, one per core). */
        public Builder workers(int workers) {
            this.workers = workers;
            return this;
        }

        /** GEMM threads of each worker (0: the engine's default; 1 is deterministic). */
        public Builder threadsPerWorker(int threads) {
            this.threadsPerWorker = threads;
            return this;
        }

        public Builder mode(Mode mode) {
            this.mode = mode;
            return this;
        }

        /** Async mode: reject gradients older than this many updates (default: the worker count). */
        public Builder maxStaleness(int updates) {
            this.maxStaleness = updates;
            return this;
        }

        /** Evaluators splitting the test set (default 1). */
        public Builder evaluators(int evaluators) {
            this.evaluators = evaluators;
            return this;
        }

        /** Clip the global gradient norm (0 = off). */
        public Builder clipNorm(double clipNorm) {
            this.clipNorm = clipNorm;
            return this;
        }

        /** Checkpoint every N optimizer steps (0 = off). */
        public Builder checkpointEvery(long steps) {
            this.checkpointEvery = steps;
            return this;
        }

        public Builder keepCheckpoints(int keep) {
            this.keepCheckpoints = keep;
            return this;
        }

        /** Resume from the newest valid checkpoint in the job's checkpoint folder, if any. */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /** This job's checkpoint folder (default: the engine's checkpoint folder / job name). */
        public Builder checkpointDir(Path dir) {
            this.checkpointDir = dir;
            return this;
        }

        /** Publish per-layer gradient statistics every N steps (0 = never; default 50). */
        public Builder gradientStatsEvery(int steps) {
            this.gradientStatsEvery = steps;
            return this;
        }

        /**
         * Gradient accumulation: each worker runs forward/backward on at most {@code rows} rows at a time and
         * accumulates the gradient of its share of the batch over these micro-batches, so a batch larger than one
         * worker's activation memory trains, with the same update as the big batch up to float rounding (models
         * with BatchNorm use per-micro-batch statistics; Dropout masks are drawn per micro-batch). 0 = never split
         * (default).
         */
        public Builder microBatch(int rows) {
            this.microBatch = rows;
            return this;
        }

        /**
         * Estimate the gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al. 2018) every N steps and publish
         * it as a {@code TrainingEvent.GradientNoiseScale} (the Prometheus gauge {@code descent_gradient_noise_scale}
         * under descent-monitoring), in every mode: from the per-worker and per-micro-batch gradients of the step
         * (2+ sync workers, or a {@link #microBatch} smaller than a worker's share), else from one extra gradient of
         * half the batch (a single worker, async workers, {@link Descent#trainInProcess}; about half a step's compute
         * per measurement, the update itself unchanged). In-process training measures only when the plan has
         * listeners. The estimate's moving averages restart after a resume. 0 = off; default 10.
         */
        public Builder noiseScaleEvery(int steps) {
            this.noiseScaleEvery = steps;
            return this;
        }

        /** Worker restarts allowed per step before the job fails (default 3). */
        public Builder maxRetries(int retries) {
            this.maxRetries = retries;
            return this;
        }

        /** A step not finished after this long fails the job (default 10 minutes). */
        public Builder stepTimeout(Duration timeout) {
            this.stepTimeout = timeout;
            return this;
        }

        /** Save the model file here after every epoch. */
        public Builder modelFile(Path file) {
            this.modelFile = file;
            return this;
        }

        /**
         * Save the model before training ({@code epoch-000.descent}) and after every epoch ({@code epoch-NNN.descent})
         * in this folder: the optimizer's path, for trajectory plots and PCA directions of loss landscapes.
         */
        public Builder trajectoryDir(Path dir) {
            this.trajectoryDir = dir;
            return this;
        }

        /**
         * With {@link #trajectoryDir}: also save the model every {@code steps} optimizer steps as
         * {@code step-NNNNNN.descent} (NNNNNN = steps done), a finer path for PCA planes than the epochs
         * (0 = epochs only, the default). In-process training ({@link Descent#trainInProcess}) only.
         */
        public Builder trajectoryEverySteps(int steps) {
            if (steps < 0) {
                throw new IllegalArgumentException("trajectoryEverySteps must be >= 0, was " + steps);
            }
            this.trajectoryEverySteps = steps;
            return this;
        }

        /** Receives this job's events (in order, on an engine thread: keep it quick). */
        public Builder listener(TrainingListener listener) {
            this.listeners.add(listener);
            return this;
        }

        public TrainingPlan build() {
            if (model == null || train == null) {
                throw new IllegalArgumentException("a training plan needs model(...) and train(...)");
            }
            if (loss == null || optimizer == null || backprop == null || mode == null || stepTimeout == null) {
                throw new IllegalArgumentException("loss, optimizer, backprop, mode and stepTimeout must not be null");
            }
            if (name != null && !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new IllegalArgumentException("job name must be 1-64 of [A-Za-z0-9._-] starting with a letter or "
                        + "digit, was '" + name + "'");
            }
            positive("batch size", batchSize, 1);
            positive("eval batch size", evalBatchSize, 1);
            positive("epochs", epochs, 1);
            positive("workers", workers, 0);
            positive("threads per worker", threadsPerWorker, 0);
            positive("evaluators", evaluators, 1);
            positive("keep checkpoints", keepCheckpoints, 1);
            positive("checkpoint interval", checkpointEvery, 0);
            positive("gradient stats interval", gradientStatsEvery, 0);
            positive("max retries", maxRetries, 0);
            positive("micro-batch rows", microBatch, 0);
            positive("noise scale interval", noiseScaleEvery, 0);
            return new TrainingPlan(this);
        }

        private static void positive(String what, long v, long min) {
            if (v < min) {
                throw new IllegalArgumentException(what + " must be >= " + min + ", was " + v);
            }
        }
    }
}
