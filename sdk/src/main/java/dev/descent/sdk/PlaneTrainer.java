package dev.descent.sdk;

import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.landscape.DirectionFile;
import dev.descent.engine.landscape.MultiPointPlane;
import dev.descent.engine.landscape.Projection;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.BatchAssembler;
import dev.descent.engine.train.ModelFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Multi-point optimization (Skorokhodov &amp; Burtsev 2019, "Loss Landscape Sightseeing with Multi-Point
 * Optimization"): trains a whole plane of networks w(a, b) = origin + a·u + b·v — origin, u and v together — so that
 * the loss over a grid of the plane draws a target picture: low loss on the target's "low" cells, high loss on the
 * others. Every step takes one batch, samples a few low and a few high cells, minimizes the batch loss at the low
 * ones and maximizes it (up to {@link Builder#lossCap a cap}) at the high ones; the gradients reach origin, u and v by
 * the chain rule (see the engine's {@code MultiPointPlane}).
 *
 * <pre>{@code
 * boolean[][] low = ...;                                  // [ny][nx]: low[j][i] is the cell (xs[i], ys[j])
 * try (PlaneTrainer t = PlaneTrainer.builder().model(def0, def1, def2).train(train).target(low).seed(1).open()) {
 *     t.train(2000);
 *     t.save(Path.of("out/origin.descent"), Path.of("out/directions.descentd"));
 * }
 * // the plane is a model file + a directions file: any landscape of the SDK or `descent landscape plane` opens it
 * LandscapeResult map = Descent.landscape(LandscapePlan.builder().plane(Network.load(origin), 1.0, low.length)
 *         .directionsFile(directions).train(train).test(test).build());
 * }</pre>
 *
 * The plane starts through three networks: origin = the first definition's weights, u = (second − origin) and
 * v = (third − origin) with v made orthogonal to u and rescaled to |u| (the paper's "up_orthogonal" start), so
 * w(1, 0) is the second network. Batches walk through seeded shuffles of the training set; the cells of step s are
 * drawn from a generator seeded by (seed, s), so a run resumed from {@link #checkpoint} continues exactly as an
 * uninterrupted one would (one thread).
 */
public final class PlaneTrainer implements AutoCloseable {
    /** Statistics of the last step (batch means; the high cells' loss capped). */
    public record StepStats(long step, double objective, double lowLoss, double highLoss, double lowAccuracy,
                            double highAccuracy, int cappedCells, double gradientNorm) {
    }

    private final Dataset train;
    private final Model scratch;
    private final BatchAssembler batches;
    private final MultiPointPlane plane;
    private final boolean[][] target;
    private final int[] lowCells; // flat indices j * nx + i
    private final int[] highCells;
    private final double[] xs;
    private final double[] ys;
    private final int lowPerStep;
    private final int highPerStep;
    private final double cap;
    private final float lr;
    private final long seed;
    // per-step scratch (no allocation per step)
    private final double[] a;
    private final double[] b;
    private final boolean[] low;
    private final int[] pick;
    private int shuffledEpoch = -1;
    private StepStats last;

    private PlaneTrainer(Builder p, Dataset train, Model scratch, BatchAssembler batches, MultiPointPlane plane) {
        this.train = train;
        this.scratch = scratch;
        this.batches = batches;
        this.plane = plane;
        this.target = p.target;
        int ny = target.length;
        int nx = target[0].length;
        java.util.List<Integer> lows = new java.util.ArrayList<>();
        java.util.List<Integer> highs = new java.util.ArrayList<>();
        for (int j = 0; j < ny; j++) {
            for (int i = 0; i < nx; i++) {
                if (p.boundaryOnly && !onBoundary(target, j, i)) {
                    continue;
                }
                (target[j][i] ? lows : highs).add(j * nx + i);
            }
        }
        lowCells = lows.stream().mapToInt(Integer::intValue).toArray();
        highCells = highs.stream().mapToInt(Integer::intValue).toArray();
        xs = Projection.linspace(-p.range, p.range, nx);
        ys = Projection.linspace(-p.range, p.range, ny);
        lowPerStep = Math.min(p.lowPerStep, lowCells.length);
        highPerStep = Math.min(p.highPerStep, highCells.length);
        cap = p.cap;
        lr = (float) p.optimizer.learningRate();
        seed = p.seed;
        int cells = lowPerStep + highPerStep;
        a = new double[cells];
        b = new double[cells];
        low = new boolean[cells];
        pick = new int[Math.max(lowCells.length, highCells.length)];
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether a cell of the other kind is among the cell's (up to 8) neighbours. */
    static boolean onBoundary(boolean[][] t, int j, int i) {
        for (int dj = -1; dj <= 1; dj++) {
            for (int di = -1; di <= 1; di++) {
                int y = j + dj;
                int x = i + di;
                if (y >= 0 && y < t.length && x >= 0 && x < t[y].length && t[y][x] != t[j][i]) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Low cells that are trained (all of them, or those on the boundary). */
    public int trainedLowCells() {
        return lowCells.length;
    }

    /** High cells that are trained. */
    public int trainedHighCells() {
        return highCells.length;
    }

    /** Steps taken so far (including those restored from a checkpoint). */
    public long step() {
        return plane.steps();
    }

    /** Statistics of the last step (null before the first). */
    public StepStats last() {
        return last;
    }

    /** The grid's a values (columns of the target). */
    public double[] xs() {
        return xs.clone();
    }

    /** The grid's b values (rows of the target). */
    public double[] ys() {
        return ys.clone();
    }

    /** Takes {@code steps} steps; returns the statistics of the last one. */
    public StepStats train(long steps) {
        int perEpoch = batches.batchesPerEpoch();
        for (long k = 0; k < steps; k++) {
            long s = plane.steps();
            int epoch = (int) (s / perEpoch);
            if (epoch != shuffledEpoch) {
                batches.shuffle(epoch);
                shuffledEpoch = epoch;
            }
            int rows = batches.fill((int) (s % perEpoch));
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + s);
            int c = sample(rng, lowCells, lowPerStep, 0, true);
            c = sample(rng, highCells, highPerStep, c, false);
            double objective;
            try {
                objective = plane.step(batches.features(), 0, batches.labels(), 0, rows, a, b, low, c, cap, lr);
            } catch (IllegalStateException e) {
                throw new DivergedException("multi-point optimization diverged: " + e.getMessage(), s,
                        epoch, Double.NaN, e);
            }
            last = new StepStats(plane.steps(), objective, plane.lowLoss(), plane.highLoss(), plane.lowAccuracy(),
                    plane.highAccuracy(), plane.cappedCells(), plane.gradientNorm());
        }
        return last;
    }

    /** Draws {@code count} distinct cells of {@code from} (partial Fisher-Yates) into a/b/low from {@code at}. */
    private int sample(SplittableRandom rng, int[] from, int count, int at, boolean isLow) {
        int n = from.length;
        System.arraycopy(from, 0, pick, 0, n);
        int nx = xs.length;
        for (int k = 0; k < count; k++) {
            int r = k + rng.nextInt(n - k);
            int t = pick[k];
            pick[k] = pick[r];
            pick[r] = t;
            a[at + k] = xs[pick[k] % nx];
            b[at + k] = ys[pick[k] / nx];
            low[at + k] = isLow;
        }
        return at + count;
    }

    /**
     * Writes the plane as the SDK's landscapes read it: the origin as a model file ({@link Network#load}) and u, v
     * as a directions file ({@link LandscapePlan.Builder#directionsFile}; {@code descent landscape plane --model
     * ORIGIN --directions FILE --range R --grid N}).
     */
    public void save(Path originFile, Path directionsFile) {
        try (Model origin = Model.fromSpec(scratch.spec())) {
            MemorySegment.copy(plane.origin(), 0, origin.params().segment(), 0, plane.origin().byteSize());
            ModelFile.save(origin, originFile);
            DirectionFile.save(directionsFile, scratch.spec(), String.format(Locale.ROOT, "multi-point optimization "
                    + "(Skorokhodov & Burtsev 2019): u, v trained with the origin for %d steps, seed %d, grid %dx%d "
                    + "over [%s, %s]^2", plane.steps(), seed, xs.length, ys.length, xs[0], xs[xs.length - 1]),
                    plane.u(), plane.v());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plane to " + originFile + " / " + directionsFile + ": "
                    + e.getMessage(), e);
        }
    }

    /** The network at w(a, b) (the caller closes it). */
    public Network at(double a, double b) {
        Model m = Model.fromSpec(scratch.spec());
        plane.point(a, b, m.params().segment());
        return Network.wrap(m, String.format(Locale.ROOT, "plane point (%s, %s)", a, b));
    }

    /** Writes the plane, the optimizer's moments and the step count to {@code file} (atomically). */
    public void checkpoint(Path file) {
        try {
            plane.save(file, "seed=" + seed);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plane checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Continues from a {@link #checkpoint} when {@code file} exists; returns whether it did. Throws
     * {@link IllegalArgumentException} naming the file when it is corrupt or holds another plane (architecture,
     * optimizer or seed).
     */
    public boolean resume(Path file) {
        if (!Files.exists(file)) {
            return false;
        }
        try {
            String meta = plane.restore(file);
            if (!meta.equals("seed=" + seed)) {
                throw new IllegalArgumentException("cannot resume from " + file + ": it was trained with " + meta
                        + ", this run has seed=" + seed);
            }
            return true;
        } catch (CheckpointException e) {
            throw new IllegalArgumentException("cannot resume: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        plane.close();
        batches.close();
        scratch.close();
        train.close();
    }

    /** Settings of a plane training; {@link #open()} loads the data and builds the plane. */
    public static final class Builder {
        private ModelDefinition origin;
        private ModelDefinition right;
        private ModelDefinition up;
        private DataSource trainSource;
        private boolean[][] target;
        private double range = 1.0;
        private int batchSize = 128;
        private int lowPerStep = 8;
        private int highPerStep = 8;
        private double cap = 2.5;
        private Optimizer optimizer = Optimizer.adam(1e-3);
        private double clipNorm = 0;
        private long seed = 1;
        private int threads = 1;
        private boolean boundaryOnly;

        private Builder() {
        }

        /**
         * Three definitions of one architecture with different seeds: the plane starts through their weights (origin,
         * origin + u, origin + v before v is made orthogonal to u).
         */
        public Builder model(ModelDefinition origin, ModelDefinition right, ModelDefinition up) {
            this.origin = origin;
            this.right = right;
            this.up = up;
            return this;
        }

        public Builder train(DataSource train) {
            this.trainSource = train;
            return this;
        }

        /**
         * The picture, {@code [ny][nx]}: {@code low[j][i]} true when cell (a = xs[i], b = ys[j]) is to have low loss;
         * xs, ys are {@code nx}, {@code ny} evenly spaced values over [-range, range] (j = 0 is b = -range).
         */
        public Builder target(boolean[][] low) {
            this.target = new boolean[low.length][];
            for (int j = 0; j < low.length; j++) {
                this.target[j] = low[j].clone();
            }
            return this;
        }

        /** a and b run over [-range, range] (default 1). */
        public Builder range(double range) {
            this.range = range;
            return this;
        }

        /** Training examples per step, shared by all cells of the step (default 128). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        /** Low and high cells sampled per step (default 8 and 8; the paper samples 50 and 50). */
        public Builder cellsPerStep(int low, int high) {
            this.lowPerStep = low;
            this.highPerStep = high;
            return this;
        }

        /** The high cells' loss is maximized up to this value (default 2.5, as the paper; chance is ln 10 ≈ 2.3). */
        public Builder lossCap(double cap) {
            this.cap = cap;
            return this;
        }

        /** Update rule of [origin, u, v] (default Adam, lr 1e-3); its learning rate is used as a constant. */
        public Builder optimizer(Optimizer optimizer) {
            this.optimizer = optimizer;
            return this;
        }

        /** Clip the plane's gradient to this L2 norm (default 0: no clipping; the paper clips at 100). */
        public Builder clipNorm(double clipNorm) {
            this.clipNorm = clipNorm;
            return this;
        }

        /**
         * Train only the cells next to a cell of the other kind (8-neighbourhood), as the paper does (its "ternary
         * mask"): the interior of a dark region and light cells far from any dark one are left to the plane's
         * smoothness, and the samples go where the picture's edges are. Default false: every cell is trained.
         */
        public Builder boundaryOnly(boolean boundaryOnly) {
            this.boundaryOnly = boundaryOnly;
            return this;
        }

        /** Seed of the batches and of the cells sampled each step (default 1). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** GEMM threads (default 1: deterministic). */
        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public PlaneTrainer open() {
            if (origin == null || right == null || up == null || trainSource == null || target == null) {
                throw new IllegalArgumentException("a plane trainer needs model(origin, right, up), train(...) and "
                        + "target(...)");
            }
            validateTarget(target);
            if (!(range > 0) || Double.isInfinite(range) || batchSize < 1 || lowPerStep < 1 || highPerStep < 1
                    || !(cap > 0) || !(clipNorm >= 0) || threads < 1 || optimizer.isSam()) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "invalid plane training: range %s (> 0),"
                        + " batch %d (>= 1), cells per step %d/%d (>= 1), loss cap %s (> 0), clip norm %s (>= 0), "
                        + "threads %d (>= 1), optimizer %s (not SAM)", range, batchSize, lowPerStep, highPerStep, cap,
                        clipNorm, threads, optimizer));
            }
            Dataset data = null;
            Model scratch = null;
            BatchAssembler batches = null;
            MultiPointPlane plane = null;
            try (Model m0 = origin.instantiate(); Model m1 = right.instantiate(); Model m2 = up.instantiate()) {
                if (!m0.spec().equals(m1.spec()) || !m0.spec().equals(m2.spec())) {
                    throw new IllegalArgumentException("the three definitions of a plane must share one architecture: "
                            + origin + ", " + right + ", " + up);
                }
                data = trainSource.open();
                if (data.featureSize() != m0.inputSize() || data.classes() > m0.outputSize()) {
                    throw new IllegalArgumentException("dataset " + data.name() + " (" + data.featureSize()
                            + " features, " + data.classes() + " classes) does not fit the model " + origin);
                }
                scratch = Model.fromSpec(m0.spec());
                int batch = Math.min(batchSize, data.count());
                batches = new BatchAssembler(data, batch, seed);
                plane = new MultiPointPlane(scratch, Kernels.backend(), Loss.CROSS_ENTROPY.engine(),
                        optimizer.engine(), batch, clipNorm, threads, seed);
                initialPlane(plane, m0, m1, m2);
                return new PlaneTrainer(this, data, scratch, batches, plane);
            } catch (RuntimeException | Error e) {
                for (AutoCloseable c : new AutoCloseable[] {plane, batches, scratch, data}) {
                    if (c != null) {
                        try {
                            c.close();
                        } catch (Exception ignored) {
                            // keep closing
                        }
                    }
                }
                throw e;
            }
        }

        /** origin = w0, u = w1 − w0, v = (w2 − w0) orthogonalized against u and scaled to |u|. */
        private static void initialPlane(MultiPointPlane plane, Model m0, Model m1, Model m2) {
            var k = Kernels.backend();
            long n = m0.layout().totalFloats();
            MemorySegment w0 = m0.params().segment();
            MemorySegment u = m1.params().segment(); // overwritten in place: m1 and m2 are throwaway copies
            MemorySegment v = m2.params().segment();
            k.axpy(u, 0, -1f, w0, 0, n);
            k.axpy(v, 0, -1f, w0, 0, n);
            double uu = k.dot(u, 0, u, 0, n);
            if (uu > 0) {
                k.axpy(v, 0, (float) (-k.dot(u, 0, v, 0, n) / uu), u, 0, n);
                double vv = k.dot(v, 0, v, 0, n);
                if (vv > 0) {
                    k.scale(v, 0, (float) Math.sqrt(uu / vv), n);
                }
            }
            plane.set(w0, u, v);
        }

        private static void validateTarget(boolean[][] t) {
            if (t.length < 2 || t[0].length < 2) {
                throw new IllegalArgumentException("the target needs at least 2x2 cells");
            }
            int lows = 0;
            for (boolean[] row : t) {
                if (row.length != t[0].length) {
                    throw new IllegalArgumentException("the target's rows differ in length");
                }
                for (boolean x : row) {
                    lows += x ? 1 : 0;
                }
            }
            if (lows == 0 || lows == t.length * t[0].length) {
                throw new IllegalArgumentException("the target needs both low and high cells, has " + lows + " low of "
                        + t.length * t[0].length);
            }
        }
    }
}
