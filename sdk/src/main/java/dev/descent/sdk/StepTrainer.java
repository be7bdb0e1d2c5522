package dev.descent.sdk;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.TrainingCheckpoint;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.train.BatchAssembler;
import dev.descent.engine.train.Evaluator;
import dev.descent.engine.train.ModelFile;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.TrainingStep;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training run counted in optimizer steps and driven by the caller, in this process: for long runs on small
 * datasets (full-batch or large batches, 10^4-10^5 steps) where what matters is what happens between epochs —
 * evaluate when you like ({@link #evaluateTrain()}, {@link #evaluateTest()}), watch the {@link #weightNorm()},
 * write a {@link #checkpoint} now and then and pick up from the newest one after an interruption.
 *
 * <pre>{@code
 * TrainingPlan plan = TrainingPlan.builder().model(m).train(train).test(validation)
 *         .optimizer(Optimizer.adamW(1e-3, 0.9, 0.98, 1e-8, 1.0)).schedule(Schedule.constant(1e-3).withWarmup(10))
 *         .batchSize(4704).seed(1).checkpointDir(dir).resume(true).build();
 * try (StepTrainer t = StepTrainer.open(plan, 10_000)) {
 *     while (t.step() < t.totalSteps()) {
 *         t.train(100);
 *         System.out.println(t.step() + " " + t.evaluateTest().accuracy() + " " + t.weightNorm());
 *         t.checkpoint(Map.of());
 *     }
 * }
 * }</pre>
 *
 * The plan's model, train and test sources, loss, optimizer, schedule (resolved to {@code totalSteps}), batch
 * size, eval batch size, seed, threads per worker (0: one thread), clip norm, checkpoint folder, number of
 * checkpoints kept and resume flag are used; its epoch count, workers and listeners are not. Batches walk
 * through seeded shuffles of the training set, one per epoch; with one thread a resumed run is bit-identical to an
 * uninterrupted one.
 */
public final class StepTrainer implements AutoCloseable {
    /** Mean loss and accuracy of the model on a whole dataset (eval mode). */
    public record Evaluation(double loss, double accuracy, int examples) {
    }

    private final TrainingPlan plan;
    private final long totalSteps;
    private final KernelBackend kernels = Kernels.backend();
    private final Dataset train;
    private final Dataset test;
    private final Model model;
    private final BatchAssembler batches;
    private final TrainingStep stepper;
    private final Evaluator evaluator;
    private final CheckpointDirectory checkpoints;
    private final Map<String, String> resumedMeta;
    private int shuffledEpoch = -1;

    private StepTrainer(TrainingPlan plan, long totalSteps, Dataset train, Dataset test, Model model,
                        BatchAssembler batches, TrainingStep stepper, Evaluator evaluator) {
        this.plan = plan;
        this.totalSteps = totalSteps;
        this.train = train;
        this.test = test;
        this.model = model;
        this.batches = batches;
        this.stepper = stepper;
        this.evaluator = evaluator;
        this.checkpoints = plan.checkpointDir == null ? null
                : new CheckpointDirectory(plan.checkpointDir, plan.keepCheckpoints);
        this.resumedMeta = plan.resume ? restore() : Map.of();
    }

    /**
     * Loads the plan's data, builds its model and, when the plan says {@code resume(true)} and its checkpoint
     * folder holds a valid checkpoint, restores parameters, optimizer moments and the step counter from the newest.
     *
     * @param totalSteps the run length the schedule is resolved to (and what {@link #totalSteps()} reports)
     */
    public static StepTrainer open(TrainingPlan plan, long totalSteps) {
        if (totalSteps < 1) {
            throw new IllegalArgumentException("total steps must be >= 1, was " + totalSteps);
        }
        if ((plan.resume || plan.checkpointEvery > 0) && plan.checkpointDir == null) {
            throw new IllegalArgumentException("a step trainer that resumes or checkpoints needs checkpointDir(...)");
        }
        Dataset train = null;
        Dataset test = null;
        Model model = null;
        BatchAssembler batches = null;
        TrainingStep stepper = null;
        Evaluator evaluator = null;
        try {
            train = plan.train.open();
            test = plan.test == null ? null : plan.test.open();
            model = plan.model.instantiate();
            if (train.featureSize() != model.inputSize()) {
                throw new IllegalArgumentException("dataset " + train.name() + " has " + train.featureSize()
                        + " features per sample, the model " + plan.model + " expects " + model.inputSize());
            }
            if (train.classes() > model.outputSize()) {
                throw new IllegalArgumentException("dataset " + train.name() + " has " + train.classes()
                        + " classes, the model has only " + model.outputSize() + " outputs");
            }
            int batch = Math.min(plan.batchSize, train.count());
            int threads = Math.max(1, plan.threadsPerWorker);
            LrSchedule schedule = (plan.schedule == null ? LrSchedule.constant(plan.optimizer.learningRate())
                    : plan.schedule.engine()).resolve(totalSteps);
            KernelBackend k = Kernels.backend();
            batches = new BatchAssembler(train, batch, plan.seed);
            stepper = new TrainingStep(model, k, plan.loss.engine(), plan.optimizer.engine(), schedule,
                    plan.backprop.engine(), batch, plan.clipNorm, threads, plan.seed);
            evaluator = new Evaluator(model, k, plan.loss.engine(), plan.evalBatchSize, threads);
            return new StepTrainer(plan, totalSteps, train, test, model, batches, stepper, evaluator);
        } catch (RuntimeException | Error e) {
            closeAll(evaluator, stepper, batches, model, test, train);
            throw e;
        }
    }

    /** Optimizer steps taken so far (including those restored from a checkpoint). */
    public long step() {
        return stepper.steps();
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** Training examples per step. */
    public int batchSize() {
        return Math.min(plan.batchSize, train.count());
    }

    /** The extra metadata of the checkpoint this run resumed from (empty when it started fresh). */
    public Map<String, String> resumedMeta() {
        return resumedMeta;
    }

    /** Whether this run continues from a checkpoint. */
    public boolean resumed() {
        return !resumedMeta.isEmpty();
    }

    /**
     * Takes {@code steps} optimizer steps (fewer if {@link #totalSteps()} is reached first) and returns the mean loss
     * of the last batch (before its update), NaN when no step was taken.
     *
     * @throws DivergedException when the loss becomes NaN or infinite (parameters are those before that step)
     */
    public double train(long steps) {
        double loss = Double.NaN;
        int perEpoch = batches.batchesPerEpoch();
        long end = Math.min(totalSteps, stepper.steps() + Math.max(0, steps));
        while (stepper.steps() < end) {
            long s = stepper.steps();
            int epoch = (int) (s / perEpoch);
            if (epoch != shuffledEpoch) {
                batches.shuffle(epoch);
                shuffledEpoch = epoch;
            }
            int rows = batches.fill((int) (s % perEpoch));
            try {
                stepper.run(batches.features(), 0, batches.labels(), 0, rows, epoch);
            } catch (NonFiniteLossException e) {
                throw (DivergedException) DescentEngine.publicFailure(e);
            }
            loss = stepper.loss();
        }
        return loss;
    }

    /** Learning rate of the last step taken (NaN before the first). */
    public double learningRate() {
        return stepper.steps() == 0 ? Double.NaN : stepper.learningRate();
    }

    /** Loss and accuracy on the whole training set, in eval mode (after the last update). */
    public Evaluation evaluateTrain() {
        return evaluate(train);
    }

    /** Loss and accuracy on the plan's test source. */
    public Evaluation evaluateTest() {
        if (test == null) {
            throw new IllegalStateException("the plan has no test(...) source");
        }
        return evaluate(test);
    }

    private Evaluation evaluate(Dataset d) {
        Evaluator.Evaluation e = evaluator.evaluate(d);
        return new Evaluation(e.loss(), e.accuracy(), e.examples());
    }

    /** L2 norm of all parameters (weights, biases, embeddings, norm gains): what weight decay pulls down. */
    public double weightNorm() {
        return Math.sqrt(kernels.sumSquares(model.params().segment(), 0, model.layout().totalFloats()));
    }

    public long parameterCount() {
        return model.parameterCount();
    }

    /**
     * Writes a checkpoint of the current step (parameters, optimizer moments, step counter and {@code meta}) into the
     * plan's checkpoint folder atomically, keeping the newest few; returns its path.
     */
    public Path checkpoint(Map<String, String> meta) {
        if (checkpoints == null) {
            throw new IllegalStateException("the plan has no checkpointDir(...)");
        }
        Map<String, String> m = new LinkedHashMap<>(meta);
        m.put("model", plan.model.toString());
        m.put("totalSteps", Long.toString(totalSteps));
        try (TrainingCheckpoint.Staging s = new TrainingCheckpoint.Staging(model, stepper.optimizerState())) {
            s.capture(stepper.steps(), m, model, stepper.optimizerState());
            checkpoints.write(stepper.steps(), s.sections());
            return checkpoints.pathFor(stepper.steps());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write a checkpoint to " + checkpoints.dir() + ": "
                    + e.getMessage(), e);
        }
    }

    /** Saves the current model as a model file ({@link Network#load} reads it). */
    public void saveModel(Path file) {
        try {
            ModelFile.save(model, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the model file " + file + ": " + e.getMessage(), e);
        }
    }

    private Map<String, String> restore() {
        try {
            CheckpointDirectory.Found found = checkpoints.readLatest(e -> { });
            if (found == null) {
                return Map.of();
            }
            TrainingCheckpoint.Loaded loaded = TrainingCheckpoint.Loaded.of(found);
            loaded.restoreInto(model, stepper.optimizerState());
            stepper.steps(loaded.step());
            return Map.copyOf(loaded.meta());
        } catch (CheckpointException e) {
            close();
            throw new IllegalArgumentException("cannot resume: " + e.getMessage(), e);
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot read the checkpoints in " + checkpoints.dir() + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closeAll(evaluator, stepper, batches, model, test, train);
    }

    private static void closeAll(AutoCloseable... all) {
        for (AutoCloseable c : all) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // freeing memory does not fail; keep closing the rest
                }
            }
        }
    }
}
