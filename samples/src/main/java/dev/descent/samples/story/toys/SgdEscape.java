package dev.descent.samples.story.toys;

import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.UserError;
import dev.descent.sdk.plot.Figures;
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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent story sgd-escape}: GD stays in a narrow local minimum, SGD's mini-batch noise carries it out. */
@Command(name = "sgd-escape", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Full-batch gradient descent and mini-batch SGD with the same step size, from many starts inside "
                + "the narrow local basin of a 2-D finite-sum toy objective f(x) = mean_i f_i(x) (SDK: "
                + "dev.descent.sdk.toy): GD settles in the narrow minimum, SGD's real mini-batch noise carries it over "
                + "the ridge into the wide global basin. Runs in seconds.",
            "Writes sgd-escape.png (contours with paths), sgd-escape-surface.png (3-D), escape-vs-batch.png, runs.csv, "
                + "escape-vs-batch.csv and summary.json to --out."})
public final class SgdEscape implements Callable<Integer> {
    @Option(names = "--starts", defaultValue = "100", description = "starting points in the narrow basin (default: ${DEFAULT-VALUE})")
    int starts;

    @Option(names = "--lr", defaultValue = "0.15", description = "step size of both GD and SGD (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--batch", defaultValue = "1", description = "SGD mini-batch size (terms per step) (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--steps", defaultValue = "400", description = "steps per run (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--start-spread", defaultValue = "0.08", description = "std of the starts around the narrow minimum (default: ${DEFAULT-VALUE})")
    double spread;

    @Option(names = "--terms", defaultValue = "64", description = "terms n of the finite sum (default: ${DEFAULT-VALUE})")
    int terms;

    @Option(names = "--noise", defaultValue = "0.2", description = "spread of the terms' shifts (default: ${DEFAULT-VALUE})")
    double noise;

    @Option(names = "--batch-sweep", defaultValue = "1,2,4,8,16,32,64", split = ",", description = "SGD batch sizes of the escape-vs-batch curve (default: ${DEFAULT-VALUE})")
    int[] sweep;

    @Option(names = "--shown", defaultValue = "16", description = "paths drawn per panel (default: ${DEFAULT-VALUE})")
    int shown;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the terms, the starts and the mini-batches (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/story-sgd-escape", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (starts < 1 || steps < 1 || batch < 1 || shown < 0 || !(lr > 0) || !(spread >= 0)) {
            throw new UserError("need --starts, --steps, --batch >= 1, --shown >= 0, --lr > 0 and --start-spread >= 0; "
                    + "was starts=" + starts + " steps=" + steps + " batch=" + batch + " shown=" + shown + " lr=" + lr
                    + " start-spread=" + spread);
        }
        for (int b : sweep) {
            if (b < 1) {
                throw new UserError("--batch-sweep sizes must be >= 1, got " + b);
            }
        }
        ToySurface s = new ToySurface(terms, noise, seed);
        OutputDir dir = OutputDir.create(out);
        System.out.printf(Locale.ROOT, "story sgd-escape: %d starts around the narrow minimum %s (lambda_sharp %.2f), "
                + "lr %s (lr*lambda_sharp %.2f), %d steps; GD (all %d terms) vs SGD (batch %d)%n", starts,
                ToySurface.fmt(s.narrow), s.lambdaSharp, lr, lr * s.lambdaSharp, steps, terms, batch);
        if (lr * s.lambdaSharp >= 2) {
            System.out.println("note: lr*lambda_sharp >= 2: GD is unstable in the narrow basin by itself (that is the "
                    + "local-divergence story); lower --lr to isolate the effect of noise");
        }
        SplittableRandom r = new SplittableRandom(seed ^ 0x5EEDL);
        double[][] startPts = new double[starts][];
        for (int i = 0; i < starts; i++) {
            startPts[i] = new double[] {s.narrow[0] + r.nextGaussian() * spread, s.narrow[1] + r.nextGaussian() * spread};
        }
        List<ToyTrajectory> gd = new ArrayList<>();
        List<ToyTrajectory> sgd = new ArrayList<>();
        StringBuilder csv = new StringBuilder("start,method,batch,start_x,start_y,end_x,end_y,final_loss,ended_in\n");
        int[] escGd = {0};
        int[] escSgd = {0};
        ProgressBar bar = new ProgressBar(System.out, "GD and SGD runs", starts);
        for (int i = 0; i < starts; i++) {
            ToyTrajectory g = ToyDescent.run(s.f, startPts[i], lr, terms, steps, seed + i);
            ToyTrajectory m = ToyDescent.run(s.f, startPts[i], lr, batch, steps, seed + i);
            gd.add(g);
            sgd.add(m);
            row(csv, i, "gd", terms, g, s, escGd);
            row(csv, i, "sgd", batch, m, s, escSgd);
            bar.update(i + 1, String.format(Locale.ROOT, "escaped: GD %d, SGD %d", escGd[0], escSgd[0]));
        }
        double gdFrac = (double) escGd[0] / starts;
        double sgdFrac = (double) escSgd[0] / starts;
        bar.finish(String.format(Locale.ROOT, "escaped: GD %.0f%%, SGD %.0f%%", 100 * gdFrac, 100 * sgdFrac));
        dir.writeString("runs.csv", csv.toString());

        // escaped fraction against the SGD batch size (the noise shrinks as 1/sqrt(batch))
        StringBuilder sweepCsv = new StringBuilder("batch,escaped_fraction\n");
        double[] bx = new double[sweep.length];
        double[] by = new double[sweep.length];
        ProgressBar sb = new ProgressBar(System.out, "batch-size sweep", sweep.length);
        for (int k = 0; k < sweep.length; k++) {
            int esc = 0;
            for (int i = 0; i < starts; i++) {
                esc += "wide".equals(s.basinOf(ToyDescent.run(s.f, startPts[i], lr, sweep[k], steps, seed + i).end())) ? 1 : 0;
            }
            bx[k] = sweep[k];
            by[k] = (double) esc / starts;
            sweepCsv.append(sweep[k]).append(',').append(by[k]).append('\n');
            sb.update(k + 1, "batch " + sweep[k] + ": " + esc + "/" + starts + " escaped");
        }
        sb.finish("done");
        dir.writeString("escape-vs-batch.csv", sweepCsv.toString());

        figures(dir, s, gd, sgd, gdFrac, sgdFrac, bx, by);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("starts", starts);
        summary.put("gd", part(gdFrac, terms));
        summary.put("sgd", part(sgdFrac, batch));
        summary.put("lr", lr);
        summary.put("lr_times_lambda_sharp", lr * s.lambdaSharp);
        summary.put("escaped_fraction_by_batch", sweepMap(bx, by));
        Map<String, Object> cfg = new LinkedHashMap<>(s.describe());
        cfg.put("noise", noise);
        cfg.put("steps", steps);
        cfg.put("start_spread", spread);
        cfg.put("escaped_means", "small-step gradient descent from the run's end reaches the wide (global) minimum");
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private static Map<String, Object> part(double escaped, int batch) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("escaped_fraction", escaped);
        m.put("batch", batch);
        return m;
    }

    private static Map<String, Object> sweepMap(double[] bx, double[] by) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < bx.length; k++) {
            m.put(String.valueOf((int) bx[k]), by[k]);
        }
        return m;
    }

    private static void row(StringBuilder csv, int i, String method, int batch, ToyTrajectory t, ToySurface s, int[] esc) {
        double[] a = t.start();
        double[] e = t.end();
        String basin = s.basinOf(e);
        esc[0] += "wide".equals(basin) ? 1 : 0;
        csv.append(String.format(Locale.ROOT, "%d,%s,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%s%n", i, method, batch, a[0], a[1],
                e[0], e[1], t.finalLoss(), basin));
    }

    private void figures(OutputDir dir, ToySurface s, List<ToyTrajectory> gd, List<ToyTrajectory> sgd, double gdFrac,
                         double sgdFrac, double[] bx, double[] by) {
        int n = 81;
        double[] xs = new double[n];
        double[] ys = new double[n];
        double[][] z = s.grid(n, xs, ys);
        int show = Math.min(shown, gd.size());
        int every = Math.max(1, steps / 200);
        List<PathOverlay> gdPaths = new ArrayList<>();
        List<PathOverlay> sgdPaths = new ArrayList<>();
        List<PathOverlay> gd3 = new ArrayList<>();
        List<PathOverlay> sgd3 = new ArrayList<>();
        Color gdColor = new Color(0xD55E00);
        Color sgdColor = new Color(0xFFFFFF);
        for (int i = 0; i < show; i++) {
            gdPaths.add(new PathOverlay("GD", ToySurface.thin(gd.get(i).points(), gd.get(i).losses(), every, false), gdColor));
            sgdPaths.add(new PathOverlay("SGD", ToySurface.thin(sgd.get(i).points(), sgd.get(i).losses(), every, false),
                    sgdColor));
            if (i < 6) {
                sgd3.add(new PathOverlay("SGD", ToySurface.thin(sgd.get(i).points(), sgd.get(i).losses(), every, true),
                        new Color(0xE69F00)));
                gd3.add(new PathOverlay("GD", ToySurface.thin(gd.get(i).points(), gd.get(i).losses(), every, true),
                        new Color(0xD55E00)));
            }
        }
        HeatmapPanel gdPanel = new HeatmapPanel(String.format(Locale.ROOT, "GD (all %d terms): %.0f%% escaped", terms,
                100 * gdFrac), "x1", "x2", xs, ys, z, "f(x)", false, 14, null, null);
        HeatmapPanel sgdPanel = new HeatmapPanel(String.format(Locale.ROOT, "SGD (batch %d): %.0f%% escaped", batch,
                100 * sgdFrac), "x1", "x2", xs, ys, z, "f(x)", false, 14, null, null);
        Heatmaps.write(dir.resolve("sgd-escape.png"), String.format(Locale.ROOT, "Same step size lr = %s from %d starts "
                + "in the narrow basin (%d paths shown; o start, ● end)", lr, gd.size(), show),
                List.of(gdPanel, sgdPanel), List.of(gdPaths, sgdPaths));
        double[] xs3 = new double[61];
        double[] ys3 = new double[61];
        double[][] z3 = s.grid(61, xs3, ys3, ToySurface.X_3D, ToySurface.Y_3D);
        SurfaceRenderer.write(dir.resolve("sgd-escape-surface.png"), "The toy objective f(x) = mean_i f_i(x), "
                + "6 paths each from the narrow basin",
                List.of(new SurfacePanel("GD: stays in the narrow minimum", "x1", "x2", xs3, ys3, z3, "f(x)", false,
                        -110, 42), new SurfacePanel("SGD, batch " + batch + ": escapes to the wide one", "x1", "x2",
                        xs3, ys3, z3, "f(x)", false, -110, 42)), List.of(gd3, sgd3));
        Figures.write(dir.resolve("escape-vs-batch.png"), "Escaped fraction against the SGD batch size (lr " + lr + ")",
                List.of(Panel.of("starts that reached the wide basin", "batch size (terms per step)",
                        "escaped fraction", List.of(new Series("SGD", bx, by)))));
    }
}
