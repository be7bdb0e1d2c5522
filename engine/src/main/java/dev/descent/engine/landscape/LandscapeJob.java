package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * One landscape computation, configured fluently and run on E {@code ProjectionEvaluator} actors
 * ({@link ActorScheduler}):
 *
 * <pre>{@code
 * LandscapeResult r = LandscapeJob.builder().model(model).base(model.params().segment())
 *         .directions(d1.segment(), d2.segment()).projection(Projection.plane(1.0, 25))
 *         .train(trainSubset).test(testSubset).evaluators(2)
 *         .partial(out.resolve("points.partial.csv"), false).listener(bar).build().run();
 * }</pre>
 *
 * The fingerprint that guards resuming covers everything that changes the numbers: the base point, the directions,
 * the geometry, the data (bytes), the loss, the BatchNorm mode, the evaluation batch size, the kernel backend and
 * whether the first layer is precomputed ({@link #precomputesFirstLayer()}).
 */
public final class LandscapeJob {
    /** System property: default of {@link Builder#precomputeFirstLayer} ({@code true} or {@code false}). */
    public static final String PRECOMPUTE_FIRST_LAYER_PROP_NAME = "descent.landscape.precomputeFirstLayer";
    public static final boolean PRECOMPUTE_FIRST_LAYER_DEFAULT = true;
    /** System property: the most bytes the first-layer products of a run may take. */
    public static final String PRECOMPUTE_MAX_BYTES_PROP_NAME = "descent.landscape.precomputeMaxBytes";
    public static final long PRECOMPUTE_MAX_BYTES_DEFAULT = 256L << 20;
    static final long PRECOMPUTE_MAX_BYTES = Long.getLong(PRECOMPUTE_MAX_BYTES_PROP_NAME,
            PRECOMPUTE_MAX_BYTES_DEFAULT);

    private final Builder b;

    private LandscapeJob(Builder b) {
        this.b = b;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Text of every setting that changes the numbers (its SHA-256 guards resuming). */
    public String fingerprint() {
        long floats = b.model.params().floatCount();
        return sha256("base=" + sha256(b.base, floats) + " d1=" + sha256(b.d1, floats)
                + " d2=" + (b.d2 == null ? "-" : sha256(b.d2, floats)) + " spec=" + b.model.spec()
                + " projection=" + b.projection.describe() + " train=" + dataHash(b.train)
                + " test=" + (b.test == null ? "-" : dataHash(b.test)) + " loss=" + b.loss + " bn=" + b.bn
                + " evalBatch=" + b.evalBatch + " kernels=" + b.kernels.name()
                + (precomputesFirstLayer() ? " firstLayer=precomputed" : ""));
    }

    /**
     * True when this job multiplies the first layer out once ({@link FirstLayerProducts}): the model begins with a
     * Linear layer, the setting is on and the products fit in {@value #PRECOMPUTE_MAX_BYTES_DEFAULT} bytes (or
     * {@value #PRECOMPUTE_MAX_BYTES_PROP_NAME}). Otherwise every point runs the whole forward pass.
     */
    public boolean precomputesFirstLayer() {
        int layer = FirstLayerProducts.firstLinear(b.model);
        if (!b.precomputeFirstLayer || layer < 0) {
            return false;
        }
        long samples = (long) b.train.count() + (b.test == null ? 0 : b.test.count());
        return FirstLayerProducts.bytes(b.model, layer, samples, b.d2 == null ? 1 : 2) <= PRECOMPUTE_MAX_BYTES;
    }

    /**
     * Evaluates every point not yet in the partial-results file. Without {@link Builder#actorSystem} the evaluators
     * run in a private actor system started before and terminated after the run; its start-up (a second or so for
     * the first actor system of a JVM) is not part of the result's seconds, as JVM start-up is not.
     */
    public LandscapeResult run() throws IOException {
        ActorSystem<Void> own = b.system == null && b.scheduler == null
                ? ActorScheduler.privateSystem(Math.min(b.evaluators, Math.max(1, b.projection.points()))) : null;
        try {
            return run(own);
        } finally {
            if (own != null) {
                ActorScheduler.terminate(own);
            }
        }
    }

    private LandscapeResult run(ActorSystem<Void> own) throws IOException {
        if (!precomputesFirstLayer()) {
            return run(LocalPointEvaluator.factory(b.architecture, b.model, b.base, b.d1, b.d2, b.train, b.test,
                    b.loss, b.evalBatch, b.bn, b.kernels), own);
        }
        long t0 = System.nanoTime();
        int layer = FirstLayerProducts.firstLinear(b.model);
        try (FirstLayerProducts tr = new FirstLayerProducts(b.train, b.model, layer, b.base, b.d1, b.d2, b.kernels);
             FirstLayerProducts te = b.test == null ? null
                     : new FirstLayerProducts(b.test, b.model, layer, b.base, b.d1, b.d2, b.kernels)) {
            LandscapeResult r = run(PrecomputedPointEvaluator.factory(b.model, layer, b.base, b.d1, b.d2, tr,
                    b.train, te, b.test, b.loss, b.evalBatch, b.bn, b.kernels), own);
            // the products are part of the cost of this run's points
            return new LandscapeResult(r.projection(), r.points(), r.resumed(), r.evaluated(),
                    (System.nanoTime() - t0) / 1e9, r.evaluators());
        }
    }

    private LandscapeResult run(PointEvaluator.Factory factory, ActorSystem<Void> own) throws IOException {
        PointScheduler scheduler = b.scheduler != null ? b.scheduler.apply(factory)
                : own != null ? new ActorScheduler(factory, b.evaluators, own, ActorScheduler.privateDispatcher())
                : new ActorScheduler(factory, b.evaluators, b.system, null);
        return LandscapeRun.run(b.projection, scheduler, b.partial, b.partial == null ? "" : fingerprint(), b.fresh,
                b.listener, b.cancelled);
    }

    /** SHA-256 (hex) of the first {@code floats} floats of a segment. */
    public static String sha256(MemorySegment s, long floats) {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 16];
        long bytes = floats * Float.BYTES;
        for (long at = 0; at < bytes; at += buf.length) {
            int len = (int) Math.min(buf.length, bytes - at);
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at, buf, 0, len);
            md.update(buf, 0, len);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static String dataHash(Dataset d) {
        return d.count() + ":" + sha256(d.features().segment(), d.features().floatCount()) + ":"
                + sha256(d.labels().segment(), d.count());
    }

    private static String sha256(String text) {
        return HexFormat.of().formatHex(digest().digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Fluent configuration; {@link #build()} validates it. */
    public static final class Builder {
        private Model model;
        private Supplier<Model> architecture;
        private MemorySegment base;
        private MemorySegment d1;
        private MemorySegment d2;
        private Projection projection;
        private Dataset train;
        private Dataset test;
        private LossKind loss = LossKind.CROSS_ENTROPY;
        private int evalBatch = 1000;
        private BnMode bn = BnMode.RUNNING;
        private int evaluators = Math.max(1, Runtime.getRuntime().availableProcessors());
        private java.util.function.Function<PointEvaluator.Factory, PointScheduler> scheduler;
        private ActorSystem<?> system;
        private boolean precomputeFirstLayer = Boolean.parseBoolean(System.getProperty(
                PRECOMPUTE_FIRST_LAYER_PROP_NAME, Boolean.toString(PRECOMPUTE_FIRST_LAYER_DEFAULT)));
        private KernelBackend kernels;
        private Path partial;
        private boolean fresh;
        private LandscapeRun.Listener listener = LandscapeRun.Listener.NONE;
        private BooleanSupplier cancelled = () -> false;

        /** The model the landscape belongs to: its architecture, layout and BatchNorm statistics. */
        public Builder model(Model model) {
            this.model = model;
            return this;
        }

        /** Builds fresh replicas for the evaluators; default {@code Model.fromSpec(model.spec())}. */
        public Builder architecture(Supplier<Model> architecture) {
            this.architecture = architecture;
            return this;
        }

        /** The centre point (parameter layout); default the model's current parameters. */
        public Builder base(MemorySegment base) {
            this.base = base;
            return this;
        }

        /** One direction (line, interpolation) or two (plane). */
        public Builder directions(MemorySegment d1, MemorySegment d2) {
            this.d1 = d1;
            this.d2 = d2;
            return this;
        }

        public Builder projection(Projection projection) {
            this.projection = projection;
            return this;
        }

        public Builder train(Dataset train) {
            this.train = train;
            return this;
        }

        /** Optional second dataset (test loss and accuracy). */
        public Builder test(Dataset test) {
            this.test = test;
            return this;
        }

        public Builder loss(LossKind loss) {
            this.loss = loss;
            return this;
        }

        public Builder evalBatch(int evalBatch) {
            this.evalBatch = evalBatch;
            return this;
        }

        public Builder bn(BnMode bn) {
            this.bn = bn;
            return this;
        }

        /** Evaluator actors in parallel, default the number of cores. */
        public Builder evaluators(int evaluators) {
            this.evaluators = evaluators;
            return this;
        }

        /**
         * The actor system the evaluators run in (on its blocking dispatcher); default a private one per run,
         * terminated when the run ends.
         */
        public Builder actorSystem(ActorSystem<?> system) {
            this.system = system;
            return this;
        }

        /**
         * Multiply a leading Linear layer out once per run ({@link FirstLayerProducts}; numbers equal to the direct
         * evaluation up to float32 rounding) instead of running it at every point; default
         * {@value #PRECOMPUTE_FIRST_LAYER_DEFAULT} or the system property {@value #PRECOMPUTE_FIRST_LAYER_PROP_NAME}.
         */
        public Builder precomputeFirstLayer(boolean precompute) {
            this.precomputeFirstLayer = precompute;
            return this;
        }

        /** Another scheduler built over the evaluator factory (e.g. to wrap the evaluators); default actors. */
        public Builder scheduler(java.util.function.Function<PointEvaluator.Factory, PointScheduler> scheduler) {
            this.scheduler = scheduler;
            return this;
        }

        public Builder kernels(KernelBackend kernels) {
            this.kernels = kernels;
            return this;
        }

        /** Keep partial results in this file and resume from it; {@code fresh} discards an earlier run's. */
        public Builder partial(Path partial, boolean fresh) {
            this.partial = partial;
            this.fresh = fresh;
            return this;
        }

        public Builder listener(LandscapeRun.Listener listener) {
            this.listener = listener == null ? LandscapeRun.Listener.NONE : listener;
            return this;
        }

        public Builder cancelled(BooleanSupplier cancelled) {
            this.cancelled = cancelled == null ? () -> false : cancelled;
            return this;
        }

        public LandscapeJob build() {
            if (model == null || projection == null || train == null || d1 == null) {
                throw new IllegalArgumentException("landscape: model, projection, train data and a direction are "
                        + "required");
            }
            if (projection.directions() == 2 && d2 == null) {
                throw new IllegalArgumentException("a plane needs two directions");
            }
            long bytes = model.params().byteSize();
            for (MemorySegment s : new MemorySegment[] {d1, d2, base}) {
                if (s != null && s.byteSize() < bytes) {
                    throw new IllegalArgumentException("a direction or base holds " + s.byteSize()
                            + " bytes, the model's parameters " + bytes);
                }
            }
            if (evalBatch < 1 || evaluators < 1) {
                throw new IllegalArgumentException("eval batch and evaluators must be >= 1, was " + evalBatch + ", "
                        + evaluators);
            }
            if (base == null) {
                base = model.params().segment();
            }
            if (architecture == null) {
                String spec = model.spec();
                architecture = () -> Model.fromSpec(spec);
            }
            if (kernels == null) {
                kernels = Kernels.backend();
            }
            return new LandscapeJob(this);
        }
    }
}
