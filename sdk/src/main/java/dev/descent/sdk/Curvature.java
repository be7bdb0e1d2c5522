package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.landscape.DirectionFile;
import dev.descent.engine.landscape.HessianExtremes;
import dev.descent.engine.nn.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.IntConsumer;

/**
 * Where a loss landscape is convex: both ends of the Hessian spectrum over a plane (Li et al. 2018, Fig. 7).
 * Draw the plane with a {@link LandscapePlan} that saves its directions ({@code saveDirections(file)}), then map the
 * curvature on the same plane:
 *
 * <pre>{@code
 * CurvatureMap c = Curvature.plane(network, directionsFile, 1.0, 9, train, 256, BatchNormMode.RECOMPUTE,
 *         Curvature.Settings.defaults(), (done, total) -> {});
 * double nonconvex = c.nonconvexFraction(0.1);
 * }</pre>
 */
public final class Curvature {
    private Curvature() {
    }

    /**
     * @param lanczosSteps Lanczos steps per point (each two gradients over the examples)
     * @param fdStep       finite-difference step of the Hessian-vector products
     * @param evalBatch    evaluation batch size (with {@link BatchNormMode#RECOMPUTE}: the batch of the statistics)
     * @param threads      points evaluated in parallel
     * @param seed         seed of the Lanczos start vector
     */
    public record Settings(int lanczosSteps, double fdStep, int evalBatch, int threads, long seed) {
        public Settings {
            if (lanczosSteps < 2 || !(fdStep > 0) || evalBatch < 1 || threads < 1) {
                throw new IllegalArgumentException("curvature: need lanczosSteps >= 2, fdStep > 0, evalBatch >= 1,"
                        + " threads >= 1; was " + lanczosSteps + ", " + fdStep + ", " + evalBatch + ", " + threads);
            }
        }

        /** 8 Lanczos steps, h = 1e-3, batch 1000, one thread per core, seed 1. */
        public static Settings defaults() {
            return new Settings(8, 1e-3, 1000, Math.max(1, Descent.kernels().maxThreads()), 1);
        }
    }

    /** Progress: {@code done} of {@code total} points finished (called from the worker threads). */
    @FunctionalInterface
    public interface Listener {
        void onPoint(int done, int total);
    }

    /**
     * λ_min and λ_max at every point {@code network + a·d1 + b·d2}, a and b on a {@code grid × grid} grid over
     * [-range, range], d1 and d2 read from {@code directionsFile} (saved by a landscape of the same architecture), on
     * the first {@code examples} examples of {@code data} (cross-entropy).
     */
    public static CurvatureMap plane(Network network, Path directionsFile, double range, int grid, DataSource data,
                                     int examples, BatchNormMode bn, Settings s, Listener listener) {
        if (grid < 1 || !(range > 0) || examples < 1) {
            throw new IllegalArgumentException("curvature: need grid >= 1, range > 0 and examples >= 1; was " + grid
                    + ", " + range + ", " + examples);
        }
        Model centre = network.engine();
        DirectionFile.Loaded dirs;
        try {
            dirs = DirectionFile.load(directionsFile);
        } catch (IOException e) {
            throw new DescentException("cannot read the directions file " + directionsFile + ": " + e.getMessage(), e);
        }
        try (dirs) {
            if (!dirs.spec().equals(centre.spec()) || dirs.directions().length < 2) {
                throw new DescentException("the directions file " + directionsFile + " does not hold two directions"
                        + " for the architecture of " + network.origin());
            }
            double[] xs = dev.descent.engine.landscape.Projection.plane(range, grid).xs();
            Dataset all;
            try {
                all = data.limit(examples).open();
            } catch (UncheckedIOException e) {
                throw new DescentException("cannot load " + data.name() + ": " + e.getMessage(), e);
            }
            try (all) {
                if (all.featureSize() != centre.inputSize()) {
                    throw new DescentException(data.name() + " has " + all.featureSize() + " features per example, "
                            + "the network expects " + centre.inputSize());
                }
                String spec = centre.spec();
                long t0 = System.nanoTime();
                int total = grid * grid;
                HessianExtremes.Extremes[][] e = HessianExtremes.map(() -> Model.fromSpec(spec), centre,
                        centre.params().segment(), dirs.directions()[0].segment(), dirs.directions()[1].segment(), xs,
                        xs, all, Loss.CROSS_ENTROPY.engine(), s.evalBatch(), bn.engine(), Kernels.backend(),
                        new HessianExtremes.Settings(s.lanczosSteps(), s.fdStep(), s.seed()), s.threads(),
                        done -> listener.onPoint(done, total));
                double[][] lo = new double[grid][grid];
                double[][] hi = new double[grid][grid];
                double[][] loss = new double[grid][grid];
                for (int j = 0; j < grid; j++) {
                    for (int i = 0; i < grid; i++) {
                        lo[j][i] = e[j][i].lambdaMin();
                        hi[j][i] = e[j][i].lambdaMax();
                        loss[j][i] = e[j][i].loss();
                    }
                }
                return new CurvatureMap(xs, xs.clone(), lo, hi, loss, all.count(), s.lanczosSteps(),
                        (System.nanoTime() - t0) / 1e9);
            }
        }
    }
}
