package dev.descent.engine.actor;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.GradientNoiseScale;
import java.lang.foreign.MemorySegment;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;

/**
 * Async training: owns the master parameters (the job's model) and applies each worker's gradient on arrival,
 * one optimizer step per gradient, then refreshes that worker's replica. Workers measure the gradient noise scale
 * parts of every N-th batch they compute; the server smooths them into one estimate per job and publishes it. A gradient computed on parameters more
 * than {@code maxStaleness} updates old is dropped and the worker recomputes its batch on fresh parameters, so no
 * update is ever staler than the bound. Not bit-reproducible (arrival order decides); use sync mode for that.
 *
 * <p>Barriers work as in {@link GradientAggregator}: after a barrier step the server stashes further gradients
 * (at most one per worker) until {@link Resume}.
 */
public final class ParameterServer extends AbstractBehavior<ParameterServer.Command> {

    /** The server's protocol. */
    public sealed interface Command {
    }

    /**
     * Worker {@code worker}'s gradient is in its replica's gradient slab, computed on parameters that included
     * {@code basedOn} updates. On a noise-scale batch, {@code units} parts of it (micro-batches, or the two halves
     * of the half-batch probe) had Σ rows_k‖g_k‖² = {@code unitSquares} and the whole batch ‖g‖² =
     * {@code batchSquares}; {@code units} is 0 otherwise.
     */
    public record GradientReady(int worker, long basedOn, double loss, int correct, int rows, int units,
                                double unitSquares, double batchSquares,
                                ActorRef<Worker.Command> replyTo) implements Command {
    }

    /** The supervisor finished the barrier. */
    public record Resume(long applied) implements Command {
    }

    /** Step watchdog tick (internal): fails the job when no gradient was applied within the step timeout. */
    private enum Watchdog implements Command {
        INSTANCE
    }

    private final Model master;
    private final Model[] replicas;
    private final Updater updater;
    private final Barriers barriers;
    private final ActorRef<JobSupervisor.Command> supervisor;
    private final StashBuffer<Command> stash;
    private final JobStatus status;
    private final int maxStaleness;
    private final int perEpoch;
    private final String job;
    private final GradientNoiseScale noise = new GradientNoiseScale();
    private long applied;
    private boolean paused;
    private ActorRef<Worker.Command> held;
    private final java.time.Duration timeout;
    private final long timeoutNanos;
    private long lastProgress;
    private boolean timedOut;

    static Behavior<Command> create(JobSpec spec, Model[] replicas, Updater updater, Barriers barriers,
                                    ActorRef<JobSupervisor.Command> supervisor, JobStatus status, long startStep) {
        return Behaviors.withStash(2 * replicas.length + 2, stash -> Behaviors.withTimers(timers -> {
            long nanos = spec.stepTimeout().toNanos();
            timers.startTimerWithFixedDelay(Watchdog.INSTANCE, java.time.Duration.ofNanos(Math.max(1_000_000L,
                    nanos / 4)));
            return Behaviors.setup(ctx -> new ParameterServer(ctx, stash, spec, replicas, updater, barriers,
                    supervisor, status, startStep));
        }));
    }

    private ParameterServer(ActorContext<Command> ctx, StashBuffer<Command> stash, JobSpec spec, Model[] replicas,
                            Updater updater, Barriers barriers, ActorRef<JobSupervisor.Command> supervisor,
                            JobStatus status, long startStep) {
        super(ctx);
        this.stash = stash;
        this.master = spec.model();
        this.replicas = replicas;
        this.updater = updater;
        this.barriers = barriers;
        this.supervisor = supervisor;
        this.status = status;
        this.maxStaleness = spec.maxStaleness();
        this.perEpoch = spec.stepsPerEpoch();
        this.job = spec.name();
        this.applied = startStep;
        this.timeout = spec.stepTimeout();
        this.timeoutNanos = timeout.toNanos();
        this.lastProgress = System.nanoTime();
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
            HandlerProbe.end(HandlerProbe.Handler.SERVER_GRADIENT, begin);
        }
    }

    private Behavior<Command> gradient(GradientReady g) {
        if (paused) {
            stash.stash(g);
            return this;
        }
        Model replica = replicas[g.worker()];
        if (applied - g.basedOn() > maxStaleness) {
            refresh(replica);
            status.rejectedGradients++;
            g.replyTo().tell(new Worker.Recompute(applied));
            return this;
        }
        MemorySegment.copy(replica.grads().segment(), 0, master.grads().segment(), 0, master.grads().byteSize());
        lastProgress = System.nanoTime();
        long step = applied;
        updater.apply(step);
        applied++;
        refresh(replica);
        if (updater.lastStats() != null) {
            supervisor.tell(new JobSupervisor.Publish(updater.lastStats()));
        }
        if (g.units() >= 2 && noise.add(g.unitSquares(), g.units(), g.batchSquares(), g.rows())) {
            supervisor.tell(new JobSupervisor.Publish(new TrainingEvent.GradientNoiseScale(job, applied,
                    noise.value(), noise.trace(), noise.squaredNorm(), g.units(), g.rows())));
        }
        boolean barrier = barriers.isBarrier(applied);
        supervisor.tell(new JobSupervisor.StepApplied(step, (int) (step / perEpoch), (int) (step % perEpoch), g.loss(),
                g.correct(), g.rows(), updater.lastLearningRate(), updater.lastGradientNorm(), barrier));
        if (barrier) {
            paused = true;
            held = g.replyTo();
        } else {
            g.replyTo().tell(new Worker.Proceed(applied));
        }
        return this;
    }

    /**
     * Fails the job once when, outside a barrier, no gradient has been applied for the step timeout (a stalled or
     * lost worker: the others soon wait for its batch); like the sync aggregator's watchdog.
     */
    private Behavior<Command> onWatchdog() {
        if (!paused && !timedOut && System.nanoTime() - lastProgress >= timeoutNanos) {
            timedOut = true;
            supervisor.tell(new JobSupervisor.Fail(new java.util.concurrent.TimeoutException("async step " + applied
                    + ": no worker gradient was applied within " + timeout + " (a stalled worker?)")));
        }
        return this;
    }

    private void refresh(Model replica) {
        MemorySegment.copy(master.params().segment(), 0, replica.params().segment(), 0, master.params().byteSize());
    }

    private Behavior<Command> onResume(Resume r) {
        if (!paused) {
            return this;
        }
        paused = false;
        lastProgress = System.nanoTime();
        if (held != null) {
            held.tell(new Worker.Proceed(applied));
            held = null;
        }
        return stash.unstashAll(this);
    }
}
