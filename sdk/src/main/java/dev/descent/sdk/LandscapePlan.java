package dev.descent.sdk;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What loss landscape to measure, around which {@link Network}s, on which data; run it with
 * {@link Descent#landscape(LandscapePlan)} (blocking) or {@link Descent#startLandscape(LandscapePlan)} (a handle).
 *
 * <pre>{@code
 * try (Network trained = Network.load(Path.of("out/train/model.descent"))) {
 *     LandscapePlan plan = LandscapePlan.builder()
 *             .plane(trained, 1.0, 25)                          // L(w + a·d1 + b·d2), a, b in [-1, 1]
 *             .seed(1).norm(DirectionNorm.FILTER).ignoreBiases(true)
 *             .train(DataSource.fashionMnist(Split.TRAIN).limit(2000))
 *             .test(DataSource.fashionMnist(Split.TEST).limit(2000))
 *             .partialResults(Path.of("out/plane.partial.csv"), false)   // resume an interrupted run
 *             .saveDirections(Path.of("out/directions.descentd"))
 *             .build();
 *     LandscapeResult r = Descent.landscape(plan);
 *     r.writeCsv(Path.of("out/landscape.csv"));
 * }
 * }</pre>
 *
 * Geometries: {@link Builder#line line} and {@link Builder#plane plane} along random directions (or directions loaded
 * from a file), {@link Builder#interpolation interpolation} between two networks, {@link Builder#trajectoryPlane
 * trajectoryPlane} spanned by the principal directions of a training run's saved models. The networks stay owned by
 * the caller and must stay open while the plan runs; a plan can run more than once. Invalid settings are refused by
 * {@link Builder#build()} with an {@link IllegalArgumentException} naming the value.
 */
public final class LandscapePlan {
    /** The shape of a landscape. */
    public enum Kind {
        /** L(w + a·d), a in [-range, range]. */
        LINE,
        /** L((1-t)·w0 + t·w1), t in [-extend, 1 + extend]. */
        INTERPOLATION,
        /** L(w + a·d1 + b·d2) on a grid. */
        PLANE;

        /** {@code line}, {@code interpolation} or {@code plane}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    enum Geometry { LINE, INTERPOLATION, PLANE, TRAJECTORY }

    final Geometry geometry;
    final Network centre;
    final Network to;
    final double range;
    final double extend;
    final double[] bounds;
    final int points;
    final List<Path> trajectory;
    final long seed;
    final DirectionNorm norm;
    final boolean ignoreBiases;
    final boolean orthogonalize;
    final Path directionsFile;
    final Path saveDirections;
    final DataSource train;
    final DataSource test;
    final Loss loss;
    final int evalBatch;
    final BatchNormMode batchNorm;
    final int evaluators;
    final Boolean precomputeFirstLayer;
    final Path partialFile;
    final boolean fresh;
    final int sharpnessExamples;
    final int powerIterations;
    final List<LandscapeListener> listeners;

    private LandscapePlan(Builder b) {
        geometry = b.geometry;
        centre = b.centre;
        to = b.to;
        range = b.range;
        extend = b.extend;
        bounds = b.bounds == null ? null : b.bounds.clone();
        points = b.points;
        trajectory = b.trajectory == null ? null : List.copyOf(b.trajectory);
        seed = b.seed;
        norm = b.norm;
        ignoreBiases = b.ignoreBiases;
        orthogonalize = b.orthogonalize;
        directionsFile = b.directionsFile;
        saveDirections = b.saveDirections;
        train = b.train;
        test = b.test;
        loss = b.loss;
        evalBatch = b.evalBatch;
        batchNorm = b.batchNorm;
        evaluators = b.evaluators > 0 ? b.evaluators : Math.max(1, Descent.kernels().maxThreads());
        precomputeFirstLayer = b.precomputeFirstLayer;
        partialFile = b.partialFile;
        fresh = b.fresh;
        sharpnessExamples = b.sharpnessExamples;
        powerIterations = b.powerIterations;
        listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Line, interpolation or plane (a trajectory plane is a plane). */
    public Kind kind() {
        return switch (geometry) {
            case LINE -> Kind.LINE;
            case INTERPOLATION -> Kind.INTERPOLATION;
            case PLANE, TRAJECTORY -> Kind.PLANE;
        };
    }

    /** Points the plan evaluates (a plane: grid²). */
    public int points() {
        return geometry == Geometry.PLANE || geometry == Geometry.TRAJECTORY ? points * points : points;
    }

    /** Evaluators that will work in parallel (default: {@link KernelInfo#maxThreads()}). */
    public int evaluators() {
        return evaluators;
    }

    @Override
    public String toString() {
        return "LandscapePlan[" + geometry.name().toLowerCase(Locale.ROOT) + ", " + points() + " points around "
                + centre + "]";
    }

    /** Fluent settings; exactly one geometry ({@code line}, {@code interpolation}, {@code plane}, ...) is required. */
    public static final class Builder {
        private Geometry geometry;
        private Network centre;
        private Network to;
        private double range;
        private double extend;
        private double[] bounds;
        private int points;
        private List<Path> trajectory;
        private long seed = 1;
        private DirectionNorm norm = DirectionNorm.FILTER;
        private boolean ignoreBiases = true;
        private boolean orthogonalize;
        private Path directionsFile;
        private Path saveDirections;
        private DataSource train;
        private DataSource test;
        private Loss loss = Loss.CROSS_ENTROPY;
        private int evalBatch = 1000;
        private BatchNormMode batchNorm = BatchNormMode.RUNNING;
        private int evaluators;
        private Boolean precomputeFirstLayer;
        private Path partialFile;
        private boolean fresh;
        private int sharpnessExamples;
        private int powerIterations = 20;
        private final List<LandscapeListener> listeners = new ArrayList<>();

        private Builder() {
        }

        private Builder geometry(Geometry g, Network centre) {
            if (geometry != null) {
                throw new IllegalArgumentException("a landscape plan has one geometry; " + geometry.name()
                        .toLowerCase(Locale.ROOT) + " was already set");
            }
            if (centre == null) {
                throw new IllegalArgumentException("the network of a landscape must not be null");
            }
            this.geometry = g;
            this.centre = centre;
            return this;
        }

        /** L(w + a·d) for {@code points} values of a evenly over [-range, range], d random (or loaded). */
        public Builder line(Network network, double range, int points) {
            this.range = range;
            this.points = points;
            return geometry(Geometry.LINE, network);
        }

        /**
         * L((1-t)·w0 + t·w1) for {@code points} values of t evenly over [-extend, 1 + extend]: the direction is
         * w1 - w0, not normalized. Sharpness (when asked) is measured at both networks.
         */
        public Builder interpolation(Network from, Network to, double extend, int points) {
            this.to = to;
            this.extend = extend;
            this.points = points;
            return geometry(Geometry.INTERPOLATION, from);
        }

        /** L(w + a·d1 + b·d2) on a {@code grid} x {@code grid} grid over [-range, range]², d1, d2 random (or loaded). */
        public Builder plane(Network network, double range, int grid) {
            this.range = range;
            this.points = grid;
            return geometry(Geometry.PLANE, network);
        }

        /** As {@link #plane(Network, double, int)} over [aMin, aMax] x [bMin, bMax]. */
        public Builder plane(Network network, double aMin, double aMax, double bMin, double bMax, int grid) {
            this.bounds = new double[] {aMin, aMax, bMin, bMax};
            this.points = grid;
            return geometry(Geometry.PLANE, network);
        }

        /**
         * A plane spanned by the two principal directions of a training path (the saved models of
         * {@code TrainingPlan.trajectoryDir}, in order; at least 3, with {@code network} as origin, usually the last
         * one), fitted to the path's coordinates with a quarter of its extent as margin. The result carries the
         * path's coordinates ({@link LandscapeResult#trajectory()}). Direction settings do not apply.
         */
        public Builder trajectoryPlane(Network network, List<Path> trajectoryFiles, int grid) {
            this.trajectory = trajectoryFiles == null ? null : List.copyOf(trajectoryFiles);
            this.points = grid;
            return geometry(Geometry.TRAJECTORY, network);
        }

        /** Seed of the random directions (direction k is drawn from the k-th split of the seed); default 1. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Normalization of the random directions; default {@link DirectionNorm#FILTER}. */
        public Builder norm(DirectionNorm norm) {
            this.norm = norm;
            return this;
        }

        /** True (default): bias and BatchNorm tensors are zero in random directions, so only weights move. */
        public Builder ignoreBiases(boolean ignore) {
            this.ignoreBiases = ignore;
            return this;
        }

        /** Make the second random direction of a plane orthogonal to the first; default false. */
        public Builder orthogonalize(boolean orthogonalize) {
            this.orthogonalize = orthogonalize;
            return this;
        }

        /**
         * Use the directions saved in this file ({@link #saveDirections} of an earlier run) instead of drawing them;
         * they must belong to the network's architecture (checked when the plan runs).
         */
        public Builder directionsFile(Path file) {
            this.directionsFile = file;
            return this;
        }

        /** Save the directions the plan used to this file, so the landscape can be recomputed bit for bit. */
        public Builder saveDirections(Path file) {
            this.saveDirections = file;
            return this;
        }

        /** The examples whose loss and accuracy are measured at every point (required; use {@code limit(n)}). */
        public Builder train(DataSource train) {
            this.train = train;
            return this;
        }

        /** Optional second set (test loss and accuracy); null for none. */
        public Builder test(DataSource test) {
            this.test = test;
            return this;
        }

        /** Default {@link Loss#CROSS_ENTROPY}. */
        public Builder loss(Loss loss) {
            this.loss = loss;
            return this;
        }

        /** Examples per evaluation batch; default 1000. */
        public Builder evalBatch(int evalBatch) {
            this.evalBatch = evalBatch;
            return this;
        }

        /** Default {@link BatchNormMode#RUNNING}. */
        public Builder batchNorm(BatchNormMode mode) {
            this.batchNorm = mode;
            return this;
        }

        /**
         * True: a leading Linear layer is multiplied out once per run and each point's first layer is one fused pass
         * (numbers equal to the direct evaluation up to float32 rounding); false: every layer at every point. Default:
         * the system property {@code descent.landscape.precomputeFirstLayer}, else true.
         */
        public Builder precomputeFirstLayer(boolean precompute) {
            this.precomputeFirstLayer = precompute;
            return this;
        }

        /** Points evaluated in parallel, each by its own evaluator actor; default {@link KernelInfo#maxThreads()}. */
        public Builder evaluators(int evaluators) {
            if (evaluators < 1) {
                throw new IllegalArgumentException("evaluators must be >= 1, was " + evaluators);
            }
            this.evaluators = evaluators;
            return this;
        }

        /**
         * Append every finished point to this file and resume from it: a run that was interrupted or cancelled
         * evaluates only the missing points and gives exactly the numbers of an uninterrupted one. A file of a run
         * with other settings is refused ({@link LandscapeResumeException}) unless {@code fresh}, which discards it.
         * The file stays after the run; delete it once the results are saved.
         */
        public Builder partialResults(Path file, boolean fresh) {
            this.partialFile = file;
            this.fresh = fresh;
            return this;
        }

        /**
         * Also measure the sharpness ({@link SharpnessReport}) at the centre network (both ends of an interpolation)
         * on the first {@code examples} training examples with at most {@code powerIterations} power iterations;
         * {@code examples} 0 (default) skips it.
         */
        public Builder sharpness(int examples, int powerIterations) {
            this.sharpnessExamples = examples;
            this.powerIterations = powerIterations;
            return this;
        }

        /** Receives progress as points finish. */
        public Builder listener(LandscapeListener listener) {
            if (listener != null) {
                listeners.add(listener);
            }
            return this;
        }

        /** Validates the settings; every refusal names the bad value. */
        public LandscapePlan build() {
            if (geometry == null) {
                throw new IllegalArgumentException("a landscape plan needs a geometry: line, interpolation, plane or "
                        + "trajectoryPlane");
            }
            if (train == null) {
                throw new IllegalArgumentException("a landscape plan needs train(...) data");
            }
            if (norm == null || loss == null || batchNorm == null) {
                throw new IllegalArgumentException("norm, loss and batchNorm must not be null");
            }
            boolean plane = geometry == Geometry.PLANE || geometry == Geometry.TRAJECTORY;
            if (points < 2) {
                throw new IllegalArgumentException((plane ? "grid" : "points") + " must be >= 2, was " + points);
            }
            if ((geometry == Geometry.LINE || geometry == Geometry.PLANE && bounds == null)
                    && !(range > 0 && Double.isFinite(range))) {
                throw new IllegalArgumentException("range must be finite and > 0, was " + range);
            }
            if (bounds != null && !(bounds[0] < bounds[1] && bounds[2] < bounds[3]
                    && Double.isFinite(bounds[1] - bounds[0]) && Double.isFinite(bounds[3] - bounds[2]))) {
                throw new IllegalArgumentException("plane bounds must be finite with min < max, were a in ["
                        + bounds[0] + ", " + bounds[1] + "], b in [" + bounds[2] + ", " + bounds[3] + "]");
            }
            if (geometry == Geometry.INTERPOLATION) {
                if (to == null) {
                    throw new IllegalArgumentException("an interpolation needs a network to interpolate to");
                }
                if (!centre.sameArchitecture(to)) {
                    throw new IllegalArgumentException("an interpolation needs two networks of one architecture; "
                            + centre.origin() + " and " + to.origin() + " differ");
                }
                if (!(extend >= 0 && Double.isFinite(extend))) {
                    throw new IllegalArgumentException("extend must be finite and >= 0, was " + extend);
                }
            }
            if (geometry == Geometry.TRAJECTORY && (trajectory == null || trajectory.size() < 2)) {
                throw new IllegalArgumentException("a trajectory plane needs at least 2 trajectory files besides the "
                        + "centre network, got " + (trajectory == null ? 0 : trajectory.size()));
            }
            if (directionsFile != null && (geometry == Geometry.INTERPOLATION || geometry == Geometry.TRAJECTORY)) {
                throw new IllegalArgumentException("directionsFile applies to lines and planes of random directions, "
                        + "not to a" + (geometry == Geometry.INTERPOLATION ? "n interpolation" : " trajectory plane"));
            }
            if (evalBatch < 1) {
                throw new IllegalArgumentException("eval batch must be >= 1, was " + evalBatch);
            }
            if (sharpnessExamples < 0 || powerIterations < 1) {
                throw new IllegalArgumentException("sharpness examples must be >= 0 and power iterations >= 1, were "
                        + sharpnessExamples + " and " + powerIterations);
            }
            return new LandscapePlan(this);
        }
    }
}
