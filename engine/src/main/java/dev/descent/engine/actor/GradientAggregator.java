package dev.descent.engine.actor;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.KernelPool;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.optim.SlabChunks;
import dev.descent.engine.train.GradientNoiseScale;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Sync data parallelism: collects the W shard gradients of a step, sums them into the job's gradient slab with
 * fixed weights (rows of shard w / rows of the batch) in worker order 0..W-1 — a fixed reduction order, so a run
 * is bit-reproducible for a given W — then one optimizer step on the single parameter slab every worker reads.
 * With one worker nothing is summed: the update is exactly the direct trainer's. When nothing needs the whole sum
 * before the update (no clipping, statistics or noise scale on that step) the sum is written block by block inside
 * the update, each block just before it is updated, so the gradients pass through memory once: the same bits.
 *
 * <p>After the update it reports {@link JobSupervisor.StepApplied}; at a barrier (epoch end, checkpoint step,
 * last step) it waits for {@link Resume} before letting the workers start the next step, so evaluation and
 * checkpoints see stable parameters. A step whose gradients are not all in within the step timeout fails the
 * job.
 *
 * <p>Per step it allocates only the messages it sends ({@link JobSupervisor.StepApplied}, {@link Worker.Proceed}):
 * the step timeout is a watchdog timer started once, ticking every quarter of the timeout, that compares the
 * start time of the awaited step (a field) with the clock, instead of a Pekko timer cancelled and restarted per
 * step (each of which allocates). A late step therefore fails between 1 and 1.25 timeouts after it began.
 */
public final class GradientAggregator extends AbstractBehavior<GradientAggregator.Command> {

    /** The aggregator's protocol. */
    public sealed interface Command {
    }

    /**
     * Worker {@code worker}'s shard gradient of {@code step} is in its gradient slab. On a noise-scale step,
     * {@code units} is the number of its micro-batches and {@code unitSquares} = Σ rows_k·‖g_k‖² over them (else 0);
     * {@code batchSquares} is ‖g‖² of its shard as the pass measured it (what a lone worker's estimate uses: with
     * BatchNorm the half-batch probe reports the halves' mean, not the batch gradient).
     */
    public record GradientReady(int worker, long step, int epoch, int batchInEpoch, double loss, int correct,
                                int rows, int units, double unitSquares, double batchSquares,
                                ActorRef<Worker.Command> replyTo)
            implements Command {
    }

    /** The supervisor finished the barrier after {@code applied} steps; workers may go on. */
    public record Resume(long applied) implements Command {
    }

    private enum Watchdog implements Command {
        INSTANCE
    }

    private final Barriers barriers;
    private final Model[] models;
    private final Updater updater;
    private final KernelBackend kernels;
    private final ActorRef<JobSupervisor.Command> supervisor;
    private final java.util.List<ActorRef<Worker.Command>> workers;
    private final TimerScheduler<Command> timers;
    private final Duration timeout;
    private final long timeoutNanos;
    private final double[] loss;
    private final int[] rows;
    private final int[] correct;
    private final JobSpec spec;
    private final GradientNoiseScale noise = new GradientNoiseScale();
    private int units;
    private double unitSquares;
    private double loneBatchSquares; // a lone worker's own ‖g‖² measurement
    private long step;
    private boolean awaiting; // waiting for the gradients of step (false while a barrier holds the workers)
    private long awaitingSince; // System.nanoTime() when the gradients of step became due
    private int received;
    private int epoch;
    private int batchInEpoch;
    private SlabChunks chunks; // the gradient slab cut per core, laid out at the first multi-worker step
    private int reduceTotal;
    private final KernelPool.Task reduceChunk = this::reduceChunkPart;
    private final OptimizerState.GradientSource reduceBlock = this::reduceBlockRange;
    private MemorySegment[] slabs; // the workers' gradient slabs, worker order

    static Behavior<Command> create(JobSpec spec, Model[] models, Updater updater, Barriers barriers,
                                    ActorRef<JobSupervisor.Command> supervisor, long startStep) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new GradientAggregator(ctx, timers, spec, models,
                updater, barriers, supervisor, startStep)));
    }

    private GradientAggregator(ActorContext<Command> ctx, TimerScheduler<Command> timers, JobSpec spec,
                               Model[] models, Updater updater, Barriers barriers,
                               ActorRef<JobSupervisor.Command> supervisor, long startStep) {
        super(ctx);
        this.timers = timers;
        this.models = models;
        this.updater = updater;
        this.barriers = barriers;
        this.supervisor = supervisor;
        this.kernels = spec.kernels();
        this.spec = spec;
        this.timeout = spec.stepTimeout();
        int w = models.length;
        this.workers = new java.util.ArrayList<>(java.util.Collections.nCopies(w, null));
        this.loss = new double[w];
        this.rows = new int[w];
        this.correct = new int[w];
        this.step = startStep;
        this.timeoutNanos = timeout.toNanos();
        await();
        timers.startTimerWithFixedDelay(Watchdog.INSTANCE, Duration.ofNanos(Math.max(1_000_000L, timeoutNanos / 4)));
    }

    private void await() {
        awaiting = true;
        awaitingSince = System.nanoTime();
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(GradientReady.class, this::onGradient)
                .onMessage(Resume.class, this::onResume)
                .onMessageEquals(Watchdog.INSTANCE, this::onWatchdog)
                .build();
    }

    private Behavior<Command> onGradient(GradientReady g) {
        if (!HandlerProbe.ENABLED) {
            return gradient(g);
        }
        long begin = HandlerProbe.begin();
        try {
            return gradient(g);
        } finally {
            HandlerProbe.end(HandlerProbe.Handler.AGGREGATOR_GRADIENT, begin);
        }
    }

    private Behavior<Command> gradient(GradientReady g) {
        if (g.step() != step) {
            throw new IllegalStateException("worker " + g.worker() + " sent a gradient of step " + g.step()
                    + " while step " + step + " is being aggregated");
        }
        workers.set(g.worker(), g.replyTo());
        loss[g.worker()] = g.loss();
        rows[g.worker()] = g.rows();
        correct[g.worker()] = g.correct();
        units += g.units();
        unitSquares += g.unitSquares();
        loneBatchSquares = g.batchSquares();
        epoch = g.epoch();
        batchInEpoch = g.batchInEpoch();
        if (++received < models.length) {
            return this;
        }
        received = 0;
        awaiting = false;
        int total = 0;
        int right = 0;
        for (int w = 0; w < models.length; w++) {
            total += rows[w];
            right += correct[w];
        }
        // several workers, and nothing needs the summed gradient before the update: sum it block by block inside
        // the update (one pass over memory instead of two; the same bits)
        boolean inBlocks = models.length > 1 && units == 0 && updater.takesGradientInBlocks(step);
        if (models.length > 1) {
            slabs(); // here, before the pool's threads read them
        }
        double stepLoss = models.length == 1 ? loss[0] : inBlocks ? meanLoss(total) : reduce(total);
        if (units > 0) {
            measureNoise(total);
        }
        if (inBlocks) {
            updater.apply(step, reduceBlock);
        } else {
            updater.apply(step);
        }
        long applied = ++step;
        if (updater.lastStats() != null) {
            supervisor.tell(new JobSupervisor.Publish(updater.lastStats()));
        }
        boolean barrier = barriers.isBarrier(applied);
        supervisor.tell(new JobSupervisor.StepApplied(applied - 1, epoch, batchInEpoch, stepLoss, right, total,
                updater.lastLearningRate(), updater.lastGradientNorm(), barrier));
        if (!barrier) {
            proceed(applied);
        }
        return this;
    }

    /**
     * g = sum_w (rows_w / total) * g_w into worker 0's slab (the job's), workers in index order, each element
     * summed in the same order whatever thread does it: the slab is cut into one chunk per core (the workers are
     * idle meanwhile), so the result does not depend on the chunking.
     */
    private double reduce(int total) {
        double mean = meanLoss(total);
        if (chunks == null) {
            chunks = new SlabChunks(models[0].layout().totalFloats(), Math.min(models.length, Kernels.pool().size()));
        }
        Kernels.pool().run(chunks.parts(), reduceChunk);
        return mean;
    }

    /** The batch's mean loss from the shards' (weighted by their rows); sets the total the sums weight by. */
    private double meanLoss(int total) {
        double lossSum = 0;
        for (int w = 0; w < models.length; w++) {
            if (rows[w] > 0) {
                lossSum += loss[w] * rows[w];
            }
        }
        reduceTotal = total;
        return lossSum / total;
    }

    /**
     * The workers' gradient slabs. Laid out on the actor's thread before a sum is handed to the kernel pool (the
     * pool's threads call this concurrently: a lazy fill there let one thread see the array before its entries, a
     * null slab, once in a CI run), and built whole before it is published.
     */
    private MemorySegment[] slabs() {
        MemorySegment[] s = slabs;
        if (s == null) {
            s = new MemorySegment[models.length];
            for (int w = 0; w < models.length; w++) {
                s[w] = models[w].grads().segment();
            }
            slabs = s;
        }
        return s;
    }

    private void reduceChunkPart(int part, int parts) {
        long n = chunks.length(part);
        if (n > 0) {
            reduceBlockRange(chunks.start(part), n);
        }
    }

    /** Floats [from, from + n) of the weighted sum: a chunk of {@link #reduce}, or a block of the update's. */
    private void reduceBlockRange(long from, long n) {
        MemorySegment[] g = slabs();
        int total = reduceTotal;
        if (rows[0] > 0) {
            kernels.scale(g[0], from, (float) ((double) rows[0] / total), n);
        } else {
            g[0].asSlice(from * Float.BYTES, n * Float.BYTES).fill((byte) 0); // a batch with fewer rows than workers
        }
        for (int w = 1; w < models.length; w++) {
            if (rows[w] > 0) {
                kernels.axpy(g[0], from, (float) ((double) rows[w] / total), g[w], from, n);
            }
        }
    }

    /** Adds this step's parts to the noise scale estimate (before clipping) and publishes it. */
    private void measureNoise(int total) {
        double batchSquares = models.length == 1 && loneBatchSquares > 0 ? loneBatchSquares
                : kernels.sumSquares(models[0].grads().segment(), 0, models[0].layout().totalFloats());
        int k = units;
        if (noise.add(unitSquares, k, batchSquares, total)) {
            supervisor.tell(new JobSupervisor.Publish(new TrainingEvent.GradientNoiseScale(
                    spec.name(), step + 1, noise.value(), noise.trace(), noise.squaredNorm(), k, total)));
        }
        units = 0;
        unitSquares = 0;
    }

    private void proceed(long applied) {
        await();
        Worker.Proceed p = new Worker.Proceed(applied);
        for (int i = 0; i < workers.size(); i++) { // indexed: no iterator per step
            ActorRef<Worker.Command> w = workers.get(i);
            if (w != null) {
                w.tell(p);
            }
        }
    }

    private Behavior<Command> onResume(Resume r) {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        if (r.applied() == step) {
            proceed(step);
        }
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.AGGREGATOR_RESUME, begin);
        }
        return this;
    }

    /** Fails the job once when the awaited step is overdue; the watchdog then stops (the job is failing). */
    private Behavior<Command> onWatchdog() {
        if (awaiting && System.nanoTime() - awaitingSince >= timeoutNanos) {
            awaiting = false;
            timers.cancel(Watchdog.INSTANCE);
            supervisor.tell(new JobSupervisor.Fail(new TimeoutException("step " + step + ": only " + received + " of "
                    + models.length + " worker gradients arrived within " + timeout)));
        }
        return this;
    }
}
