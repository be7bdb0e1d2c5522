package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.landscape.LandscapeJob;
import dev.descent.engine.landscape.PointEvaluator;
import dev.descent.engine.landscape.PointResult;
import dev.descent.engine.landscape.PointScheduler;
import dev.descent.engine.landscape.Projection;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The landscape counterpart of {@link KernelWarmup}: while a landscape plan's datasets load and its directions are
 * drawn, a daemon thread evaluates points of a private landscape job with the plan's model, loss, evaluation batch,
 * BatchNorm mode and first-layer precomputation, on random inputs of one evaluation batch and random directions, so
 * that C2 has compiled the point evaluation (the fused first layer, the tail's forward pass and the loss) before the
 * real points start. In a fresh JVM the real run otherwise spends most of its first seconds in slow Vector API code.
 * {@link #close()} stops it and waits for its current point; the plan's model parameters are only read and nothing of
 * the real run is shared, so results are unchanged bit for bit. {@code -Ddescent.warmup=false} turns it off.
 */
final class LandscapeWarmup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LandscapeWarmup.class);
    /** An upper bound: the warm-up normally ends when the datasets are open. */
    private static final int MAX_POINTS = 5000;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong points = new AtomicLong();
    private final Thread thread;

    private LandscapeWarmup(LandscapePlan plan, Model centre) {
        thread = KernelWarmup.enabled() ? Thread.ofPlatform().daemon().name("descent-landscape-warmup")
                .unstarted(() -> run(plan, centre)) : null;
    }

    /** Starts warming the point evaluation of {@code plan} around {@code centre} (read only); close it before the run. */
    static LandscapeWarmup start(LandscapePlan plan, Model centre) {
        LandscapeWarmup w = new LandscapeWarmup(plan, centre);
        if (w.thread != null) {
            w.thread.start();
        }
        return w;
    }

    /** Points the warm-up evaluated. */
    long points() {
        return points.get();
    }

    private void run(LandscapePlan plan, Model centre) {
        int rows = Math.max(1, plan.evalBatch);
        int in = centre.inputSize();
        long floats = centre.layout().totalFloats();
        SplittableRandom random = new SplittableRandom(plan.seed);
        float[] x = new float[Math.multiplyExact(rows, in)];
        int[] y = new int[rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble();
        }
        for (int i = 0; i < rows; i++) {
            y[i] = random.nextInt(centre.outputSize());
        }
        float[] d1 = new float[Math.toIntExact(floats)];
        float[] d2 = new float[d1.length];
        for (int i = 0; i < d1.length; i++) {
            d1[i] = (float) (random.nextGaussian() * 1e-2);
            d2[i] = (float) (random.nextGaussian() * 1e-2);
        }
        try (Dataset data = Dataset.of("warm-up", x, y, centre.nodeShape(0), centre.outputSize())) {
            LandscapeJob.Builder job = LandscapeJob.builder().model(centre).base(centre.params().segment())
                    .directions(MemorySegment.ofArray(d1), MemorySegment.ofArray(d2))
                    .projection(Projection.plane(1.0, 71)).train(data).test(data).loss(plan.loss.engine())
                    .evalBatch(rows).bn(plan.batchNorm.engine()).evaluators(1)
                    .scheduler(OnThisThread::new).cancelled(() -> stop.get() || points.get() >= MAX_POINTS)
                    .listener((done, total, last) -> points.incrementAndGet());
            if (plan.precomputeFirstLayer != null) {
                job.precomputeFirstLayer(plan.precomputeFirstLayer);
            }
            job.build().run();
        } catch (Exception | Error e) { // a warm-up never fails a run: the real run reports real problems
            LOG.debug("landscape warm-up stopped: {}", e.toString());
        }
    }

    /** One evaluator on the warm-up's own thread: no actor system to start. */
    private record OnThisThread(PointEvaluator.Factory factory) implements PointScheduler {
        @Override
        public void run(Projection projection, int[] pending, Consumer<PointResult> sink, BooleanSupplier cancelled) {
            try (PointEvaluator e = factory.create(0)) {
                for (int i : pending) {
                    if (cancelled.getAsBoolean()) {
                        return;
                    }
                    sink.accept(e.evaluate(i, projection.a(i), projection.b(i)));
                }
            } catch (Exception ex) {
                throw new IllegalStateException(ex);
            }
        }

        @Override
        public int evaluators() {
            return 1;
        }
    }

    @Override
    public void close() {
        stop.set(true);
        if (thread == null) {
            return;
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("landscape warm-up: {} point(s)", points.get());
    }
}
