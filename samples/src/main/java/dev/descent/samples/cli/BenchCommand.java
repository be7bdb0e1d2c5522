package dev.descent.samples.cli;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.data.IdxDatasets;
import dev.descent.engine.data.Split;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.GemmThroughput;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.FitListener;
import dev.descent.engine.train.Trainer;
import dev.descent.engine.train.TrainingResult;
import dev.descent.samples.UserError;
import java.io.IOException;
import dev.descent.engine.kernel.Kernels;
import dev.descent.samples.OutputDir;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent bench ...}: whole-operation benchmarks that print figures and write summary.json. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks: kernels and training throughput (compare with peers via bench/compare-*.sh).",
        subcommands = {BenchCommand.Gemm.class, BenchCommand.Train.class})
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
            int mm = m != null ? m : size;
            int nn = n != null ? n : size;
            int kk = k != null ? k : size;
            if (threads > Kernels.pool().size()) {
                throw new IllegalArgumentException("--threads " + threads + " exceeds the kernel pool ("
                        + Kernels.pool().size() + " cores)");
            }
            GemmThroughput.Result r = GemmThroughput.measure(mm, nn, kk, layout, threads, seconds);
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
            summary.put("seconds", r.seconds());
            summary.put("repetitions", r.repetitions());
            Path written = OutputDir.create(out).writeJson("summary.json", summary);
            System.out.println("wrote " + written);
            return 0;
        }
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Training throughput (examples/s) of an MLP on Fashion-MNIST: the workload of "
                    + "bench/compare-train.sh (PyTorch peer: bench/peers/torch_train.py).",
                "Default: 784-256-128-10 ReLU, cross-entropy, SGD momentum 0.9 lr 0.01, batch 128, 1 epoch."})
    static final class Train implements Callable<Integer> {
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

        @Option(names = "--out", defaultValue = "out/bench-train", description = "output folder (default: ${DEFAULT-VALUE})")
        Path out;

        @Option(names = "--workers", description = "run on the actor engine (SDK) with N sync data-parallel workers, "
                + "each on --threads kernel threads (default: the direct single-process trainer)")
        Integer workers;

        @Override
        public Integer call() throws IOException {
            if (batch < 1 || epochs < 1 || threads < 1 || threads > Kernels.pool().size()) {
                throw new UserError("need --batch >= 1, --epochs >= 1 and 1 <= --threads <= "
                        + Kernels.pool().size() + "; got batch " + batch + ", epochs " + epochs + ", threads " + threads);
            }
            if (workers != null) {
                return viaActorEngine();
            }
            try (Dataset train = IdxDatasets.fashionMnist(Split.TRAIN);
                 Dataset test = IdxDatasets.fashionMnist(Split.TEST);
                 Model model = Mlp.builder().input(train.sampleShape()).hidden(widths).activation(Activation.RELU)
                         .output(10).init(Init.KAIMING_NORMAL).seed(seed).build()) {
                TrainingResult r = Trainer.builder().model(model).loss(LossKind.CROSS_ENTROPY)
                        .optimizer(Optimizers.momentum(0.01, 0.9)).batchSize(batch).epochs(epochs).seed(seed)
                        .threads(threads).build().fit(train, test, FitListener.NONE);
                double acc = r.last().testAccuracy();
                System.out.printf(Locale.ROOT, "train MLP 784-%s-10, batch %d, %d epoch(s), %d thread(s), %s kernels: "
                                + "%.0f examples/s (test accuracy %.4f)%n", join(widths), batch, epochs, threads,
                        Kernels.backend().name(), r.examplesPerSecond(), acc);
                Map<String, Object> summary = new LinkedHashMap<>();
                summary.put("library", "descent");
                summary.put("examples_per_second", r.examplesPerSecond());
                summary.put("test_accuracy", acc);
                summary.put("widths", join(widths));
                summary.put("batch", batch);
                summary.put("epochs", epochs);
                summary.put("threads", threads);
                summary.put("backend", Kernels.backend().name());
                summary.put("train_seconds", r.trainSeconds());
                summary.put("epoch_examples_per_second", r.epochs().stream().mapToDouble(EpochReport::examplesPerSecond).toArray());
                Path written = OutputDir.create(out).writeJson("summary.json", summary);
                System.out.println("wrote " + written);
                return 0;
            }
        }

        /** The same workload through the SDK: engine.submit(plan) with {@code --workers} workers. */
        private Integer viaActorEngine() throws IOException {
            if (workers < 1) {
                throw new UserError("--workers must be >= 1, was " + workers);
            }
            dev.descent.sdk.TrainingPlan plan = dev.descent.sdk.TrainingPlan.builder().name("bench")
                    .model(dev.descent.sdk.ModelDefinition.mlp().input(1, 28, 28).hidden(widths)
                            .activation(dev.descent.sdk.Activation.RELU).output(10).init("kaiming-normal").seed(seed)
                            .build())
                    .train(dev.descent.sdk.DataSource.fashionMnist(dev.descent.sdk.Split.TRAIN))
                    .test(dev.descent.sdk.DataSource.fashionMnist(dev.descent.sdk.Split.TEST))
                    .optimizer(dev.descent.sdk.Optimizer.momentum(0.01, 0.9)).batchSize(batch).epochs(epochs)
                    .seed(seed).workers(workers).threadsPerWorker(threads).gradientStatsEvery(0).build();
            dev.descent.sdk.TrainingResult r;
            try (dev.descent.sdk.DescentEngine engine = dev.descent.sdk.Descent.start(
                    new dev.descent.sdk.DescentConfig().workers(workers).threads(threads))) {
                r = engine.submit(plan).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new UserError("interrupted", e);
            }
            double acc = r.last().testAccuracy();
            System.out.printf(Locale.ROOT, "train MLP 784-%s-10, batch %d, %d epoch(s), actor engine, %d worker(s) x %d "
                            + "thread(s), %s kernels: %.0f examples/s (test accuracy %.4f)%n", join(widths), batch,
                    epochs, workers, threads, Kernels.backend().name(), r.examplesPerSecond(), acc);
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("library", "descent-actors");
            summary.put("examples_per_second", r.examplesPerSecond());
            summary.put("test_accuracy", acc);
            summary.put("widths", join(widths));
            summary.put("batch", batch);
            summary.put("epochs", epochs);
            summary.put("workers", workers);
            summary.put("threads", threads);
            summary.put("backend", Kernels.backend().name());
            summary.put("train_seconds", r.trainSeconds());
            Path written = OutputDir.create(out).writeJson("summary.json", summary);
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
}
