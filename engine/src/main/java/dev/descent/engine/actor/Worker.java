package dev.descent.engine.actor;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.GradientPass;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Forward/backward of one worker under the job's backprop strategy, into the gradient slab of its own model
 * (sync: a replica sharing the job's parameter slab, worker 0 uses the job's model itself; async: a full replica
 * the parameter server refreshes). Pulls batches from the {@link DataLoader}, at most one ahead.
 *
 * <p>Sync: computes rows {@code [rows*w/W, rows*(w+1)/W)} of step s's batch once the aggregator has applied step
 * s-1 ({@link Proceed}), sends {@link GradientAggregator.GradientReady}. Async: computes whole batches, sends
 * {@link ParameterServer.GradientReady} and waits for {@link Proceed} (gradient applied, replica refreshed) or
 * {@link Recompute} (too stale: replica refreshed, compute again).
 *
 * <p>Failure: an exception while computing is reported to the supervisor and rethrown, so supervision restarts
 * the worker (fresh buffers) and the step is retried from the batch it still holds; after {@code maxRetries}
 * failed attempts of one step the worker gives up and the job fails with the cause. The per-worker
 * {@link State} outlives restarts.
 */
public final class Worker extends AbstractBehavior<Worker.Command> {

    /** The worker's protocol. */
    public sealed interface Command {
    }

    /** A batch is ready in pool slot {@code slot} (reply to {@link DataLoader.Pull}). */
    public record BatchReady(int slot, long seq, int epoch, int batchInEpoch, int rows) implements Command {
    }

    /** No batches left. */
    public enum EndOfData implements Command {
        INSTANCE
    }

    /** Parameters now include {@code applied} updates; go on. */
    public record Proceed(long applied) implements Command {
    }

    /** Async: the last gradient was too stale and was dropped; the replica is fresh; compute the batch again. */
    public record Recompute(long applied) implements Command {
    }

    private enum Retry implements Command {
        INSTANCE
    }

    /** What a worker needs, fixed for the job. */
    public record Setup(int index, int workers, JobSpec spec, Model model, DataLoader.Pool pool,
                        ActorRef<DataLoader.Command> loader, ActorRef<GradientAggregator.Command> aggregator,
                        ActorRef<ParameterServer.Command> server, ActorRef<JobSupervisor.Command> supervisor,
                        long startApplied) {
    }

    /** Survives restarts: the batch in hand and the attempt count. */
    static final class State {
        BatchReady current;
        BatchReady next;
        boolean pullOutstanding;
        boolean sent;
        boolean ended;
        boolean started;
        boolean memoryReported;
        long applied;
        int attempts;
    }

    private final Setup s;
    private final State st;
    private final boolean sync;
    private final GradientPass pass;

    /** The worker, supervised: restarted on exceptions (its retry budget is counted in {@link State}). */
    public static Behavior<Command> create(Setup setup) {
        State state = new State();
        state.applied = setup.startApplied();
        return Behaviors.supervise(Behaviors.<Command>setup(ctx -> new Worker(ctx, setup, state)))
                .onFailure(Exception.class, SupervisorStrategy.restart().withLoggingEnabled(false));
    }

    private Worker(ActorContext<Command> ctx, Setup s, State st) {
        super(ctx);
        this.s = s;
        this.st = st;
        this.sync = s.spec().mode() == JobSpec.Mode.SYNC;
        JobSpec j = s.spec();
        int maxRows = sync ? (j.batchSize() + s.workers() - 1) / s.workers() : j.batchSize();
        this.pass = new GradientPass(s.model(), j.kernels(), j.loss(), j.strategy(), maxRows,
                j.threadsPerWorker(), j.seed(), j.microBatch(), j.optimizer());
        if (!st.started) {
            st.started = true;
            pull();
        } else if (st.current != null && !st.sent) {
            ctx.getSelf().tell(Retry.INSTANCE); // restarted mid-step: retry it
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(BatchReady.class, this::onBatch)
                .onMessage(Proceed.class, this::onProceed)
                .onMessage(Recompute.class, this::onRecompute)
                .onMessageEquals(EndOfData.INSTANCE, this::onEnd)
                .onMessageEquals(Retry.INSTANCE, this::tryCompute)
                .onSignal(PreRestart.class, sig -> close())
                .onSignal(PostStop.class, sig -> close())
                .build();
    }

    private Behavior<Command> close() {
        pass.close();
        return this;
    }

    private void pull() {
        if (!st.pullOutstanding && !st.ended && st.next == null) {
            st.pullOutstanding = true;
            s.loader().tell(new DataLoader.Pull(s.index(), getContext().getSelf()));
        }
    }

    private Behavior<Command> onBatch(BatchReady b) throws Exception {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        st.pullOutstanding = false;
        st.next = b;
        Behavior<Command> next = tryCompute();
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.WORKER_BATCH, begin);
        }
        return next;
    }

    private Behavior<Command> onEnd() {
        st.pullOutstanding = false;
        st.ended = true;
        return this;
    }

    private Behavior<Command> onProceed(Proceed p) throws Exception {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        st.applied = p.applied();
        if (!sync && st.current != null) {
            s.loader().tell(new DataLoader.Release(st.current.slot()));
            st.current = null;
            st.sent = false;
        }
        Behavior<Command> next = tryCompute();
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.WORKER_PROCEED, begin);
        }
        return next;
    }

    private Behavior<Command> onRecompute(Recompute r) throws Exception {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        st.applied = r.applied();
        st.sent = false;
        Behavior<Command> next = tryCompute();
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.WORKER_RECOMPUTE, begin);
        }
        return next;
    }

    private Behavior<Command> tryCompute() throws Exception {
        if (st.current == null && st.next != null) {
            st.current = st.next;
            st.next = null;
        }
        BatchReady b = st.current;
        if (b == null || st.sent || (sync && st.applied != b.seq())) {
            pull();
            return this;
        }
        int lo = sync ? (int) ((long) b.rows() * s.index() / s.workers()) : 0;
        int hi = sync ? (int) ((long) b.rows() * (s.index() + 1) / s.workers()) : b.rows();
        int rows = hi - lo;
        double loss = 0;
        int correct = 0;
        // a lone sync worker and every async worker measure their batch on their own (the half-batch probe when it
        // is one micro-batch); several sync workers' shards are the aggregator's units
        pass.measureUnits(s.spec().measuresNoiseScale(b.seq()), !sync || s.workers() == 1);
        if (rows > 0) {
            try {
                s.spec().faults().beforeShard(s.index(), b.seq(), st.attempts);
                loss = pass.run(s.pool().features(b.slot()), (long) lo * s.model().inputSize(),
                        s.pool().labels(b.slot()), lo, rows, b.seq());
            } catch (Exception e) {
                st.attempts++;
                if (st.attempts > s.spec().maxRetries()) {
                    s.supervisor().tell(new JobSupervisor.Fail(new WorkerFailedException(s.index(), b.seq(),
                            st.attempts, e)));
                    st.sent = true; // hold still: the job is failing
                    return this;
                }
                s.supervisor().tell(new JobSupervisor.WorkerRetry(s.index(), b.seq(), st.attempts, e.toString()));
                throw e;
            }
            if (!Double.isFinite(loss)) {
                s.supervisor().tell(new JobSupervisor.NonFinite(s.index(), b.seq(), b.epoch(), loss));
                st.sent = true;
                return this;
            }
            correct = pass.correct();
            if (!st.memoryReported && s.index() == 0) {
                st.memoryReported = true;
                s.supervisor().tell(new JobSupervisor.Publish(new TrainingEvent.BackpropMemory(s.spec().name(),
                        b.seq(), s.spec().strategy().name(), pass.ledger().peakBytes(),
                        pass.ledger().forwardEvaluations())));
            }
        }
        st.attempts = 0;
        if (sync) {
            st.current = null;
            // the aggregator first: the dispatcher runs its mailbox before the loader's (the step waits for it)
            s.aggregator().tell(new GradientAggregator.GradientReady(s.index(), b.seq(), b.epoch(),
                    b.batchInEpoch(), loss, correct, rows, rows > 0 ? pass.units() : 0,
                    rows > 0 ? pass.unitSquares() : 0, rows > 0 ? pass.batchSquares() : 0, getContext().getSelf()));
            s.loader().tell(new DataLoader.Release(b.slot()));
        } else {
            st.sent = true;
            s.server().tell(new ParameterServer.GradientReady(s.index(), st.applied, loss, correct, rows,
                    rows > 0 ? pass.units() : 0, rows > 0 ? pass.unitSquares() : 0,
                    rows > 0 ? pass.batchSquares() : 0, getContext().getSelf()));
        }
        pull();
        return this;
    }

    /** A worker failed the same step more often than allowed; the cause is the last attempt's exception. */
    public static final class WorkerFailedException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public WorkerFailedException(int worker, long step, int attempts, Throwable cause) {
            super("worker " + worker + " failed step " + step + " " + attempts + " times; last error: " + cause,
                    cause);
        }
    }
}
