package dev.descent.monitoring;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.BatchAssembler;
import dev.descent.engine.train.Evaluator;
import dev.descent.engine.train.GradientNoiseScale;
import dev.descent.engine.train.ModelFile;
import dev.descent.engine.train.TrainingStep;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * A real, small training run through the engine (MLP, TrainingStep, BatchAssembler, Evaluator, ModelFile) on
 * synthetic data (Gaussian blobs), publishing every kind of {@link TrainingEvent} the way the engine's job
 * supervisor is meant to: a StepCompleted per step; GradientStats (per-layer gradient norms and |dw|/|w|) and
 * BackpropMemory (the step's exact activation ledger) and GradientNoiseScale (from the step's two micro-batches)
 * every {@code statsEvery} steps; per epoch an
 * EpochCompleted, an EvaluationCompleted on the test split and a real checkpoint (ModelFile, timed).
 */
final class RealTraining implements AutoCloseable {
    static final int FEATURES = 32;
    static final int CLASSES = 4;

    private final String job;
    private final TrainingListener listener;
    private final Path checkpointDir;
    private final int statsEvery;
    // The scalar reference kernels: at the time of writing the SIMD backend does not implement every kernel a
    // training step needs yet (SimdOps.biasAdd throws UnsupportedOperationException). Monitoring does not
    // depend on which backend computes; -Ddescent.e2e.kernels=auto tries the configured one.
    private final KernelBackend kernels = "auto".equals(System.getProperty("descent.e2e.kernels"))
            ? Kernels.backend() : Kernels.scalar();
    private final Dataset train;
    private final Dataset test;
    private final Model model;
    private final BackpropStrategy strategy;
    private final int batchSize;
    private long steps;
    private long examples;

    /**
     * @param hidden widths of the hidden layers (e.g. 64, 64, 64)
     */
    RealTraining(String job, TrainingListener listener, Path checkpointDir, BackpropStrategy strategy, int batchSize,
                 int statsEvery, int trainExamples, int... hidden) {
        this.job = job;
        this.listener = listener;
        this.checkpointDir = checkpointDir;
        this.strategy = strategy;
        this.batchSize = batchSize;
        this.statsEvery = statsEvery;
        this.train = blobs("blobs-train", trainExamples, 11);
        this.test = blobs("blobs-test", 512, 12);
        this.model = Mlp.builder().input(FEATURES).hidden(hidden).output(CLASSES).init(Init.KAIMING_NORMAL).seed(3)
                .build();
    }

    long steps() {
        return steps;
    }

    long examples() {
        return examples;
    }

    /** Trains epoch after epoch until {@code stop} says so (checked every step) or {@code maxEpochs} are done. */
    void run(int maxEpochs, BooleanSupplier stop) {
        LrSchedule schedule = LrSchedule.step(0.05, 0.7, 200).resolve(1_000_000);
        List<String> layers = model.parameterLayerNames();
        double[] norms = new double[layers.size()];
        double[] ratios = new double[layers.size()];
        try (BatchAssembler batches = new BatchAssembler(train, batchSize, 5);
             TrainingStep step = new TrainingStep(model, kernels, LossKind.CROSS_ENTROPY,
                     Optimizers.momentum(0.05, 0.9), schedule, strategy, batchSize, 0, 1, 7, batchSize / 2);
             Evaluator evaluator = new Evaluator(model, kernels, LossKind.CROSS_ENTROPY, 256, 1);
             ParameterSnapshot before = model.snapshot()) {
            step.measureGradientNorm(true);
            GradientNoiseScale noise = new GradientNoiseScale();
            for (int epoch = 0; epoch < maxEpochs; epoch++) {
                batches.shuffle(epoch);
                long epochStart = System.nanoTime();
                double lossSum = 0;
                long correct = 0;
                long epochExamples = 0;
                for (int b = 0; b < batches.batchesPerEpoch(); b++) {
                    if (stop.getAsBoolean()) {
                        return;
                    }
                    boolean stats = step.steps() % statsEvery == 0;
                    if (stats) {
                        model.snapshotInto(before);
                    }
                    step.pass().measureUnits(stats); // the noise scale from the two micro-batches of a step
                    long t0 = System.nanoTime();
                    int rows = batches.fill(b);
                    step.run(batches.features(), 0, batches.labels(), 0, rows, epoch);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    lossSum += step.loss() * rows;
                    correct += step.correct();
                    epochExamples += rows;
                    steps = step.steps();
                    examples += rows;
                    listener.onEvent(new TrainingEvent.StepCompleted(job, step.steps(), epoch, step.loss(),
                            step.learningRate(), rows, seconds));
                    if (stats) {
                        model.layerGradientNorms(kernels, norms);
                        updateRatios(before, ratios);
                        listener.onEvent(new TrainingEvent.GradientStats(job, step.steps(), layers, norms.clone(),
                                ratios.clone(), step.gradientNorm()));
                        if (noise.add(step.pass().unitSquares(), step.pass().units(),
                                step.gradientNorm() * step.gradientNorm(), rows)) {
                            listener.onEvent(new TrainingEvent.GradientNoiseScale(job, step.steps(), noise.value(),
                                    noise.trace(), noise.squaredNorm(), step.pass().units(), rows));
                        }
                        listener.onEvent(new TrainingEvent.BackpropMemory(job, step.steps(), strategy.name(),
                                step.ledger().peakBytes(), step.ledger().forwardEvaluations()));
                    }
                }
                double epochSeconds = (System.nanoTime() - epochStart) / 1e9;
                listener.onEvent(new TrainingEvent.EpochCompleted(job, step.steps(), epoch, lossSum / epochExamples,
                        (double) correct / epochExamples, epochSeconds, epochExamples / epochSeconds));
                Evaluator.Evaluation ev = evaluator.evaluate(test);
                listener.onEvent(new TrainingEvent.EvaluationCompleted(job, step.steps(), epoch, "test", ev.loss(),
                        ev.accuracy()));
                checkpoint(step.steps(), epoch);
            }
        }
    }

    /**
     * ratios[layer] = |w_after - w_before| / |w_after| per parameter-owning layer. Turns {@code before} into
     * (before - after) in place with the kernels; the caller snapshots again before the next use.
     */
    private void updateRatios(ParameterSnapshot before, double[] ratios) {
        MemorySegment prev = before.block().segment();
        MemorySegment now = model.params().segment();
        double[] delta = new double[ratios.length];
        double[] weight = new double[ratios.length];
        int slot = -1;
        int lastLayer = -1;
        for (ParameterLayout.Entry e : model.layout().entries()) {
            if (e.layerIndex() != lastLayer) {
                slot++;
                lastLayer = e.layerIndex();
            }
            kernels.axpy(prev, e.offset(), -1f, now, e.offset(), e.count());
            delta[slot] += kernels.sumSquares(prev, e.offset(), e.count());
            weight[slot] += kernels.sumSquares(now, e.offset(), e.count());
        }
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = weight[i] > 0 ? Math.sqrt(delta[i] / weight[i]) : Double.NaN;
        }
    }

    private void checkpoint(long step, int epoch) {
        Path file = checkpointDir.resolve("checkpoint-epoch" + epoch + ".bin");
        try {
            long t0 = System.nanoTime();
            ModelFile.save(model, file);
            double seconds = (System.nanoTime() - t0) / 1e9;
            listener.onEvent(new TrainingEvent.CheckpointWritten(job, step, file.toString(), Files.size(file),
                    seconds));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file, e);
        }
    }

    /** CLASSES Gaussian blobs in FEATURES dimensions, centers at distance ~3 sigma: learnable, not trivial. */
    private static Dataset blobs(String name, int count, long seed) {
        SplittableRandom centersRng = new SplittableRandom(99);
        float[][] centers = new float[CLASSES][FEATURES];
        for (float[] c : centers) {
            for (int j = 0; j < FEATURES; j++) {
                c[j] = (float) (centersRng.nextDouble(-1, 1) * 0.6);
            }
        }
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[count * FEATURES];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int label = rng.nextInt(CLASSES);
            y[i] = label;
            for (int j = 0; j < FEATURES; j++) {
                x[i * FEATURES + j] = centers[label][j] + (float) gaussian(rng);
            }
        }
        return Dataset.of(name, x, y, new int[]{FEATURES}, CLASSES);
    }

    private static double gaussian(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
    }

    @Override
    public void close() {
        model.close();
        train.close();
        test.close();
    }
}
