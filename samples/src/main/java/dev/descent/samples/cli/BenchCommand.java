package dev.descent.samples.cli;

import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Benchmarks;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.EpochSummary;
import dev.descent.sdk.GemmMeasurement;
import dev.descent.sdk.LandscapePlan;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Split;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent bench ...}: whole-operation benchmarks that print figures and write summary.json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: kernels, training and landscape throughput (compare with peers via bench/compare-*.sh).",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Train.class, BenchCommand.Landscape.class})
public final class BenchCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true,
            description = "SGEMM throughput in GFLOP/s: C[m,n] = A[m,k]·B[k,n] (or the NT/TN layouts).")
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--size", defaultValue = "1024", description = "m = n = k (default: ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--m", description = "rows of C (overrides --size)")
        Integer m;

        @Option(names = "--n", description = "columns of C (overrides --size)")
        Integer n;

        @Option(names = "--k", description = "inner dimension (overrides --size)")
        Integer k;

        @Option(names = "--layout", defaultValue = "NN", description = "NN, NT or TN (default: ${DEFAULT-VALUE})")
        String layout;

        @Option(names = "--threads", defaultValue = "1", description = "kernel threads (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--seconds", defaultValue = "3", description = "timed seconds (default: ${DEFAULT-VALUE})")
        double seconds;

        @Option(names = "--out", defaultValue = "out/bench-gemm", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Override
        public Integer call() {
            // validated before the (minutes of) measuring; a benchmark is meant to be rerun, so it replaces its summary
            OutputDir outDir = OutputDir.create(out, true);
            int mm = m != null ? m : size;
            int nn = n != null ? n : size;
            int kk = k != null ? k : size;
            int cores = Descent.kernels().maxThreads();
            if (threads > cores) {
                throw new IllegalArgumentException("--threads " + threads + " exceeds the kernel pool ("
                        + cores + " cores)");
            }
            GemmMeasurement r = Benchmarks.gemm(mm, nn, kk, layout, threads, seconds);
            dev.descent.sdk.KernelInfo kernels = Descent.kernels();
            System.out.println("CPU: " + kernels.cpu());
            System.out.println("GEMM shape: " + kernels.gemmShape());
            System.out.printf(Locale.ROOT, "gemm %s %dx%dx%d, %d thread(s), %s kernels: %.1f GFLOP/s "
                            + "(best %.1f, %.3f ms per product, %d products)%n",
                    r.layout(), mm, nn, kk, threads, r.backend(), r.gflops(), r.bestGflops(), r.millisPerProduct(),
                    r.repetitions());
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("gflops", r.gflops());
            summary.put("best_gflops", r.bestGflops());
            summary.put("size", size);
            summary.put("m", mm);
            summary.put("n", nn);
            summary.put("k", kk);
            summary.put("layout", r.layout());
            summary.put("threads", threads);
            summary.put("backend", r.backend());
            summary.put("gemm_shape", kernels.gemmShape());
            summary.put("cpu", kernels.cpu());
            summary.put("seconds", r.seconds());
            summary.put("repetitions", r.repetitions());
            Path written = outDir.writeJson("summary.json", summary);
            System.out.println("wrote " + written);
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Training throughput (examples/s) of an MLP on Fashion-MNIST: the workload of "
                    + "bench/compare-train.sh (PyTorch peer: bench/peers/torch_train.py).",
                "Default: 784-256-128-10 ReLU, cross-entropy, SGD momentum 0.9 lr 0.01, batch 128, 1 epoch.",
                "--model cnn: the LeNet-like CNN of `train --model cnn` on the same data and optimizer."})
    static final class Train implements Callable<Integer> {
        @Option(names = "--model", defaultValue = "mlp", description = "mlp (784-widths-10) or cnn (LeNet-like, as "
                + "`train --model cnn`; --widths ignored) (default: ${DEFAULT-VALUE})")
        String model;

        @Option(names = "--train-limit", description = "use only the first N training examples (quick runs)")
        Integer trainLimit;

        @Option(names = "--widths", defaultValue = "256,128", split = ",", description = "hidden widths (default: ${DEFAULT-VALUE})")
        int[] widths;

        @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--epochs", defaultValue = "1", description = "epochs (default: ${DEFAULT-VALUE})")
        int epochs;

        @Option(names = "--threads", defaultValue = "1", description = "kernel threads (default: ${DEFAULT-VALUE})")
        int threads;

        @Option(names = "--seed", defaultValue = "1", description = "seed (default: ${DEFAULT-VALUE})")
        long seed;

        @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
        Path dataDir;

        @Option(names = "--out", defaultValue = "out/bench-train", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--workers", description = "run on the actor engine (SDK) with N sync data-parallel workers, "
                + "each on --threads kernel threads, without the engine's live statistics (default: the direct "
                + "single-process trainer)")
        Integer workers;

        private OutputDir outDir;

        @Override
        public Integer call() {
            // validated before the (minutes of) measuring; a benchmark is meant to be rerun, so it replaces its summary
            outDir = OutputDir.create(out, true);
            int cores = Descent.kernels().maxThreads();
            if (!model.equals("mlp") && !model.equals("cnn")) {
                throw new UserError("--model must be mlp or cnn, was " + model);
            }
            if (trainLimit != null && trainLimit < batch) {
                throw new UserError("--train-limit must be >= --batch, was " + trainLimit);
            }
            if (batch < 1 || epochs < 1 || threads < 1 || threads > cores) {
                throw new UserError("need --batch >= 1, --epochs >= 1 and 1 <= --threads <= "
                        + cores + "; got batch " + batch + ", epochs " + epochs + ", threads " + threads);
            }
            if (workers != null) {
                return viaActorEngine();
            }
            TrainingResult r = Descent.trainInProcess(plan().threadsPerWorker(threads).build());
            String kernels = Descent.kernels().backend();
            double acc = r.last().testAccuracy();
            System.out.printf(Locale.ROOT, "train %s, batch %d, %d epoch(s), %d thread(s), %s kernels: "
                            + "%.0f examples/s (test accuracy %.4f)%n", modelName(), batch, epochs, threads,
                    kernels, r.examplesPerSecond(), acc);
            return writeSummary("descent", null, r);
        }

        private String modelName() {
            return model.equals("cnn") ? "CNN (LeNet-like)" : "MLP 784-" + join(widths) + "-10";
        }

        /** The benchmark's workload: the MLP (or CNN) on Fashion-MNIST, SGD momentum 0.9 lr 0.01, Kaiming init. */
        private TrainingPlan.Builder plan() {
            DataSource train = DataSource.fashionMnist(Split.TRAIN, dataDir);
            return TrainingPlan.builder().name("bench")
                    .model(model.equals("cnn") ? ModelDefinition.cnn(new int[]{1, 28, 28}, 10, seed)
                            : ModelDefinition.mlp().input(1, 28, 28).hidden(widths).activation(Activation.RELU)
                            .output(10).init("kaiming-normal").seed(seed).build())
                    .train(trainLimit == null ? train : train.limit(trainLimit))
                    .test(DataSource.fashionMnist(Split.TEST, dataDir))
                    .optimizer(Optimizer.momentum(0.01, 0.9)).batchSize(batch).epochs(epochs).seed(seed);
        }

        /** The same workload through the SDK: engine.submit(plan) with {@code --workers} workers. */
        private Integer viaActorEngine() {
            if (workers < 1) {
                throw new UserError("--workers must be >= 1, was " + workers);
            }
            // training alone, as in process without listeners: no per-layer statistics and no gradient noise scale
            // (a lone worker measures it with an extra half-batch pass every 10 steps: ~6% of the width-1024 run)
            TrainingPlan plan = plan().workers(workers).threadsPerWorker(threads).gradientStatsEvery(0)
                    .noiseScaleEvery(0).build();
            TrainingResult r;
            try (DescentEngine engine = Descent.start(new DescentConfig().workers(workers).threads(threads))) {
                r = engine.submit(plan).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted", e);
            }
            double acc = r.last().testAccuracy();
            System.out.printf(Locale.ROOT, "train %s, batch %d, %d epoch(s), actor engine, %d worker(s) x %d "
                            + "thread(s), %s kernels: %.0f examples/s (test accuracy %.4f)%n", modelName(), batch,
                    epochs, workers, threads, Descent.kernels().backend(), r.examplesPerSecond(), acc);
            return writeSummary("descent-actors", workers, r);
        }

        /** summary.json of a run: throughput (whole run and per epoch), accuracy and the workload's settings. */
        private Integer writeSummary(String library, Integer workerCount, TrainingResult r) {
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("library", library);
            summary.put("examples_per_second", r.examplesPerSecond());
            summary.put("test_accuracy", r.last().testAccuracy());
            summary.put("model", model);
            if (trainLimit != null) {
                summary.put("train_limit", trainLimit);
            }
            summary.put("widths", model.equals("cnn") ? "" : join(widths));
            summary.put("batch", batch);
            summary.put("epochs", epochs);
            if (workerCount != null) {
                summary.put("workers", workerCount);
            }
            summary.put("threads", threads);
            summary.put("backend", Descent.kernels().backend());
            summary.put("train_seconds", r.trainSeconds());
            summary.put("epoch_examples_per_second",
                    r.epochs().stream().mapToDouble(EpochSummary::examplesPerSecond).toArray());
            summary.put("parameters_sha256", r.parametersSha256()); // JIT or warm-up settings must not change it
            Path written = outDir.writeJson("summary.json", summary);
            System.out.println("wrote " + written);
            return 0;
        }

        private static String join(int[] w) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                sb.append(i == 0 ? "" : "-").append(w[i]);
            }
            return sb.toString();
        }
    }
    @Command(name = "landscape", mixinStandardHelpOptions = true,
            description = "Landscape plane throughput in one warm engine: a warm-up run, then --rounds rounds of the "
                    + "same plane with 1 and with 2 evaluators (points/s and the scaling). The evaluators run in the "
                    + "engine's actor system, as in a service; bench/compare-landscape.sh measures fresh JVMs.")
    static final class Landscape implements Callable<Integer> {
        @Option(names = "--model", required = true, description = "model file (from train --out DIR: DIR/model.descent)")
        Path model;

        @Option(names = "--grid", defaultValue = "15", description = "points per side (default: ${DEFAULT-VALUE})")
        int grid;

        @Option(names = "--examples", defaultValue = "2000", description = "train and test examples per point (default: ${DEFAULT-VALUE})")
        int examples;

        @Option(names = "--rounds", defaultValue = "3", description = "timed rounds (default: ${DEFAULT-VALUE})")
        int rounds;

        @Option(names = "--direct", description = "evaluate every layer at every point (no precomputed first layer)")
        boolean direct;

        @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
        Path dataDir;

        @Option(names = "--out", defaultValue = "out/bench-landscape", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Override
        public Integer call() throws Exception {
            // validated before the (minutes of) measuring; a benchmark is meant to be rerun, so it replaces its summary
            OutputDir outDir = OutputDir.create(out, true);
            if (grid < 2 || examples < 1 || rounds < 1) {
                throw new UserError("need --grid >= 2, --examples >= 1 and --rounds >= 1; got grid " + grid
                        + ", examples " + examples + ", rounds " + rounds);
            }
            List<Double> one = new ArrayList<>();
            List<Double> two = new ArrayList<>();
            try (Network net = Network.load(model);
                 DescentEngine engine = Descent.start(new DescentConfig())) {
                engine.landscape(plan(net, 2));
                for (int r = 0; r < rounds; r++) {
                    one.add(engine.landscape(plan(net, 1)).pointsPerSecond());
                    two.add(engine.landscape(plan(net, 2)).pointsPerSecond());
                    System.out.printf(Locale.ROOT, "round %d: 1 evaluator %.1f points/s, 2 evaluators %.1f points/s, "
                            + "scaling %.2fx%n", r + 1, one.get(r), two.get(r), two.get(r) / one.get(r));
                }
            }
            double m1 = median(one);
            double m2 = median(two);
            System.out.printf(Locale.ROOT, "landscape plane %dx%d, %d + %d examples, %s, warm engine: 1 evaluator %.1f, "
                            + "2 evaluators %.1f points/s (medians), scaling %.2fx%n", grid, grid, examples, examples,
                    direct ? "direct" : "first layer precomputed", m1, m2, m2 / m1);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("grid", grid);
            summary.put("examples", examples);
            summary.put("mode", direct ? "direct" : "precomputed");
            summary.put("points_per_second_1", m1);
            summary.put("points_per_second_2", m2);
            summary.put("scaling", m2 / m1);
            summary.put("rounds_1", one);
            summary.put("rounds_2", two);
            Path written = outDir.writeJson("summary.json", summary);
            System.out.println("wrote " + written);
            return 0;
        }

        private LandscapePlan plan(Network net, int evaluators) {
            return LandscapePlan.builder().plane(net, 1.0, grid).seed(1)
                    .train(DataSource.fashionMnist(Split.TRAIN, dataDir).limit(examples))
                    .test(DataSource.fashionMnist(Split.TEST, dataDir).limit(examples))
                    .evalBatch(1000).evaluators(evaluators).precomputeFirstLayer(!direct).build();
        }

        private static double median(List<Double> xs) {
            List<Double> s = new ArrayList<>(xs);
            s.sort(null);
            int n = s.size();
            return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
        }
    }
}
