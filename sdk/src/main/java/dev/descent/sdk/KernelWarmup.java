package dev.descent.sdk;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.train.TrainingStep;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the exact kernels of a plan's model while its datasets load. Vector API code runs far below speed until C2
 * has compiled it, and on two cores C2 compiles one method at a time: the first epoch of the default MLP ran ~5x
 * slower than the next (21k against 117k examples/s on a Zen 5 core). So a daemon thread trains a private copy of the
 * model (same architecture, loss, optimizer and backprop strategy; random inputs and labels) while the datasets open,
 * and C2 compiles what the real run will call. Opening Fashion-MNIST used to take ~1.4 s, longer than the warm-up
 * needs; mapped from its file ({@link dev.descent.engine.data.Dataset#ofUnitBytes}) it takes ~0.05 s, so
 * {@link #close()} now lets the warm-up finish first: until its step time stops falling (over
 * {@value #PLATEAU_STEPS} steps, no more than 10% faster than the {@value #PLATEAU_STEPS} before), at most
 * {@value #SETTLE_MS} ms from its start. A run that started at once spent its first epoch in the interpreter and C1
 * (~31k against ~105k examples/s on the default MLP's first epoch); one that waited for the compiler to go idle
 * instead waited the full bound, because C2 never is for long (docs/performance.md).
 *
 * <p>The steps are small ({@value #ROWS} rows, or the batch if smaller): the JIT's compile thresholds count calls
 * and loop iterations, not data, and before C2 has compiled them the kernels run at a small fraction of their speed,
 * so a full batch spent most of the load time in one slow step (one 1.3 s step for the width-1024 MLP's batch of
 * 512) while small steps reach the thresholds many times sooner. When the run will use them (see {@link Paths}),
 * every other step also measures the gradient noise scale with the half-batch probe, and each step runs the
 * elementwise kernels of the update side (norms, the sync workers' weighted sum) over the first
 * {@value #UPDATE_FLOATS} floats of the gradient: those paths otherwise met the interpreter in the middle of training
 * (a 0.2-0.4 s stall at the first noise-scale step of a width-1024 job).
 * Paths the run will not take are left alone: compiling them costs C2 time the run's own kernels are waiting for.
 *
 * <p>A plain MLP (linear, activation, dropout and flatten layers) is warmed with its hidden widths capped at
 * {@value #WIDTH}: the kernels are the same methods at any width, and a narrow step is many times shorter while
 * they still run interpreted or in C1, so the warm-up runs many steps instead of a few. The width-1024 MLP did a
 * single 32-row step in the whole load time; the run's own first steps then met the interpreter (0.57 s, 0.30 s,
 * 0.15 s and 0.12 s against 22 ms later for each of 2 workers). Other architectures are warmed as they are.
 *
 * <p>{@link #close()} then stops it and waits for its current step before training starts, so the run never shares a
 * core with it; the job's model, data and random streams are never touched, so results are unchanged bit for bit.
 * {@code -Ddescent.warmup=false} turns it off.
 */
final class KernelWarmup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelWarmup.class);
    /** An upper bound: the warm-up normally ends when the datasets are open. */
    private static final int MAX_STEPS = 3000;
    /**
     * Rows per warm-up step: several row tiles of every micro-kernel shape (2-12 rows), full ones and, for the
     * heights that do not divide 32, a partial one, as a real batch has.
     */
    static final int ROWS = 32;
    /**
     * Hidden widths of a plain MLP above this are warmed at this width: two column panels of the widest 512-bit tile,
     * and whole row tiles of the 8-row ones.
     */
    static final int WIDTH = 64;
    /**
     * Floats of the gradient the update side's kernels run over per warm-up step. They are the same methods at any
     * length, and until C2 has compiled them a pass over a whole gradient costs milliseconds per step (15-25 ms for
     * the narrow MLP's 55,056 floats, which cut a two-worker job's warm-up to 4-22 steps against hundreds without
     * them). This length has whole vectors and a partial one on every vector width (16, 8 and 4 floats), and on 16-
     * and 8-float vectors it makes C2's call threshold for the launcher's scaled kernels (30 calls, 750 calls plus
     * loop iterations) come before its loop threshold (2,000 iterations): C2 compiles them whole, not on stack.
     */
    static final long UPDATE_FLOATS = 403;
    private static final Set<String> PLAIN = Set.of("linear", "activation", "dropout", "flatten");
    /** The longest warm-up, from its start, that a run waits for once its datasets are open. */
    static final long SETTLE_MS = 2000;
    /**
     * Steps per window of the plateau test: the default MLP's warm-up steps fall from ~25 ms to ~0.1 ms between its
     * 10th and 100th step and then stay there; in a JVM that is already warm the test costs two windows, ~15 ms.
     */
    static final int PLATEAU_STEPS = 64;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong steps = new AtomicLong();
    private final Thread thread;
    private double sink; // keeps the warm-up's norms live
    private final long started = System.nanoTime();
    private volatile boolean settled;

    /**
     * The paths besides forward, backward and the optimizer step that the run will take.
     *
     * @param noiseProbe a lone worker measures the gradient noise scale with the half-batch probe
     * @param updateSide the update side runs elementwise kernels over the whole gradient: norms (noise scale,
     *                   statistics, clipping) or the sync workers' weighted sum
     */
    record Paths(boolean noiseProbe, boolean updateSide) {
        /** In-process training: the noise scale and statistics are measured only for listeners. */
        static Paths inProcess(TrainingPlan plan) {
            boolean probe = InProcessTraining.noiseEvery(plan) > 0;
            return new Paths(probe, probe || plan.clipNorm > 0 || InProcessTraining.statsEvery(plan) > 0);
        }

        /** An engine job with {@code workers} local workers: it always publishes its measurements. */
        static Paths engine(TrainingPlan plan, int workers) {
            boolean sync = plan.mode != TrainingPlan.Mode.ASYNC;
            boolean noise = plan.noiseScaleEvery > 0;
            return new Paths(noise && (workers == 1 || !sync),
                    noise || plan.clipNorm > 0 || plan.gradientStatsEvery > 0 || (sync && workers > 1));
        }
    }

    private KernelWarmup(TrainingPlan plan, Paths paths, boolean computesHere) {
        thread = computesHere && enabled()
                ? Thread.ofPlatform().daemon().name("descent-kernel-warmup").unstarted(() -> run(plan, paths))
                : null;
    }

    /**
     * Starts warming {@code plan}'s kernels, and {@code paths}, unless warm-up is off or the steps run elsewhere
     * ({@code computesHere} false: a cluster job's submitter); close it before training starts.
     */
    static KernelWarmup start(TrainingPlan plan, Paths paths, boolean computesHere) {
        KernelWarmup w = new KernelWarmup(plan, paths, computesHere);
        if (w.thread != null) {
            w.thread.start();
        }
        return w;
    }

    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("descent.warmup", "true"));
    }

    /** Whether the warm-up's step time had stopped falling when it ended (see {@link #close()}). */
    boolean settled() {
        return settled;
    }

    /** Steps the warm-up ran (0 when off or when the datasets were open before its first step ended). */
    long steps() {
        return steps.get();
    }

    private void run(TrainingPlan plan, Paths paths) {
        int batch = Math.max(1, Math.min(plan.batchSize, ROWS));
        try (Model model = warmupModel(plan.model.instantiate(), plan.seed);
             TrainingStep step = new TrainingStep(model, Kernels.backend(), plan.loss.engine(),
                     plan.optimizer.engine(), LrSchedule.constant(1e-6), plan.backprop.engine(), batch, 0, 1,
                     plan.seed, plan.microBatch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * model.inputSize(), Purpose.WORKSPACE);
             OffHeapBlock pixels = OffHeapBlock.allocate((long) batch * model.inputSize(), Purpose.WORKSPACE);
             OffHeapBlock y = OffHeapBlock.allocate((long) batch * Integer.BYTES, Purpose.WORKSPACE)) {
            SplittableRandom random = new SplittableRandom(plan.seed);
            MemorySegment xs = x.segment();
            long inputs = (long) batch * model.inputSize();
            for (long i = 0; i < inputs; i++) {
                pixels.segment().set(ValueLayout.JAVA_BYTE, i, (byte) random.nextInt(256));
            }
            for (int i = 0; i < batch; i++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt(model.outputSize()));
            }
            MemorySegment g = model.grads().segment();
            long floats = Math.min(model.layout().totalFloats(), UPDATE_FLOATS);
            KernelBackend kernels = step.kernels();
            long[] ends = new long[2 * PLATEAU_STEPS + 1]; // end times of the last steps, a ring
            while (!stop.get() && steps.get() < MAX_STEPS) {
                // the inputs arrive as a batch of an IDX dataset does: bytes widened to floats
                kernels.unitBytesToFloats(pixels.segment(), 0, xs, 0, inputs);
                step.pass().measureUnits(paths.noiseProbe() && steps.get() % 2 == 1, true);
                step.run(xs, 0, y.segment(), 0, batch, 0);
                if (paths.updateSide()) { // on the private copy's gradient: the values do not matter
                    sink += kernels.sumSquares(g, 0, floats);
                    kernels.scale(g, 0, 1f, floats);
                    kernels.axpy(g, 0, 0f, g, 0, floats);
                }
                long n = steps.incrementAndGet();
                ends[(int) (n % ends.length)] = System.nanoTime();
                if (!settled && n > 2 * PLATEAU_STEPS) {
                    long last = ends[(int) (n % ends.length)] - ends[(int) ((n - PLATEAU_STEPS) % ends.length)];
                    long before = ends[(int) ((n - PLATEAU_STEPS) % ends.length)]
                            - ends[(int) ((n - 2 * PLATEAU_STEPS) % ends.length)];
                    settled = last * 10 >= before * 9;
                }
            }
        } catch (RuntimeException | Error e) { // a warm-up never fails a run: the real step reports real problems
            LOG.debug("kernel warm-up stopped: {}", e.toString());
        }
    }

    /**
     * The model the warm-up trains: {@code full} itself, or (closing {@code full}) the same layers with the linear
     * layers' widths capped at {@link #WIDTH} when it is a plain MLP with a wider layer.
     */
    static Model warmupModel(Model full, long seed) {
        String narrow = narrowedSpec(full.spec());
        if (narrow == null) {
            return full;
        }
        full.close();
        return Model.fromSpec(narrow).initialize(Init.parse("kaiming-normal"), Init.ZEROS, seed);
    }

    /** {@code spec} with every {@code linear N} above {@link #WIDTH} at that width; null when not plain or not wider. */
    static String narrowedSpec(String spec) {
        String[] lines = spec.split("\n");
        boolean wider = false;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            String[] t = lines[i].strip().split("\\s+");
            if (i >= 2 && !PLAIN.contains(t[0])) {
                return null;
            }
            if (i >= 2 && t[0].equals("linear") && Integer.parseInt(t[1]) > WIDTH) {
                t[1] = Integer.toString(WIDTH);
                wider = true;
            }
            out.append(i >= 2 ? String.join(" ", t) : lines[i]).append('\n');
        }
        return wider ? out.toString() : null;
    }

    /** Until the warm-up's step time has stopped falling, it has ended, or {@link #SETTLE_MS} from its start. */
    private void awaitSettled() {
        long deadline = started + SETTLE_MS * 1_000_000L;
        while (!settled && thread.isAlive() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Override
    public void close() {
        if (thread == null) {
            stop.set(true);
            return;
        }
        long waitFrom = System.nanoTime();
        awaitSettled();
        long waited = System.nanoTime() - waitFrom;
        stop.set(true);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("kernel warm-up: {} step(s) ({}), the last {} ms of it after the datasets were open", steps.get(),
                settled ? "settled" : "not settled", waited / 1_000_000);
    }
}
