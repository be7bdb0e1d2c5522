package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.landscape.DirectionFile;
import dev.descent.engine.landscape.DirectionSettings;
import dev.descent.engine.landscape.Directions;
import dev.descent.engine.landscape.LandscapeJob;
import dev.descent.engine.landscape.PartialResults;
import dev.descent.engine.landscape.PointResult;
import dev.descent.engine.landscape.Projection;
import dev.descent.engine.landscape.Sharpness;
import dev.descent.engine.landscape.TrajectoryPca;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.ModelFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link LandscapePlan} on the engine: loads its data, draws (or loads, differences, or PCA-fits) the
 * directions, evaluates the points with the engine's {@code LandscapeJob} on evaluator actors, measures sharpness.
 */
final class Landscapes {
    private static final Logger LOG = LoggerFactory.getLogger(Landscapes.class);

    private Landscapes() {
    }

    /** The directions of one run (owned) and the geometry they span. */
    private record Frame(OffHeapBlock[] directions, Projection projection, String how, TrajectoryProjection path)
            implements AutoCloseable {
        @Override
        public void close() {
            for (OffHeapBlock b : directions) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    /**
     * @param cancelled polled between points: true stops the run with a CancellationException (the partial-results
     *                  file keeps the finished points)
     * @param progress  an extra listener (the handle's), or null
     * @param system    the actor system of the evaluators (an engine's), or null for a private one per run
     */
    static LandscapeResult run(LandscapePlan p, BooleanSupplier cancelled, LandscapeListener progress,
                               ActorSystem<?> system) {
        Model centre = p.centre.engine();
        try (Dataset train = open(p.train, centre);
             Dataset test = p.test == null ? null : open(p.test, centre);
             Frame f = frame(p, centre)) {
            LandscapeJob.Builder job = LandscapeJob.builder().model(centre).base(centre.params().segment())
                    .directions(f.directions[0].segment(), f.directions.length > 1 ? f.directions[1].segment() : null)
                    .projection(f.projection).train(train).test(test).loss(p.loss.engine()).evalBatch(p.evalBatch)
                    .bn(p.batchNorm.engine()).evaluators(p.evaluators).partial(p.partialFile, p.fresh)
                    .cancelled(cancelled).listener((done, total, last) -> dispatch(p, progress, done, total, last));
            if (system != null) {
                job.actorSystem(system);
            }
            if (p.precomputeFirstLayer != null) {
                job.precomputeFirstLayer(p.precomputeFirstLayer);
            }
            dev.descent.engine.landscape.LandscapeResult r;
            try {
                r = job.build().run();
            } catch (PartialResults.ResumeException e) {
                throw new LandscapeResumeException(e.getMessage(), p.partialFile, e);
            } catch (IOException e) {
                throw new DescentException("landscape: cannot use the partial-results file " + p.partialFile + ": "
                        + e.getMessage(), e);
            }
            if (!r.complete()) {
                throw new CancellationException("landscape cancelled after " + (r.resumed() + r.evaluated()) + " of "
                        + f.projection.points() + " points" + (p.partialFile == null ? ""
                        : "; they are kept in " + p.partialFile + " to resume from"));
            }
            List<SharpnessReport> sharpness = new ArrayList<>();
            if (p.sharpnessExamples > 0) {
                sharpness.add(sharpness(p, centre, train));
                if (p.to != null) {
                    sharpness.add(sharpness(p, p.to.engine(), train));
                }
            }
            if (p.saveDirections != null) {
                MemorySegment[] segs = new MemorySegment[f.directions.length];
                for (int i = 0; i < segs.length; i++) {
                    segs[i] = f.directions[i].segment();
                }
                try {
                    DirectionFile.save(p.saveDirections, centre.spec(), f.how, segs);
                } catch (IOException e) {
                    throw new DescentException("cannot write the directions file " + p.saveDirections + ": "
                            + e.getMessage(), e);
                }
            }
            List<LandscapePoint> points = new ArrayList<>(r.points().length);
            for (PointResult x : r.points()) {
                points.add(point(x));
            }
            return new LandscapeResult(p.kind(), f.projection.xs(), f.projection.ys(), points, r.resumed(),
                    r.evaluated(), r.seconds(), r.evaluators(), train.count(), test == null ? 0 : test.count(), f.how,
                    f.path, sharpness);
        }
    }

    private static LandscapePoint point(PointResult x) {
        return new LandscapePoint(x.index(), x.a(), x.b(), x.trainLoss(), x.trainAccuracy(), x.testLoss(),
                x.testAccuracy());
    }

    private static void dispatch(LandscapePlan p, LandscapeListener progress, int done, int total, PointResult last) {
        LandscapePoint point = point(last);
        if (progress != null) {
            progress.onPoint(done, total, point);
        }
        for (LandscapeListener l : p.listeners) {
            try {
                l.onPoint(done, total, point);
            } catch (RuntimeException e) {
                LOG.warn("landscape: listener {} threw at point {}", l, last.index(), e);
            }
        }
    }

    private static Dataset open(DataSource source, Model model) {
        Dataset d;
        try {
            d = source.open();
        } catch (UncheckedIOException e) {
            throw new DescentException("cannot load " + source.name() + ": " + e.getMessage(), e);
        }
        if (d.featureSize() != model.inputSize()) {
            int features = d.featureSize();
            d.close();
            throw new DescentException(source.name() + " has " + features + " features per example, the network "
                    + "expects " + model.inputSize());
        }
        return d;
    }

    private static Frame frame(LandscapePlan p, Model centre) {
        MemorySegment w = centre.params().segment();
        return switch (p.geometry) {
            case LINE -> new Frame(directions(p, centre, 1), Projection.line(p.range, p.points), how(p), null);
            case PLANE -> new Frame(directions(p, centre, 2), p.bounds == null ? Projection.plane(p.range, p.points)
                    : Projection.plane(p.bounds[0], p.bounds[1], p.bounds[2], p.bounds[3], p.points), how(p), null);
            case INTERPOLATION -> {
                OffHeapBlock d = Directions.allocate(centre.layout());
                Directions.difference(d.segment(), p.to.engine().params().segment(), w,
                        centre.layout().totalFloats());
                yield new Frame(new OffHeapBlock[] {d}, Projection.interpolation(p.extend, p.points),
                        "w1 - w0 (not normalized)", null);
            }
            case TRAJECTORY -> trajectory(p, centre);
        };
    }

    private static String how(LandscapePlan p) {
        return p.directionsFile != null ? "loaded from " + p.directionsFile
                : String.format(Locale.ROOT, "seed=%d norm=%s biases=%s orthogonalize=%s", p.seed, p.norm.label(),
                        p.ignoreBiases ? "ignore" : "keep", p.orthogonalize);
    }

    private static OffHeapBlock[] directions(LandscapePlan p, Model model, int count) {
        if (p.directionsFile != null) {
            DirectionFile.Loaded l;
            try {
                l = DirectionFile.load(p.directionsFile);
            } catch (IOException e) {
                throw new DescentException("cannot read the directions file " + p.directionsFile + ": "
                        + e.getMessage(), e);
            }
            if (!l.spec().equals(model.spec()) || l.directions().length < count) {
                int n = l.directions().length;
                l.close();
                throw new DescentException("the directions file " + p.directionsFile + " holds " + n
                        + " direction(s) for " + (l.spec().equals(model.spec()) ? "this architecture, " + count
                        + " needed" : "another architecture than " + p.centre.origin()));
            }
            for (int i = count; i < l.directions().length; i++) {
                l.directions()[i].close();
            }
            return java.util.Arrays.copyOf(l.directions(), count);
        }
        DirectionSettings s = new DirectionSettings(p.seed, p.norm.engine(), p.ignoreBiases, p.orthogonalize);
        MemorySegment w = model.params().segment();
        return count == 1 ? new OffHeapBlock[] {Directions.random(model.layout(), w, s, 0)}
                : Directions.randomPair(model.layout(), w, s);
    }

    private static Frame trajectory(LandscapePlan p, Model centre) {
        List<Model> models = new ArrayList<>();
        try {
            List<MemorySegment> points = new ArrayList<>();
            for (Path file : p.trajectory) {
                Model m;
                try {
                    m = ModelFile.read(file);
                } catch (IOException e) {
                    throw new DescentException("cannot read the trajectory point " + file + ": " + e.getMessage(), e);
                }
                models.add(m);
                if (!m.spec().equals(centre.spec())) {
                    throw new DescentException(file + " holds another architecture than " + p.centre.origin());
                }
                points.add(m.params().segment());
            }
            points.add(centre.params().segment()); // the centre is the origin (usually also the last epoch)
            try (TrajectoryPca pca = TrajectoryPca.compute(points, centre.params().floatCount())) {
                OffHeapBlock[] d = {Directions.allocate(centre.layout()), Directions.allocate(centre.layout())};
                MemorySegment.copy(pca.d1().segment(), 0, d[0].segment(), 0, centre.params().byteSize());
                MemorySegment.copy(pca.d2().segment(), 0, d[1].segment(), 0, centre.params().byteSize());
                double[][] coords = pca.coords();
                String how = String.format(Locale.ROOT, "PCA of %d trajectory points (explained variance %.3f, %.3f)",
                        p.trajectory.size(), pca.explained()[0], pca.explained()[1]);
                return new Frame(d, fitted(coords, p.points), how,
                        new TrajectoryProjection(p.trajectory, coords, pca.explained()));
            }
        } finally {
            models.forEach(Model::close);
        }
    }

    /** A plane around the path's coordinates with a quarter of its extent (at least 1e-3) as margin. */
    private static Projection fitted(double[][] coords, int grid) {
        double x0 = Double.MAX_VALUE;
        double x1 = -Double.MAX_VALUE;
        double y0 = Double.MAX_VALUE;
        double y1 = -Double.MAX_VALUE;
        for (double[] c : coords) {
            x0 = Math.min(x0, c[0]);
            x1 = Math.max(x1, c[0]);
            y0 = Math.min(y0, c[1]);
            y1 = Math.max(y1, c[1]);
        }
        double mx = Math.max(0.25 * (x1 - x0), 1e-3);
        double my = Math.max(0.25 * (y1 - y0), 1e-3);
        return Projection.plane(x0 - mx, x1 + mx, y0 - my, y1 + my, grid);
    }

    private static SharpnessReport sharpness(LandscapePlan p, Model model, Dataset train) {
        try (Dataset sub = train.subset(0, Math.min(p.sharpnessExamples, train.count()))) {
            String spec = model.spec();
            Sharpness.Settings s = new Sharpness.Settings(p.powerIterations, 1e-3, 1e-3, 1e-3, 10, 1);
            Sharpness.Report r = Sharpness.measure(() -> Model.fromSpec(spec), model, model.params().segment(), sub,
                    p.loss.engine(), p.evalBatch, p.batchNorm.engine(), Kernels.backend(), s);
            return new SharpnessReport(r.examples(), r.loss(), r.topEigenvalue(), r.iterations(),
                    r.lastRelativeChange(), s.fdStep(), r.epsilon(), r.epsilonSharpness(), r.seconds(), r.converged(),
                    r.method() == Sharpness.HvpMethod.EXACT);
        }
    }
}
