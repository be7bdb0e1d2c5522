package dev.descent.samples.cli;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.BackpropMeasurement;
import dev.descent.sdk.Benchmarks;
import dev.descent.sdk.Descent;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
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
 * {@code descent backprop}: the three backprop memory strategies on a deep MLP — exact peak activation bytes,
 * forward evaluations and time per step — at one depth (summary.json) and over a sweep of depths (chart).
 */
@Command(name = "backprop", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare backprop memory strategies: vanilla (store every activation), recompute "
                + "(memory-poor: keep only the input, O(n^2) forward evaluations) and checkpointed (every "
                + "ceil(sqrt(n))-th activation).",
            "Writes summary.json (at --depth), sweep.csv and backprop-memory.png (memory and time vs depth)."})
public final class BackpropCommand implements Callable<Integer> {
    @Option(names = "--depth", defaultValue = "64", description = "hidden Linear+ReLU blocks (default: ${DEFAULT-VALUE})")
    int depth;

    @Option(names = "--width", defaultValue = "256", description = "width of every hidden layer (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", defaultValue = "3", description = "timed steps per measurement (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--sweep", defaultValue = "8,16,32,64,128", split = ",",
            description = "depths for the chart (default: ${DEFAULT-VALUE}); --sweep 0 skips the sweep")
    int[] sweep;

    @Option(names = "--threads", defaultValue = "1", description = "kernel threads (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--out", defaultValue = "out/backprop", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (depth < 1 || width < 1 || batch < 1 || steps < 1) {
            throw new UserError("--depth, --width, --batch and --steps must be >= 1; got depth " + depth + ", width "
                    + width + ", batch " + batch + ", steps " + steps);
        }
        int cores = Descent.kernels().maxThreads();
        if (threads < 1 || threads > cores) {
            throw new UserError("--threads must be between 1 and " + cores + ", was " + threads);
        }
        String kernels = Descent.kernels().backend();
        OutputDir dir = OutputDir.create(out);
        System.out.printf(Locale.ROOT, "backprop strategies: depth %d, width %d, batch %d, %s kernels%n", depth, width,
                batch, kernels);
        // The first pass warms the JIT up (the Vector API kernels are slow until C2 compiles them); the second counts.
        Benchmarks.backprop(depth, width, batch, 1, 1, threads);
        List<BackpropMeasurement> main = Benchmarks.backprop(depth, width, batch, 1, steps, threads);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("depth", depth);
        summary.put("width", width);
        summary.put("batch", batch);
        summary.put("modules", main.get(0).modules());
        summary.put("kernels", kernels);
        double vanillaSeconds = main.get(0).secondsPerStep();
        Map<String, Object> strategies = new LinkedHashMap<>();
        System.out.printf(Locale.ROOT, "%-13s %9s %14s %12s %14s %10s%n", "strategy", "interval", "peak bytes",
                "forward evals", "s/step", "vs vanilla");
        for (BackpropMeasurement r : main) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("peak_activation_bytes", r.peakActivationBytes());
            s.put("forward_evaluations", r.forwardEvaluations());
            s.put("seconds_per_step", r.secondsPerStep());
            s.put("checkpoint_interval", r.interval());
            s.put("time_vs_vanilla", r.secondsPerStep() / vanillaSeconds);
            strategies.put(r.strategy(), s);
            System.out.printf(Locale.ROOT, "%-13s %9d %,14d %12d %14.5f %9.2fx%n", r.strategy(), r.interval(),
                    r.peakActivationBytes(), r.forwardEvaluations(), r.secondsPerStep(),
                    r.secondsPerStep() / vanillaSeconds);
        }
        summary.put("strategies", strategies);
        dir.writeJson("summary.json", summary);

        List<Integer> depths = new ArrayList<>();
        for (int d : sweep) {
            if (d > 0) {
                depths.add(d);
            }
        }
        if (!depths.isEmpty()) {
            sweep(dir, depths);
        }
        System.out.println("wrote " + dir.path());
        return 0;
    }

    /** Forward evaluations of one step under the three strategies at depth d: d + (d + d^2/2) + about 2d. */
    static long sweepCost(int d) {
        return 4L * d + (long) d * d / 2;
    }

    private void sweep(OutputDir dir, List<Integer> depths) {
        String[] names = {"vanilla", "recompute", "checkpointed"};
        double[] x = new double[depths.size()];
        double[][] mib = new double[3][depths.size()];
        double[][] ms = new double[3][depths.size()];
        StringBuilder csv = new StringBuilder("depth,strategy,peak_activation_bytes,forward_evaluations,seconds_per_step\n");
        // Progress in forward evaluations, not depths: recompute costs about d^2/2 at depth d, so the last depths
        // are most of the work (counting depths said "0:03 left" at 80% of a 40-second sweep).
        long totalCost = 0;
        for (int d : depths) {
            totalCost += sweepCost(d);
        }
        ProgressBar bar = new ProgressBar(System.out, "sweep", totalCost);
        long doneCost = 0;
        for (int i = 0; i < depths.size(); i++) {
            int d = depths.get(i);
            x[i] = d;
            List<BackpropMeasurement> rs = Benchmarks.backprop(d, width, batch, 1, steps, threads);
            for (int s = 0; s < 3; s++) {
                BackpropMeasurement r = rs.get(s);
                mib[s][i] = r.peakActivationBytes() / (1024.0 * 1024.0);
                ms[s][i] = r.secondsPerStep() * 1e3;
                csv.append(String.format(Locale.ROOT, "%d,%s,%d,%d,%.6f%n", d, r.strategy(), r.peakActivationBytes(),
                        r.forwardEvaluations(), r.secondsPerStep()));
            }
            doneCost += sweepCost(d);
            bar.update(doneCost, "depth " + d);
        }
        bar.finish("depths " + depths);
        dir.writeString("sweep.csv", csv.toString());
        List<Series> mem = new ArrayList<>();
        List<Series> time = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            mem.add(new Series(names[s], x, mib[s]));
            time.add(new Series(names[s], x, ms[s]));
        }
        Figures.write(dir.resolve("backprop-memory.png"),
                String.format(Locale.ROOT, "Backprop memory strategies (width %d, batch %d)", width, batch), List.of(
                        Panel.of("Peak activation memory", "depth (hidden blocks)", "MiB", mem).withLogY(),
                        Panel.of("Time per step", "depth (hidden blocks)", "ms per step", time).withLogY()));
    }
}
