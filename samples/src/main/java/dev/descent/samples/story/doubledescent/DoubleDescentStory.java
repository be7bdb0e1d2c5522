package dev.descent.samples.story.doubledescent;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.RandomFeaturePlan;
import dev.descent.sdk.RandomFeaturePoint;
import dev.descent.sdk.RandomFeatures;
import dev.descent.sdk.Split;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story double-descent}: Belkin, Hsu, Ma &amp; Mandal (2019). Random Fourier features on a subset of
 * n MNIST (or Fashion-MNIST) examples, the minimum-norm least-squares fit for N features from n/10 to 10n (dense
 * near N = n) and ridge beside it; then the same sweep over the width of a two-layer network trained by the engine.
 */
@Command(name = "double-descent", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Double descent (Belkin et al. 2019): random-Fourier-feature regression on n examples, "
                + "minimum-norm least squares (double precision, EJML) and ridge for N features from lo*n to hi*n "
                + "(dense near the interpolation threshold N = n); then two-layer networks of growing width trained "
                + "with MSE by the engine.",
            "Writes double-descent.png, double-descent-nn.png, points.csv, nn.csv and summary.json to --out."})
public final class DoubleDescentStory implements Callable<Integer> {
    @Option(names = "--dataset", defaultValue = "mnist", description = "mnist or fashion-mnist (default: ${DEFAULT-VALUE})")
    String dataset;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--n", defaultValue = "1000", description = "train examples n (the first n of the train split) (default: ${DEFAULT-VALUE})")
    int n;

    @Option(names = "--test-examples", defaultValue = "5000", description = "test examples (the first of the test split) (default: ${DEFAULT-VALUE})")
    int testExamples;

    @Option(names = "--features-lo", defaultValue = "0.1", description = "smallest N as a multiple of n (default: ${DEFAULT-VALUE})")
    double lo;

    @Option(names = "--features-hi", defaultValue = "10", description = "largest N as a multiple of n (default: ${DEFAULT-VALUE})")
    double hi;

    @Option(names = "--coarse-points", defaultValue = "15", description = "log-spaced N over [lo*n, hi*n], beside the dense band at 0.7n-1.5n (default: ${DEFAULT-VALUE})")
    int coarse;

    @Option(names = "--ridge", defaultValue = "0.001,0.1", split = ",", description = "ridge lambdas solved beside the minimum-norm solution (default: ${DEFAULT-VALUE})")
    double[] ridges;

    @Option(names = "--bandwidth", defaultValue = "5", description = "sigma of the Gaussian kernel the features approximate, pixels in [0, 1] (default: ${DEFAULT-VALUE})")
    double bandwidth;

    @Option(names = "--solver", defaultValue = "gram", description = "gram (eigendecomposition of the smaller Gram matrix) or svd (slower reference) (default: ${DEFAULT-VALUE})")
    String solver;

    @Option(names = "--nn", negatable = true, defaultValue = "true", fallbackValue = "true", description = "also run the two-layer network sweep (default: ${DEFAULT-VALUE})")
    boolean nn;

    @Option(names = "--nn-widths", defaultValue = "2,4,8,11,13,16,24,32,64,128", split = ",", description = "hidden widths of the 784-H-10 networks (default: ${DEFAULT-VALUE})")
    int[] nnWidths;

    @Option(names = "--nn-epochs", defaultValue = "300", description = "training epochs per network (default: ${DEFAULT-VALUE})")
    int nnEpochs;

    @Option(names = "--nn-lr", defaultValue = "0.003", description = "Adam learning rate (after the warm-up, cosine-decayed to 0) (default: ${DEFAULT-VALUE})")
    double nnLr;

    @Option(names = "--nn-warmup-steps", defaultValue = "500", description = "linear learning-rate warm-up steps before the cosine decay (default: ${DEFAULT-VALUE})")
    int nnWarmup;

    @Option(names = "--nn-test-examples", defaultValue = "2000", description = "test examples scored after every epoch of the network runs (default: ${DEFAULT-VALUE})")
    int nnTestExamples;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random features and of the networks' weights and shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/story-double-descent", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws IOException {
        validate();
        Corpus corpus = Corpus.parse(dataset);
        RandomFeaturePlan.Solver s = switch (solver.toLowerCase(Locale.ROOT)) {
            case "gram" -> RandomFeaturePlan.Solver.GRAM;
            case "svd" -> RandomFeaturePlan.Solver.SVD;
            default -> throw new UserError("--solver must be gram or svd, was '" + solver + "'");
        };
        int available = corpus.count(Split.TRAIN, dataDir);
        if (n > available) {
            throw new UserError("--n " + n + " is more than the " + available + " train examples of " + corpus.displayName());
        }
        int tests = Math.min(testExamples, corpus.count(Split.TEST, dataDir));
        OutputDir dir = OutputDir.create(out);
        int[] counts = RandomFeaturePlan.featureCountsAround(n, lo, hi, coarse);
        long started = System.nanoTime();
        System.out.printf(Locale.ROOT, "story double-descent: %s, n = %d train / %d test examples; random Fourier "
                + "features (sigma %s), %d feature counts from %d to %d; min-norm + ridge %s; solver %s%n",
                corpus.displayName(), n, tests, bandwidth, counts.length, counts[0], counts[counts.length - 1],
                java.util.Arrays.toString(ridges), s.name().toLowerCase(Locale.ROOT));
        DataSource train = corpus.source(Split.TRAIN, dataDir).limit(n);
        DataSource test = corpus.source(Split.TEST, dataDir).limit(tests);
        ProgressBar bar = new ProgressBar(System.out, "random features", counts.length);
        int[] done = {0};
        List<RandomFeaturePoint> points = RandomFeatures.sweep(RandomFeaturePlan.builder().train(train).test(test)
                .featureCounts(counts).ridges(ridges).bandwidth(bandwidth).seed(seed).solver(s)
                .listener(p -> {
                    RandomFeaturePoint m = p.get(0);
                    bar.update(++done[0], String.format(Locale.ROOT, "N=%d train mse %.3g test mse %.3g err %.3f norm %.3g",
                            m.features(), m.trainMse(), m.testMse(), m.testError(), m.coefNorm()));
                }).build());
        double rffSeconds = (System.nanoTime() - started) / 1e9;
        List<RandomFeaturePoint> minNorm = points.stream().filter(RandomFeaturePoint::minNorm).toList();
        RandomFeaturePoint peak = DoubleDescentReport.peak(minNorm);
        bar.finish(String.format(Locale.ROOT, "test mse peaks at N=%d (%.3g), test error %.3f; %.0f s",
                peak.features(), peak.testMse(), peak.testError(), rffSeconds));
        DoubleDescentReport.writeFeaturesCsv(dir.resolve("points.csv"), points);
        DoubleDescentReport.featuresFigure(dir.resolve("double-descent.png"), corpus.displayName(), n, points, ridges);

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("n", n);
        summary.put("dataset", corpus.displayName());
        summary.put("test_examples", tests);
        summary.put("points", DoubleDescentReport.rows(minNorm));
        summary.put("ridge_points", DoubleDescentReport.rows(points.stream().filter(p -> !p.minNorm()).toList()));
        summary.put("findings", DoubleDescentReport.findings(n, points, ridges));
        summary.put("random_features_seconds", rffSeconds);

        if (nn) {
            NetworkSweep.Result r = new NetworkSweep(corpus, dataDir, n, Math.min(nnTestExamples, tests), nnEpochs, nnLr,
                    nnWarmup, seed).run(nnWidths);
            DoubleDescentReport.writeNetworkCsv(dir.resolve("nn.csv"), r.points());
            DoubleDescentReport.networkFigure(dir.resolve("double-descent-nn.png"), corpus.displayName(), n,
                    corpus.classes(), r.points(), nnEpochs);
            summary.put("nn", r.summary());
        }
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("dataset", corpus.displayName());
        cfg.put("n", n);
        cfg.put("test_examples", tests);
        cfg.put("feature_counts", counts);
        cfg.put("ridges", ridges);
        cfg.put("bandwidth", bandwidth);
        cfg.put("features", "sqrt(2/N) cos(v.x + b), v ~ N(0, I/sigma^2), b ~ U[0, 2pi), nested draws");
        cfg.put("targets", "one-hot; mse = mean over examples of the sum over classes of squared errors");
        cfg.put("solver", s.name().toLowerCase(Locale.ROOT));
        cfg.put("nn", nn);
        if (nn) {
            cfg.put("nn_widths", nnWidths);
            cfg.put("nn_epochs", nnEpochs);
            cfg.put("nn_lr", nnLr);
            cfg.put("nn_warmup_steps", nnWarmup);
            cfg.put("nn_optimizer", "adam, linear warm-up then cosine to 0, batch 100, mse loss, kaiming-uniform init");
            cfg.put("nn_test_examples", Math.min(nnTestExamples, tests));
        }
        cfg.put("seed", seed);
        summary.put("config", cfg);
        summary.put("seconds", (System.nanoTime() - started) / 1e9);
        dir.writeJson("summary.json", summary);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private void validate() {
        if (n < 2) {
            throw new UserError("--n must be >= 2, was " + n);
        }
        if (testExamples < 1 || nnTestExamples < 1) {
            throw new UserError("--test-examples and --nn-test-examples must be >= 1, were " + testExamples + " and "
                    + nnTestExamples);
        }
        if (!(lo > 0) || !(hi > lo)) {
            throw new UserError("need 0 < --features-lo < --features-hi, were " + lo + " and " + hi);
        }
        if (coarse < 2) {
            throw new UserError("--coarse-points must be >= 2, was " + coarse);
        }
        for (double r : ridges) {
            if (!(r > 0) || !Double.isFinite(r)) {
                throw new UserError("--ridge values must be finite and > 0, got " + r);
            }
        }
        if (!(bandwidth > 0) || !Double.isFinite(bandwidth)) {
            throw new UserError("--bandwidth must be a finite number > 0, was " + bandwidth);
        }
        if (nnWarmup < 0) {
            throw new UserError("--nn-warmup-steps must be >= 0, was " + nnWarmup);
        }
        if (nnEpochs < 1 || !(nnLr > 0)) {
            throw new UserError("--nn-epochs must be >= 1 and --nn-lr > 0, were " + nnEpochs + " and " + nnLr);
        }
        for (int w : nnWidths) {
            if (w < 1) {
                throw new UserError("--nn-widths must all be >= 1, got " + w);
            }
        }
        // the train and test features of the largest N, plus a copy of each for the current N
        long bytes = 2 * 8L * (n + testExamples) * (long) Math.ceil(hi * n);
        if (bytes > Runtime.getRuntime().maxMemory() * 0.8) {
            throw new UserError(String.format(Locale.ROOT, "the feature matrices need %.1f GB (2 x 8 bytes x (n + "
                    + "test examples) x hi*n) but the JVM may use %.1f GB: lower --n, --test-examples or "
                    + "--features-hi, or raise -Xmx (DESCENT_JAVA_OPTS)", bytes / 1e9,
                    Runtime.getRuntime().maxMemory() / 1e9));
        }
    }
}
