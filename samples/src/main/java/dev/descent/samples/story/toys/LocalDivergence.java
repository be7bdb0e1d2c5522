package dev.descent.samples.story.toys;

import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.plot.HeatmapPanel;
import dev.descent.sdk.plot.Heatmaps;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.PathOverlay;
import dev.descent.sdk.plot.Series;
import dev.descent.sdk.plot.SurfacePanel;
import dev.descent.sdk.plot.SurfaceRenderer;
import dev.descent.sdk.toy.ToyDescent;
import dev.descent.sdk.toy.ToyTrajectory;
import java.awt.Color;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent story local-divergence}: a step too large for the sharp minimum carries GD to the flat one. */
@Command(name = "local-divergence", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Full-batch gradient descent started at the sharp (narrow) minimum of the 2-D toy objective with a "
                + "step size such that lr*lambda_sharp > 2 > lr*lambda_flat: GD is locally unstable there, the loss "
                + "goes up first, then GD settles in the flat (wide) minimum, lower than where it started. A small "
                + "step (lr*lambda_sharp < 2) from the same point is shown for contrast. Runs in seconds.",
            "Writes local-divergence.png (loss against iterations + the path on the contours), "
                + "local-divergence-surface.png (3-D), trajectory.csv and summary.json to --out."})
public final class LocalDivergence implements Callable<Integer> {
    @Option(names = "--lr", defaultValue = "1.0", description = "step size (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--small-lr", defaultValue = "0.15", description = "the contrasting stable step size (default: ${DEFAULT-VALUE})")
    double smallLr;

    @Option(names = "--steps", defaultValue = "40", description = "gradient descent steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--perturbation", defaultValue = "0.001", description = "offset of the start from the sharp minimum along (1, 1)/sqrt 2 (default: ${DEFAULT-VALUE})")
    double perturbation;

    @Option(names = "--terms", defaultValue = "64", description = "terms n of the finite sum (default: ${DEFAULT-VALUE})")
    int terms;

    @Option(names = "--noise", defaultValue = "0.2", description = "spread of the terms' shifts (default: ${DEFAULT-VALUE})")
    double noise;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the terms (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/story-local-divergence", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (steps < 1 || !(lr > 0) || !(smallLr > 0) || !(perturbation >= 0)) {
            throw new UserError("need --steps >= 1, --lr > 0, --small-lr > 0 and --perturbation >= 0; was steps=" + steps
                    + " lr=" + lr + " small-lr=" + smallLr + " perturbation=" + perturbation);
        }
        ToySurface s = new ToySurface(terms, noise, seed);
        OutputDir dir = OutputDir.create(out);
        System.out.printf(Locale.ROOT, "story local-divergence: sharp minimum %s (loss %.4f, lambda_sharp %.3f), flat "
                + "minimum %s (loss %.4f, lambda_flat %.3f); lr %s: lr*lambda_sharp = %.2f, lr*lambda_flat = %.2f%n",
                ToySurface.fmt(s.narrow), s.narrowLoss, s.lambdaSharp, ToySurface.fmt(s.wide), s.wideLoss, s.lambdaFlat,
                lr, lr * s.lambdaSharp, lr * s.lambdaFlat);
        if (!(lr * s.lambdaSharp > 2 && lr * s.lambdaFlat < 2)) {
            System.out.printf(Locale.ROOT, "note: the story needs lr*lambda_sharp > 2 > lr*lambda_flat, i.e. lr in "
                    + "(%.3f, %.3f); --lr %s is outside%n", 2 / s.lambdaSharp, 2 / s.lambdaFlat, lr);
        }
        double d = perturbation / Math.sqrt(2);
        double[] start = {s.narrow[0] + d, s.narrow[1] + d};
        ToyTrajectory big = ToyDescent.run(s.f, start, lr, terms, steps, seed);
        ToyTrajectory small = ToyDescent.run(s.f, start, smallLr, terms, steps, seed);
        String endedIn = s.basinOf(big.end());
        String smallEndedIn = s.basinOf(small.end());
        double maxIncrease = big.maxLoss() - s.narrowLoss;
        System.out.printf(Locale.ROOT, "lr %s: loss %.4f -> max %.4f (+%.4f) -> final %.4f, ended in the %s minimum%n",
                lr, s.narrowLoss, big.maxLoss(), maxIncrease, big.finalLoss(), endedIn.equals("wide") ? "flat"
                        : endedIn.equals("narrow") ? "sharp" : "(neither)");
        System.out.printf(Locale.ROOT, "lr %s: final loss %.4f, ended in the %s minimum%n", smallLr, small.finalLoss(),
                smallEndedIn.equals("wide") ? "flat" : smallEndedIn.equals("narrow") ? "sharp" : "(neither)");

        StringBuilder csv = new StringBuilder("step,x1,x2,loss,small_lr_x1,small_lr_x2,small_lr_loss\n");
        for (int t = 0; t < Math.max(big.points().length, small.points().length); t++) {
            csv.append(t);
            for (ToyTrajectory tr : List.of(big, small)) {
                if (t < tr.points().length) {
                    csv.append(String.format(Locale.ROOT, ",%.8f,%.8f,%.8f", tr.points()[t][0], tr.points()[t][1],
                            tr.losses()[t]));
                } else {
                    csv.append(",,,");
                }
            }
            csv.append('\n');
        }
        dir.writeString("trajectory.csv", csv.toString());
        figures(dir, s, big, small);

        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("sharp_minimum_loss", s.narrowLoss);
        summary.put("final_loss", big.finalLoss());
        summary.put("max_loss_increase", maxIncrease);
        summary.put("ended_in", endedIn.equals("wide") ? "flat" : endedIn.equals("narrow") ? "sharp" : "neither");
        summary.put("eta", lr);
        summary.put("lambda_sharp", s.lambdaSharp);
        summary.put("lambda_flat", s.lambdaFlat);
        summary.put("eta_times_lambda_sharp", lr * s.lambdaSharp);
        summary.put("eta_times_lambda_flat", lr * s.lambdaFlat);
        summary.put("flat_minimum_loss", s.wideLoss);
        summary.put("steps_to_max_loss", argMax(big.losses()));
        Map<String, Object> contrast = new LinkedHashMap<>();
        contrast.put("eta", smallLr);
        contrast.put("final_loss", small.finalLoss());
        contrast.put("ended_in", smallEndedIn.equals("wide") ? "flat" : smallEndedIn.equals("narrow") ? "sharp" : "neither");
        summary.put("small_step", contrast);
        Map<String, Object> cfg = new LinkedHashMap<>(s.describe());
        cfg.put("noise", noise);
        cfg.put("steps", steps);
        cfg.put("perturbation", perturbation);
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private static int argMax(double[] v) {
        int k = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[k]) {
                k = i;
            }
        }
        return k;
    }

    private void figures(OutputDir dir, ToySurface s, ToyTrajectory big, ToyTrajectory small) {
        int n = 81;
        double[] xs = new double[n];
        double[] ys = new double[n];
        double[][] z = s.grid(n, xs, ys);
        double[] tb = new double[big.losses().length];
        java.util.Arrays.setAll(tb, i -> i);
        double[] ts = new double[small.losses().length];
        java.util.Arrays.setAll(ts, i -> i);
        double[] flat = new double[tb.length];
        java.util.Arrays.fill(flat, s.wideLoss);
        double[] sharp = new double[tb.length];
        java.util.Arrays.fill(sharp, s.narrowLoss);
        Panel losses = Panel.of(String.format(Locale.ROOT, "loss: lr*λ_sharp = %.2f > 2 > lr*λ_flat = %.2f",
                lr * s.lambdaSharp, lr * s.lambdaFlat), "iteration", "f(x)", List.of(
                new Series("GD, lr " + lr, tb, big.losses()), new Series("GD, lr " + smallLr, ts, small.losses()),
                new Series("sharp minimum", tb, sharp), new Series("flat minimum", tb, flat)));
        Color bigColor = new Color(0xD55E00);
        Color smallColor = new Color(0xFFFFFF);
        HeatmapPanel map = new HeatmapPanel("the path on the surface", "x1", "x2", xs, ys, z, "f(x)", false, 14, null,
                null);
        List<PathOverlay> paths = List.of(
                new PathOverlay("lr " + lr, ToySurface.thin(big.points(), big.losses(), 1, false), bigColor),
                new PathOverlay("lr " + smallLr, ToySurface.thin(small.points(), small.losses(), 1, false), smallColor));
        // one figure, two panels: the line chart and the heatmap with paths
        Heatmaps.write(dir.resolve("local-divergence.png"), "GD from the sharp minimum: locally unstable, it climbs, "
                + "then settles lower in the flat one", List.of(losses), List.of(map), List.of(paths));
        double[] xs3 = new double[61];
        double[] ys3 = new double[61];
        double[][] z3 = s.grid(61, xs3, ys3, ToySurface.X_3D, ToySurface.Y_3D);
        SurfaceRenderer.write(dir.resolve("local-divergence-surface.png"), null,
                List.of(new SurfacePanel("lr " + lr + " (red) leaves the sharp minimum, lr " + smallLr + " (white) stays",
                        "x1", "x2", xs3, ys3, z3, "f(x)", false, -110, 42)),
                List.of(List.of(new PathOverlay("lr " + lr, ToySurface.thin(big.points(), big.losses(), 1, true),
                        bigColor), new PathOverlay("lr " + smallLr, ToySurface.thin(small.points(), small.losses(), 1,
                        true), smallColor))));
    }
}
