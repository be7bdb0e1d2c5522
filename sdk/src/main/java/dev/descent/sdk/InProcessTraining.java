package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.ModelFile;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.StepReport;
import dev.descent.engine.train.Trainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** {@link Descent#trainInProcess}: a plan on the engine's single-process {@link Trainer}, events for its listeners. */
final class InProcessTraining {
    private InProcessTraining() {
    }

    static TrainingResult run(TrainingPlan plan) {
        if (plan.workers > 1 || plan.mode == TrainingPlan.Mode.ASYNC) {
            throw new IllegalArgumentException("in-process training runs one synchronous worker; the plan asks for "
                    + plan.workers + " worker(s) in " + plan.mode + " mode (submit it to a DescentEngine instead)");
        }
        if (plan.checkpointEvery > 0 || plan.resume) {
            throw new IllegalArgumentException("in-process training does not write checkpoints; the plan asks for "
                    + "one every " + plan.checkpointEvery + " steps" + (plan.resume ? " and to resume" : "")
                    + " (submit it to a DescentEngine instead)");
        }
        String job = plan.name != null ? plan.name : "in-process";
        Dataset train;
        Dataset test;
        // compiles the model's kernels while the data loads
        try (KernelWarmup _ = KernelWarmup.start(plan, KernelWarmup.Paths.inProcess(plan), true)) {
            train = plan.train.open();
            try {
                test = plan.test == null ? null : plan.test.open();
            } catch (RuntimeException | Error e) {
                train.close();
                throw e;
            }
        }
        try (train; test; Model model = plan.model.instantiate()) {
            Trainer trainer = Trainer.builder().model(model).loss(plan.loss.engine())
                    .optimizer(plan.optimizer.engine())
                    .schedule(plan.schedule == null ? null : plan.schedule.engine()).strategy(plan.backprop.engine())
                    .batchSize(plan.batchSize).evalBatchSize(plan.evalBatchSize).epochs(plan.epochs).seed(plan.seed)
                    .threads(Math.max(1, plan.threadsPerWorker)).clipNorm(plan.clipNorm).microBatch(plan.microBatch).build();
            save(model, plan.trajectoryDir, 0);
            Events events = new Events(job, plan, model, train.count(), test != null);
            return TrainingResult.of(trainer.fit(train, test, events));
        } catch (NonFiniteLossException e) {
            throw (DivergedException) DescentEngine.publicFailure(e);
        }
    }

    /** Steps between per-layer statistics in process: measured only for listeners (0 = off). */
    static int statsEvery(TrainingPlan plan) {
        return plan.listeners.isEmpty() ? 0 : plan.gradientStatsEvery;
    }

    /** Steps between gradient noise scale measurements in process: only for listeners (0 = off). */
    static int noiseEvery(TrainingPlan plan) {
        return plan.listeners.isEmpty() ? 0 : plan.noiseScaleEvery;
    }

    private static void save(Model model, Path trajectoryDir, int epoch) {
        if (trajectoryDir == null) {
            return;
        }
        Path file = trajectoryDir.resolve(String.format(Locale.ROOT, "epoch-%03d.descent", epoch));
        try {
            Files.createDirectories(trajectoryDir);
            ModelFile.save(model, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the trajectory point " + file + ": " + e.getMessage(), e);
        }
    }

    private static void saveStep(Model model, Path trajectoryDir, long steps) {
        Path file = trajectoryDir.resolve(String.format(Locale.ROOT, "step-%06d.descent", steps));
        try {
            Files.createDirectories(trajectoryDir);
            ModelFile.save(model, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the trajectory point " + file + ": " + e.getMessage(), e);
        }
    }

    /** Trainer callbacks as the engine's event records, to the plan's listeners. */
    private static final class Events implements FitListener {
        private final String job;
        private final TrainingPlan plan;
        private final Model model;
        private final int examples;
        private final boolean test;
        private long last = System.nanoTime();

        Events(String job, TrainingPlan plan, Model model, int examples, boolean test) {
            this.job = job;
            this.plan = plan;
            this.model = model;
            this.examples = examples;
            this.test = test;
        }

        @Override
        public int layerStatsEvery() {
            return statsEvery(plan);
        }

        @Override
        public void onLayerStats(long step, java.util.List<String> layers, double[] gradientNorms,
                                 double[] updateRatios, double globalNorm) {
            publish(new TrainingEvent.GradientStats(job, step + 1, layers, gradientNorms, updateRatios, globalNorm));
        }

        @Override
        public int noiseScaleEvery() {
            return noiseEvery(plan);
        }

        @Override
        public void onNoiseScale(long step, double noiseScale, double traceCovariance, double gradientSquaredNorm,
                                 int units, int batch) {
            publish(new TrainingEvent.GradientNoiseScale(job, step, noiseScale, traceCovariance, gradientSquaredNorm,
                    units, batch));
        }

        @Override
        public void onStep(StepReport r) {
            if (plan.trajectoryEverySteps > 0 && plan.trajectoryDir != null
                    && (r.step() + 1) % plan.trajectoryEverySteps == 0) {
                saveStep(model, plan.trajectoryDir, r.step() + 1);
            }
            long now = System.nanoTime();
            int rows = Math.min(plan.batchSize, examples - r.batchInEpoch() * plan.batchSize);
            publish(new TrainingEvent.StepCompleted(job, r.step(), r.epoch(), r.loss(), r.learningRate(), rows,
                    (now - last) / 1e9));
            last = now;
        }

        @Override
        public void onEpoch(EpochReport r) {
            if (plan.modelFile != null) {
                try {
                    ModelFile.save(model, plan.modelFile);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot save the model file " + plan.modelFile + ": "
                            + e.getMessage(), e);
                }
            }
            save(model, plan.trajectoryDir, r.epoch() + 1);
            publish(new TrainingEvent.EpochCompleted(job, r.steps(), r.epoch(), r.trainLoss(), r.trainAccuracy(),
                    r.seconds(), r.examplesPerSecond()));
            if (test) {
                publish(new TrainingEvent.EvaluationCompleted(job, r.steps(), r.epoch(), "test", r.testLoss(),
                        r.testAccuracy()));
            }
            last = System.nanoTime();
        }

        private void publish(TrainingEvent e) {
            for (TrainingListener l : plan.listeners) {
                l.onEvent(e);
            }
        }
    }
}
