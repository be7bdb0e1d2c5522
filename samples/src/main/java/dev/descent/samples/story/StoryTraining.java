package dev.descent.samples.story;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DivergedException;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One training run of a story on Fashion-MNIST through the public SDK (in-process, one thread, constant learning
 * rate, momentum 0.9): a progress bar, the batch loss of every step, the per-layer gradient statistics the plan asks
 * for, and the epochs; a diverged run (non-finite loss) is recorded, not thrown.
 */
public final class StoryTraining {
    /** Everything a story keeps of one run. */
    record Run(String name, double[] batchLoss, List<EpochSummary> epochs, List<TrainingEvent.GradientStats> stats,
               List<Double> epochTestAccuracy, String divergedMessage) {
        boolean diverged() {
            return divergedMessage != null;
        }

        /** Mean train loss of the last epoch, or of the last 50 finite batch losses when the run diverged. */
        double finalTrainLoss() {
            if (!diverged() && !epochs.isEmpty()) {
                return epochs.get(epochs.size() - 1).trainLoss();
            }
            return tailMean(batchLoss, 50);
        }

        double testAccuracy() {
            return epochs.isEmpty() || diverged() ? Double.NaN : epochs.get(epochs.size() - 1).testAccuracy();
        }

        long steps() {
            return batchLoss.length;
        }
    }

    private StoryTraining() {
    }

    /** How many Fashion-MNIST training examples a story with {@code --train-limit limit} trains on. */
    public static int trainExamples(Path dataDir, int limit) {
        return Math.min(limit, Corpus.FASHION_MNIST.count(Split.TRAIN, dataDir));
    }

    static DataSource train(Path dataDir, int limit) {
        if (limit < 1) {
            throw new UserError("--train-limit must be >= 1, was " + limit);
        }
        return Corpus.FASHION_MNIST.source(Split.TRAIN, dataDir).limit(limit);
    }

    static DataSource test(Path dataDir, int limit) {
        if (limit < 1) {
            throw new UserError("--test-limit must be >= 1, was " + limit);
        }
        return Corpus.FASHION_MNIST.source(Split.TEST, dataDir).limit(limit);
    }

    /** Trains {@code model}; {@code statsEvery} > 0 also collects GradientStats (the first at initialization). */
    static Run run(String name, ModelDefinition model, DataSource train, int examples, DataSource test, int epochs,
                   int batch, double lr, long seed, int statsEvery) {
        return run(name, model, train, examples, test, epochs, batch, lr, seed, statsEvery, null);
    }

    /** As above; a non-null {@code modelFile} receives the trained model (written after every epoch). */
    static Run run(String name, ModelDefinition model, DataSource train, int examples, DataSource test, int epochs,
                   int batch, double lr, long seed, int statsEvery, Path modelFile) {
        int perEpoch = (examples + batch - 1) / batch;
        long total = (long) perEpoch * epochs;
        double[] losses = new double[(int) total];
        int[] done = {0};
        List<TrainingEvent.GradientStats> stats = new ArrayList<>();
        List<Double> testAcc = new ArrayList<>();
        ProgressBar bar = new ProgressBar(System.out, String.format(Locale.ROOT, "%-12s", name), total);
        TrainingPlan plan = TrainingPlan.builder().name(name).model(model).train(train).test(test)
                .optimizer(Optimizer.momentum(lr, 0.9)).schedule(Schedule.constant(lr)).batchSize(batch)
                .epochs(epochs).seed(seed).gradientStatsEvery(statsEvery).modelFile(modelFile).listener(e -> {
                    switch (e) {
                        case TrainingEvent.StepCompleted st -> {
                            if (st.step() < losses.length) {
                                losses[(int) st.step()] = st.loss();
                                done[0] = (int) st.step() + 1;
                            }
                            bar.update(st.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4f",
                                    st.epoch() + 1, epochs, st.loss()));
                        }
                        case TrainingEvent.GradientStats g -> stats.add(g);
                        case TrainingEvent.EvaluationCompleted ev -> testAcc.add(ev.accuracy());
                        default -> {
                        }
                    }
                }).build();
        try {
            TrainingResult r = Descent.trainInProcess(plan);
            EpochSummary last = r.last();
            bar.finish(String.format(Locale.ROOT, "train loss %.4f acc %.4f | test acc %.4f", last.trainLoss(),
                    last.trainAccuracy(), last.testAccuracy()));
            return new Run(name, losses, r.epochs(), stats, testAcc, null);
        } catch (DivergedException e) {
            double[] finite = java.util.Arrays.copyOf(losses, done[0]);
            bar.finish("diverged after " + done[0] + " steps: " + e.getMessage());
            return new Run(name, finite, List.of(), stats, testAcc, e.getMessage());
        }
    }

    /** Mean of the last {@code n} finite values of {@code v} (NaN when there are none). */
    static double tailMean(double[] v, int n) {
        double sum = 0;
        int count = 0;
        for (int i = v.length - 1; i >= 0 && count < n; i--) {
            if (Double.isFinite(v[i])) {
                sum += v[i];
                count++;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    /** Means of consecutive windows of {@code window} values: x = the window's last step (1-based). */
    static double[][] smooth(double[] v, int window) {
        int w = Math.max(1, window);
        int n = (v.length + w - 1) / w;
        double[] x = new double[n];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            int from = i * w;
            int to = Math.min(v.length, from + w);
            double s = 0;
            for (int j = from; j < to; j++) {
                s += v[j];
            }
            x[i] = to;
            y[i] = s / (to - from);
        }
        return new double[][] {x, y};
    }

    static int[] repeat(int width, int times) {
        int[] h = new int[times];
        java.util.Arrays.fill(h, width);
        return h;
    }

    static Object number(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
