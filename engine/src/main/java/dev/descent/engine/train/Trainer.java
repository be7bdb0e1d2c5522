package dev.descent.engine.train;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Direct, single-process training: seeded shuffling per epoch, batch assembly, a {@link TrainingStep} per batch,
 * per-step and per-epoch callbacks, an eval-mode test pass per epoch.
 *
 * <pre>{@code
 * Model m = Mlp.builder().input(784).hidden(256, 128).activation(RELU).output(10)
 *         .init(Init.KAIMING_NORMAL).seed(1).build();
 * TrainingResult r = Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY)
 *         .optimizer(Optimizers.momentum(0.01, 0.9)).batchSize(128).epochs(10).seed(1).build()
 *         .fit(train, test, FitListener.NONE);
 * }</pre>
 *
 * Same seed, same settings, one thread: bit-identical parameters run to run. On a NaN/Inf loss, fit restores the
 * parameters saved at the start of the failing epoch and throws {@link NonFiniteLossException}. The trainer
 * allocates its buffers at the start of fit and frees them at the end; the model stays the caller's.
 */
public final class Trainer {
    private final Builder b;

    private Trainer(Builder b) {
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Model model() {
        return b.model;
    }

    /** Steps per epoch for a training set of {@code examples} rows. */
    public long stepsPerEpoch(int examples) {
        return (examples + b.batchSize - 1) / b.batchSize;
    }

    /** Trains on {@code train}; evaluates {@code test} (may be null) after every epoch. */
    public TrainingResult fit(Dataset train, Dataset test, FitListener listener) {
        Model model = b.model;
        FitListener l = listener == null ? FitListener.NONE : listener;
        if (train.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("dataset " + train.name() + " has " + train.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        if (train.classes() > model.outputSize()) {
            throw new IllegalArgumentException("dataset " + train.name() + " has " + train.classes()
                    + " classes, the model has only " + model.outputSize() + " outputs");
        }
        long wallStart = System.nanoTime();
        long totalSteps = stepsPerEpoch(train.count()) * b.epochs;
        LrSchedule schedule = (b.schedule == null ? LrSchedule.constant(b.optimizer.learningRate()) : b.schedule)
                .resolve(Math.max(1, totalSteps));
        boolean norms = l.wantsGradientNorms();
        int statsEvery = l.layerStatsEvery();
        int noiseEvery = Math.max(0, l.noiseScaleEvery());
        GradientNoiseScale noise = noiseEvery > 0 ? new GradientNoiseScale() : null;
        List<String> layerNames = norms || statsEvery > 0 ? model.parameterLayerNames() : List.of();
        List<EpochReport> history = new ArrayList<>();
        long trainNanos = 0;
        long trainExamples = 0;
        // with micro-batches (and not SAM, whose second pass needs the whole batch) a batch is never assembled: each
        // micro-batch is copied from the dataset just before its forward, so only micro-batch rows are buffered
        int batchRows = Math.min(b.batchSize, train.count());
        boolean streamed = b.microBatch > 0 && b.microBatch < batchRows
                && !(b.optimizer instanceof dev.descent.engine.optim.Sam);
        try (BatchAssembler batches = new BatchAssembler(train, b.batchSize, b.seed,
                streamed ? b.microBatch : b.batchSize);
             TrainingStep step = new TrainingStep(model, b.kernels, b.loss, b.optimizer, schedule, b.strategy,
                     b.batchSize, b.clipNorm, b.threads, b.seed, b.microBatch);
             Evaluator evaluator = test == null ? null
                     : new Evaluator(model, b.kernels, b.loss, b.evalBatchSize, b.threads);
             ParameterSnapshot lastGood = model.snapshot();
             ParameterSnapshot before = statsEvery > 0 ? model.snapshot() : null) {
            step.measureGradientNorm(norms || statsEvery > 0);
            Slices slices = new Slices(batches);
            int perEpoch = batches.batchesPerEpoch();
            for (int epoch = 0; epoch < b.epochs; epoch++) {
                model.snapshotInto(lastGood);
                batches.shuffle(epoch);
                double lossSum = 0;
                long correct = 0;
                long examples = 0;
                long epochNanos = 0;
                for (int bi = 0; bi < perEpoch; bi++) {
                    long t0 = System.nanoTime();
                    int rows = streamed ? batches.rows(bi) : batches.fill(bi);
                    slices.batch = bi;
                    boolean stats = statsEvery > 0 && step.steps() % statsEvery == 0;
                    if (stats) {
                        model.snapshotInto(before);
                    }
                    boolean measure = noiseEvery > 0 && (step.steps() + 1) % noiseEvery == 0;
                    step.pass().measureUnits(measure, true);
                    try {
                        if (streamed) {
                            step.run(slices, batches.features(), batches.labels(), rows, epoch);
                        } else {
                            step.run(batches.features(), 0, batches.labels(), 0, rows, epoch);
                        }
                    } catch (NonFiniteLossException e) {
                        model.restore(lastGood);
                        throw new NonFiniteLossException(e.step(), epoch, e.loss(), epoch, e.hint());
                    }
                    epochNanos += System.nanoTime() - t0;
                    lossSum += step.loss() * rows;
                    correct += step.correct();
                    examples += rows;
                    double eps = examples / (epochNanos / 1e9);
                    double[] layerNorms = norms
                            ? model.layerGradientNorms(b.kernels, new double[layerNames.size()]) : new double[0];
                    l.onStep(new StepReport(step.steps() - 1, epoch, bi, perEpoch, step.loss(),
                            (double) step.correct() / rows, step.learningRate(), eps, step.gradientNorm(),
                            layerNames, layerNorms));
                    if (measure && noise.add(step.pass().unitSquares(), step.pass().units(),
                            step.pass().batchSquares(), rows)) {
                        l.onNoiseScale(step.steps(), noise.value(), noise.trace(), noise.squaredNorm(),
                                step.pass().units(), rows);
                    }
                    if (stats) {
                        double[] g = norms ? layerNorms.clone()
                                : model.layerGradientNorms(b.kernels, new double[layerNames.size()]);
                        double[] u = model.layerUpdateRatios(b.kernels, before.block().segment(),
                                new double[layerNames.size()]);
                        l.onLayerStats(step.steps() - 1, layerNames, g, u, step.gradientNorm());
                    }
                }
                trainNanos += epochNanos;
                trainExamples += examples;
                double testLoss = Double.NaN;
                double testAcc = Double.NaN;
                if (evaluator != null) {
                    Evaluator.Evaluation ev = evaluator.evaluate(test);
                    testLoss = ev.loss();
                    testAcc = ev.accuracy();
                }
                EpochReport report = new EpochReport(epoch, step.steps(), lossSum / examples,
                        (double) correct / examples, testLoss, testAcc, step.learningRate(), epochNanos / 1e9,
                        examples / (epochNanos / 1e9));
                history.add(report);
                l.onEpoch(report);
            }
            double trainSeconds = trainNanos / 1e9;
            return new TrainingResult(Collections.unmodifiableList(history),
                    trainSeconds > 0 ? trainExamples / trainSeconds : 0, trainSeconds,
                    (System.nanoTime() - wallStart) / 1e9, step.steps(), model.parameterCount(),
                    model.parametersSha256());
        }
    }

    /** Rows of the current batch, read slice by slice from the assembler (one object per run: no per-step garbage). */
    private static final class Slices implements GradientPass.Rows {
        private final BatchAssembler batches;
        private int batch;

        Slices(BatchAssembler batches) {
            this.batches = batches;
        }

        @Override
        public void fill(int lo, int rows, java.lang.foreign.MemorySegment features,
                         java.lang.foreign.MemorySegment labels) {
            batches.fill(batch, lo, rows, features, labels);
        }
    }

    /** Fluent configuration; {@link #build()} validates it. */
    public static final class Builder {
        private Model model;
        private LossKind loss = LossKind.CROSS_ENTROPY;
        private Optimizer optimizer = Optimizers.momentum(0.01, 0.9);
        private LrSchedule schedule;
        private BackpropStrategy strategy = BackpropStrategy.VANILLA;
        private int batchSize = 128;
        private int evalBatchSize = 1000;
        private int epochs = 10;
        private long seed = 1;
        private int threads = 1;
        private double clipNorm;
        private int microBatch;
        private KernelBackend kernels;

        public Builder model(Model model) {
            this.model = model;
            return this;
        }

        public Builder loss(LossKind loss) {
            this.loss = loss;
            return this;
        }

        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** Learning rate per step; default constant at the optimizer's rate. Open-ended cosine is resolved. */
        public Builder schedule(LrSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        public Builder strategy(BackpropStrategy strategy) {
            this.strategy = strategy;
            return this;
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Batch size of the eval-mode test pass (default 1000; does not change results). */
        public Builder evalBatchSize(int evalBatchSize) {
            this.evalBatchSize = evalBatchSize;
            return this;
        }

        public Builder epochs(int epochs) {
            this.epochs = epochs;
            return this;
        }

        /** Seeds shuffling and Dropout (weights are seeded when the model is built). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** GEMM threads; 1 = fully deterministic. */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        /** Clip the global gradient norm to this value; 0 disables (default). */
        public Builder clipNorm(double clipNorm) {
            this.clipNorm = clipNorm;
            return this;
        }

        /** Rows per forward/backward: larger batches accumulate gradients over micro-batches (0 = never split). */
        public Builder microBatch(int rows) {
            this.microBatch = rows;
            return this;
        }

        /** Kernel backend; default {@link Kernels#backend()}. */
        public Builder kernels(KernelBackend kernels) {
            this.kernels = kernels;
            return this;
        }

        public Trainer build() {
            if (model == null) {
                throw new IllegalArgumentException("trainer: model(...) is required");
            }
            if (optimizer == null || loss == null || strategy == null) {
                throw new IllegalArgumentException("trainer: loss, optimizer and strategy must not be null");
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, was " + batchSize);
            }
            if (evalBatchSize < 1) {
                throw new IllegalArgumentException("eval batch size must be >= 1, was " + evalBatchSize);
            }
            if (epochs < 0) {
                throw new IllegalArgumentException("epochs must be >= 0, was " + epochs);
            }
            if (microBatch < 0) {
                throw new IllegalArgumentException("micro-batch rows must be >= 0 (0 = never split), was "
                        + microBatch);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, was " + threads);
            }
            if (!(clipNorm >= 0) || Double.isInfinite(clipNorm)) {
                throw new IllegalArgumentException("clip norm must be finite and >= 0 (0 = off), was " + clipNorm);
            }
            if (kernels == null) {
                kernels = Kernels.backend();
            }
            return new Trainer(this);
        }
    }
}
