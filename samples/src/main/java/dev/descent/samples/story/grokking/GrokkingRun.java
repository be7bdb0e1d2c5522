package dev.descent.samples.story.grokking;

import dev.descent.samples.ProgressBar;
import dev.descent.sdk.StepTrainer;
import dev.descent.sdk.TrainingPlan;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * One grokking run through the SDK's {@link StepTrainer}: trains for a number of steps, evaluates train and
 * validation accuracy and the weight norm at log-spaced (plus evenly spaced) steps, writes the curve to a CSV file
 * after every evaluation and a checkpoint every {@code checkpointEvery} steps, and on {@code resume} continues from
 * the newest checkpoint with the curve rows up to it.
 */
final class GrokkingRun {
    /** One evaluation point of the curve. */
    record Point(long step, double trainLoss, double trainAccuracy, double valLoss, double valAccuracy,
                 double weightNorm) {
    }

    static final String CSV_HEADER = "step,train_loss,train_accuracy,val_loss,val_accuracy,weight_norm";

    private GrokkingRun() {
    }

    /** The result of a run: its curve and timing. */
    record Result(List<Point> curve, long steps, double trainSeconds, double trainCpuSeconds, long stepsTimed,
                  boolean resumed, long parameters) {
        Map<String, Object> summary(String preset) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("preset", preset);
            m.put("steps", steps);
            Point train99 = first(p -> p.trainAccuracy() >= 0.99);
            Point val95 = first(p -> p.valAccuracy() >= 0.95);
            m.put("step_train_accuracy_99", train99 == null ? null : train99.step());
            m.put("step_val_accuracy_95", val95 == null ? null : val95.step());
            m.put("val_accuracy_at_train_99", train99 == null ? null : train99.valAccuracy());
            Point last = curve.get(curve.size() - 1);
            m.put("final_train_accuracy", last.trainAccuracy());
            m.put("final_val_accuracy", last.valAccuracy());
            m.put("final_train_loss", last.trainLoss());
            m.put("final_val_loss", last.valLoss());
            m.put("initial_weight_norm", curve.get(0).weightNorm());
            m.put("final_weight_norm", last.weightNorm());
            m.put("max_weight_norm", curve.stream().mapToDouble(Point::weightNorm).max().orElse(Double.NaN));
            m.put("parameters", parameters);
            m.put("train_seconds", trainSeconds);
            m.put("train_cpu_seconds", trainCpuSeconds);
            m.put("ms_per_step", stepsTimed == 0 ? null : 1000 * trainSeconds / stepsTimed);
            m.put("cpu_ms_per_step", stepsTimed == 0 ? null : 1000 * trainCpuSeconds / stepsTimed);
            m.put("resumed", resumed);
            return m;
        }

        Point first(java.util.function.Predicate<Point> p) {
            for (Point x : curve) {
                if (p.test(x)) {
                    return x;
                }
            }
            return null;
        }
    }

    /**
     * Steps at which to evaluate: 0, then {@code logPoints} log-spaced steps up to {@code steps}, plus every
     * {@code steps / linearPoints} steps (so the late part of the run is not sparse on a log axis either).
     */
    static long[] evalSteps(long steps, int logPoints, int linearPoints) {
        TreeSet<Long> s = new TreeSet<>();
        s.add(0L);
        s.add(steps);
        for (int i = 0; i <= logPoints; i++) {
            s.add(Math.min(steps, Math.round(Math.pow(steps, (double) i / logPoints))));
        }
        long every = Math.max(1, steps / Math.max(1, linearPoints));
        for (long x = every; x < steps; x += every) {
            s.add(x);
        }
        return s.stream().mapToLong(Long::longValue).toArray();
    }

    static Result run(TrainingPlan plan, long steps, long[] evalAt, long checkpointEvery, Path csv, String label,
                      java.io.PrintStream out) {
        List<Point> curve = new ArrayList<>();
        try (StepTrainer t = StepTrainer.open(plan, steps)) {
            long start = t.step();
            if (t.resumed()) {
                curve.addAll(readCurve(csv, start));
                out.printf(Locale.ROOT, "%s: resumed at step %d of %d (%d curve points kept)%n", label, start, steps,
                        curve.size());
            }
            ProgressBar bar = new ProgressBar(out, label, steps);
            double seconds = 0;
            double cpuSeconds = 0;
            java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            long lastCheckpoint = start;
            for (long at : evalAt) {
                if (at < start || (at == start && !curve.isEmpty() && curve.get(curve.size() - 1).step() == at)) {
                    continue;
                }
                long t0 = System.nanoTime();
                long c0 = cpu.getCurrentThreadCpuTime(); // the steps run on this thread (plus GEMM helpers if --threads > 1)
                t.train(at - t.step());
                seconds += (System.nanoTime() - t0) / 1e9;
                cpuSeconds += (cpu.getCurrentThreadCpuTime() - c0) / 1e9;
                StepTrainer.Evaluation tr = t.evaluateTrain();
                StepTrainer.Evaluation va = t.evaluateTest();
                Point p = new Point(at, tr.loss(), tr.accuracy(), va.loss(), va.accuracy(), t.weightNorm());
                curve.add(p);
                writeCurve(csv, curve);
                if (checkpointEvery > 0 && (at - lastCheckpoint >= checkpointEvery || at == steps)) {
                    t.checkpoint(Map.of("run", label));
                    lastCheckpoint = at;
                }
                bar.update(at, String.format(Locale.ROOT, "step %d train acc %.3f val acc %.3f |w| %.1f", at,
                        p.trainAccuracy(), p.valAccuracy(), p.weightNorm()));
            }
            if (curve.isEmpty()) { // resumed a finished run whose curve file is gone: one point at the end
                StepTrainer.Evaluation tr = t.evaluateTrain();
                StepTrainer.Evaluation va = t.evaluateTest();
                curve.add(new Point(t.step(), tr.loss(), tr.accuracy(), va.loss(), va.accuracy(), t.weightNorm()));
                writeCurve(csv, curve);
            }
            Point last = curve.get(curve.size() - 1);
            bar.finish(String.format(Locale.ROOT, "step %d train acc %.3f val acc %.3f |w| %.1f", last.step(),
                    last.trainAccuracy(), last.valAccuracy(), last.weightNorm()));
            return new Result(curve, steps, seconds, cpuSeconds, steps - start, start > 0, t.parameterCount());
        }
    }

    static void writeCurve(Path csv, List<Point> curve) {
        StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
        for (Point p : curve) {
            sb.append(String.format(Locale.ROOT, "%d,%.6g,%.6f,%.6g,%.6f,%.6g%n", p.step(), p.trainLoss(),
                    p.trainAccuracy(), p.valLoss(), p.valAccuracy(), p.weightNorm()));
        }
        try {
            Files.createDirectories(csv.toAbsolutePath().getParent());
            Path tmp = csv.resolveSibling(csv.getFileName() + ".tmp");
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            Files.move(tmp, csv, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + csv + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the checkpoint files ({@code checkpoint-*.dck}) in {@code dir}, if any. */
    static void deleteCheckpoints(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+\\.dck")).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clear the old checkpoints in " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The rows of a curve file up to (and including) {@code upTo}; empty when the file is missing. */
    static List<Point> readCurve(Path csv, long upTo) {
        List<Point> out = new ArrayList<>();
        if (!Files.exists(csv)) {
            return out;
        }
        try {
            List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
            for (int i = 1; i < lines.size(); i++) {
                String[] f = lines.get(i).split(",");
                if (f.length != 6) {
                    continue;
                }
                long step = Long.parseLong(f[0]);
                if (step <= upTo) {
                    out.add(new Point(step, Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                            Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5])));
                }
            }
            return out;
        } catch (IOException | NumberFormatException e) {
            throw new UncheckedIOException("cannot read the curve " + csv + " to resume: " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }
}
