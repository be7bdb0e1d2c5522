package dev.descent.samples.story.doubledescent;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.samples.ProgressBar;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.Loss;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The neural-network version of the sweep (Belkin et al. 2019, figure 3): two-layer networks d-H-10 (ReLU) of
 * growing hidden width H, each trained from scratch with MSE on the same n examples through the SDK, scored on
 * the test examples; the interpolation threshold is at about n·classes parameters.
 */
final class NetworkSweep {
    /** One trained network: {@code trainMse} is the mean loss over the last epoch's batches. */
    record Point(int width, long parameters, double trainMse, double trainError, double testMse, double testError,
                 double seconds) {
    }

    record Result(List<Point> points, Map<String, Object> summary) {
    }

    private static final int BATCH = 100;

    private final Corpus corpus;
    private final Path dataDir;
    private final int n;
    private final int tests;
    private final int epochs;
    private final double lr;
    private final int warmup;
    private final long seed;

    NetworkSweep(Corpus corpus, Path dataDir, int n, int tests, int epochs, double lr, int warmup, long seed) {
        this.corpus = corpus;
        this.dataDir = dataDir;
        this.n = n;
        this.tests = tests;
        this.epochs = epochs;
        this.lr = lr;
        this.warmup = warmup;
        this.seed = seed;
    }

    Result run(int[] widths) {
        DataSource train = corpus.source(Split.TRAIN, dataDir).limit(n);
        DataSource test = corpus.source(Split.TEST, dataDir).limit(tests);
        long steps = (long) ((n + BATCH - 1) / BATCH) * epochs;
        System.out.printf(Locale.ROOT, "two-layer networks: widths %s, %d epochs each (Adam %s, %d warm-up steps, cosine), MSE, "
                + "%d test examples%n", java.util.Arrays.toString(widths), epochs, lr, warmup, tests);
        List<Point> points = new ArrayList<>();
        long started = System.nanoTime();
        for (int w : widths) {
            ModelDefinition def = ModelDefinition.mlp().input(corpus.sampleShape()).hidden(w).activation(Activation.RELU)
                    .output(corpus.classes()).init("kaiming-uniform").seed(seed).build();
            ProgressBar bar = new ProgressBar(System.out, "width " + w, steps);
            TrainingResult r = Descent.trainInProcess(TrainingPlan.builder().name("dd-width-" + w).model(def)
                    .train(train).test(test).loss(Loss.MSE).optimizer(Optimizer.adam(lr)).schedule(warmup > 0 ? Schedule.warmupCosine(warmup, lr, 0) : Schedule.cosine(lr, 0))
                    .batchSize(BATCH).epochs(epochs).seed(seed).listener(e -> {
                        if (e instanceof TrainingEvent.StepCompleted st) {
                            bar.update(st.step() + 1, String.format(Locale.ROOT, "epoch %d/%d loss %.4g",
                                    st.epoch() + 1, epochs, st.loss()));
                        }
                    }).build());
            EpochSummary last = r.last();
            Point p = new Point(w, r.parameters(), last.trainLoss(), 1 - last.trainAccuracy(), last.testLoss(),
                    1 - last.testAccuracy(), r.wallSeconds());
            points.add(p);
            bar.finish(String.format(Locale.ROOT, "%d parameters: train mse %.4g | test mse %.4f err %.4f (%.0f s)",
                    p.parameters(), p.trainMse(), p.testMse(), p.testError(), p.seconds()));
        }
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("threshold_parameters", (long) n * corpus.classes());
        s.put("epochs", epochs);
        s.put("test_examples", tests);
        List<Map<String, Object>> rows = new ArrayList<>();
        Point peak = points.getFirst();
        for (Point p : points) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("width", p.width());
            m.put("parameters", p.parameters());
            m.put("train_mse", p.trainMse());
            m.put("train_error", p.trainError());
            m.put("test_mse", p.testMse());
            m.put("test_error", p.testError());
            m.put("seconds", p.seconds());
            rows.add(m);
            if (p.testMse() > peak.testMse()) {
                peak = p;
            }
        }
        s.put("points", rows);
        s.put("peak_test_mse_width", peak.width());
        s.put("peak_test_mse_parameters", peak.parameters());
        s.put("seconds", (System.nanoTime() - started) / 1e9);
        return new Result(points, s);
    }
}
