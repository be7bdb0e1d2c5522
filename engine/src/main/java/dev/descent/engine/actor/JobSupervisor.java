package dev.descent.engine.actor;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.train.DivergenceGuard;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.TrainingResult;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One per job: builds the job's memory (model replicas, optimizer state, batch pool, the last good snapshot),
 * restores a checkpoint ({@link CheckpointMeta}), spawns and watches the {@link DataLoader}, the {@link Worker}s, the
 * {@link GradientAggregator} (sync) or {@link ParameterServer} (async), the {@link ModelKeeper}, the
 * {@link CheckpointStore} and the {@link EvaluationFanOut}, publishes the job's {@link TrainingEvent}s in order,
 * keeps the epoch accounting ({@link EpochLedger}) and runs the barrier ({@link BarrierSequence}): at an epoch end the
 * test evaluation, then the last good model and its files, then a due checkpoint, then the updater resumes. The work of each step runs
 * in the child that owns it; file and checkpoint I/O on the blocking dispatcher. Any failure — a worker out of
 * retries, a non-finite or exploding loss, a step timeout, a child that died — stops the whole job (children
 * first, then this actor frees the memory) and completes the future exceptionally with the cause; other jobs are
 * untouched.
 */
public final class JobSupervisor extends AbstractBehavior<JobSupervisor.Command> {
    private static final Logger LOG = LoggerFactory.getLogger(JobSupervisor.class);
    /** A job fails after this many failed checkpoint writes in a row (a full or read-only disk, a lost mount). */
    public static final int MAX_FAILED_CHECKPOINT_WRITES = 3;

    /** The supervisor's protocol. */
    public sealed interface Command {
    }

    /** Step {@code step} (0-based) was applied; {@code barrier}: the updater waits for the barrier work. */
    public record StepApplied(long step, int epoch, int batchInEpoch, double loss, int correct, int rows,
                              double learningRate, double gradientNorm, boolean barrier) implements Command {
    }

    /** Publish an event produced by a child. */
    public record Publish(TrainingEvent event) implements Command {
    }

    /** A worker failed a step and is being restarted to retry it. */
    public record WorkerRetry(int worker, long step, int attempt, String cause) implements Command {
    }

    /** A worker's loss was NaN/Inf at {@code step}. */
    public record NonFinite(int worker, long step, int epoch, double loss) implements Command {
    }

    /** Fail the job with {@code cause}. */
    public record Fail(Throwable cause) implements Command {
    }

    /** Stop the job; its future completes with a CancellationException. */
    public enum Cancel implements Command {
        INSTANCE
    }

    /** Write a checkpoint at the next step boundary (needs a checkpoint folder). */
    public enum CheckpointNow implements Command {
        INSTANCE
    }

    private record EvalReply(EvaluationFanOut.Reply reply) implements Command {
    }

    private record KeeperReply(ModelKeeper.Reply reply) implements Command {
    }

    private record StoreReply(CheckpointStore.Reply reply) implements Command {
    }

    private final JobSpec spec;
    private final JobStatus status;
    private final CompletableFuture<TrainingResult> future;
    private final Deque<AutoCloseable> owned;
    private final Model model;
    private final OptimizerState optimizer;
    private final Updater updater;
    private final Barriers barriers;
    private final EpochLedger ledger;
    private final long endStep;
    private final long wallStart = System.nanoTime();
    private final DivergenceGuard divergence = new DivergenceGuard();
    private final ActorRef<EvaluationFanOut.Reply> evalReplies;
    private final ActorRef<ModelKeeper.Reply> keeperReplies;
    private final ActorRef<CheckpointStore.Reply> storeReplies;
    private ActorRef<GradientAggregator.Command> aggregator;
    private ActorRef<ParameterServer.Command> server;
    private ActorRef<ModelKeeper.Command> keeper;
    private ActorRef<CheckpointStore.Command> store;
    private ActorRef<EvaluationFanOut.Command> evaluation;
    /** The actors that change the model: loader, workers, aggregator or server (stopped first on divergence). */
    private final Set<ActorRef<?>> compute = new HashSet<>();

    private final BarrierSequence barrier;
    private long evalRequest;
    private int failedWritesInARow;
    // outcome
    private NonFiniteLossException diverged; // the model is being restored to its last good state
    private TrainingResult result;
    private Throwable failure;

    /**
     * The supervisor of one job. {@code future} completes once the job has stopped and freed its memory;
     * {@code childProps} selects the dispatcher of the compute actors.
     */
    public static Behavior<Command> create(JobSpec spec, JobStatus status, CompletableFuture<TrainingResult> future,
                                           Props childProps) {
        if (!spec.concluded()) {
            spec.conclude();
        }
        return Behaviors.setup(ctx -> {
            Deque<AutoCloseable> owned = new ArrayDeque<>();
            try {
                JobSupervisor s = new JobSupervisor(ctx, spec, status, future, childProps, owned);
                if (s.result != null) { // resumed from a checkpoint of a finished run
                    s.onPostStop();
                    return Behaviors.stopped();
                }
                return s;
            } catch (Exception | Error e) {
                closeAll(owned);
                status.state = JobStatus.State.FAILED;
                future.completeExceptionally(e);
                return Behaviors.stopped();
            }
        });
    }

    private JobSupervisor(ActorContext<Command> ctx, JobSpec spec, JobStatus status,
                          CompletableFuture<TrainingResult> future, Props childProps, Deque<AutoCloseable> owned)
            throws Exception {
        super(ctx);
        this.spec = spec;
        this.status = status;
        this.future = future;
        this.owned = owned;
        this.model = spec.model();
        this.ledger = new EpochLedger(spec.stepsPerEpoch());
        this.endStep = (long) spec.stepsPerEpoch() * spec.epochs();
        status.totalSteps = endStep;
        status.epochs = spec.epochs();
        this.optimizer = own(new OptimizerState(spec.optimizer(), model));
        LrSchedule base = spec.schedule() == null ? LrSchedule.constant(spec.optimizer().learningRate())
                : spec.schedule();
        this.updater = own(new Updater(spec, optimizer, base.resolve(Math.max(1, endStep))));
        CheckpointDirectory dir = spec.checkpointDir() == null ? null
                : new CheckpointDirectory(spec.checkpointDir(), spec.keepCheckpoints());
        if (spec.resume() && dir != null) {
            CheckpointMeta.resumeNewest(dir, spec, model, optimizer, ledger,
                    why -> publish(new TrainingEvent.Anomaly(spec.name(), 0, "checkpoint-corrupt", why)));
        }
        this.barriers = new Barriers(spec.stepsPerEpoch(), endStep, spec.checkpointEverySteps());
        this.barrier = new BarrierSequence(endStep, spec.checkpointEverySteps(), dir != null);
        this.evalReplies = ctx.messageAdapter(EvaluationFanOut.Reply.class, EvalReply::new);
        this.keeperReplies = ctx.messageAdapter(ModelKeeper.Reply.class, KeeperReply::new);
        this.storeReplies = ctx.messageAdapter(CheckpointStore.Reply.class, StoreReply::new);
        long applied = ledger.applied();
        status.step = applied;
        status.epoch = (int) Math.min(applied / spec.stepsPerEpoch(), Math.max(0, spec.epochs() - 1));
        if (applied >= endStep) {
            finishSuccess();
            return;
        }
        ParameterSnapshot lastGood = own(model.snapshot()); // before any child can change the model
        spawnChildren(ctx, childProps, dir, lastGood);
        if (applied == 0 && spec.trajectoryDir() != null) {
            barrier.keepSent();
            keeper.tell(new ModelKeeper.WritePoint(0, keeperReplies));
        }
        status.state = JobStatus.State.RUNNING;
        ledger.startClock(System.nanoTime());
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    private void spawnChildren(ActorContext<Command> ctx, Props props, CheckpointDirectory dir,
                               ParameterSnapshot lastGood) {
        int w = spec.workers();
        long applied = ledger.applied();
        boolean sync = spec.mode() == JobSpec.Mode.SYNC;
        Model[] models = new Model[w];
        for (int i = 0; i < w; i++) {
            if (sync) {
                models[i] = i == 0 ? model : own(model.shareParameters());
            } else {
                models[i] = own(Model.fromSpec(model.spec()));
                models[i].copyParametersFrom(model); // parameters and buffers
            }
        }
        DataLoader.Pool pool = own(new DataLoader.Pool(sync ? 3 : 2 * w + 1, spec.batchSize(),
                spec.train().featureSize()));
        // file and checkpoint I/O off the compute threads
        keeper = watch(ctx.spawn(ModelKeeper.create(model, lastGood, spec.modelFile(), spec.trajectoryDir()), "model",
                DispatcherSelector.blocking()));
        if (dir != null) {
            store = watch(ctx.spawn(CheckpointStore.create(dir, model, optimizer, spec.faults()), "checkpoints",
                    DispatcherSelector.blocking()));
        }
        if (spec.test() != null) {
            String architecture = model.spec();
            evaluation = watch(ctx.spawn(EvaluationFanOut.create(spec.test(), spec.evalBatchSize(), spec.evaluators(),
                    e -> RangeEvaluator.create(e, architecture, spec.kernels(), spec.loss(), spec.evalBatchSize()),
                    props), "evaluation", props));
        }
        ActorRef<DataLoader.Command> loader = computing(ctx.spawn(DataLoader.create(spec.train(), spec.batchSize(),
                spec.seed(), pool, w, sync ? w : 1, applied, endStep), "loader", props));
        if (sync) {
            aggregator = computing(ctx.spawn(GradientAggregator.create(spec, models, updater, barriers, ctx.getSelf(),
                    applied), "aggregator", props));
        } else {
            server = computing(ctx.spawn(ParameterServer.create(spec, models, updater, barriers, ctx.getSelf(), status,
                    applied), "parameter-server", props));
        }
        for (int i = 0; i < w; i++) {
            Worker.Setup setup = new Worker.Setup(i, w, spec, models[i], pool, loader, aggregator, server,
                    ctx.getSelf(), applied);
            if (spec.remoteWorkers() != null && !spec.remoteWorkers().runsHere(i)) {
                computing(ctx.spawn(spec.remoteWorkers().worker(setup), "worker-" + i, props));
            } else {
                computing(ctx.spawn(Worker.create(setup), "worker-" + i, props));
            }
        }
    }

    private <T> ActorRef<T> watch(ActorRef<T> ref) {
        getContext().watch(ref);
        return ref;
    }

    private <T> ActorRef<T> computing(ActorRef<T> ref) {
        compute.add(ref);
        return watch(ref);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StepApplied.class, this::onStepApplied)
                .onMessage(Publish.class, this::onPublish)
                .onMessage(WorkerRetry.class, this::onRetry)
                .onMessage(NonFinite.class, this::onNonFinite)
                .onMessage(Fail.class, m -> fail(m.cause()))
                .onMessageEquals(Cancel.INSTANCE, this::onCancel)
                .onMessageEquals(CheckpointNow.INSTANCE, this::onCheckpointNow)
                .onMessage(EvalReply.class, m -> onEval(m.reply()))
                .onMessage(KeeperReply.class, m -> onKeeper(m.reply()))
                .onMessage(StoreReply.class, m -> onStore(m.reply()))
                .onSignal(Terminated.class, this::onTerminated) // ChildFailed included
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    /** Per step: no capturing lambda, so nothing but the event is allocated. */
    private Behavior<Command> onStepApplied(StepApplied m) {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        Behavior<Command> next;
        try {
            next = onStep(m);
        } catch (RuntimeException e) {
            next = fail(e);
        }
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.SUPERVISOR_STEP, begin);
        }
        return next;
    }

    private Behavior<Command> onStep(StepApplied m) {
        if (diverged != null) {
            return this; // the job ends once the last good model is back
        }
        double seconds = ledger.step(m.step(), m.loss(), m.correct(), m.rows(), System.nanoTime());
        long applied = ledger.applied();
        status.step = applied;
        status.epoch = m.epoch();
        status.lastLoss = m.loss();
        if (divergence.explosive(m.loss())) {
            return onNonFinite(new NonFinite(-1, m.step(), m.epoch(), m.loss()));
        }
        status.examplesPerSecond = ledger.examplesPerSecond();
        publish(new TrainingEvent.StepCompleted(spec.name(), applied, m.epoch(), m.loss(), m.learningRate(), m.rows(),
                seconds));
        if (!m.barrier()) {
            return this;
        }
        barrier.begin();
        if (ledger.atEpochEnd()) {
            endEpoch();
        }
        return continueBarrier();
    }

    private Behavior<Command> onPublish(Publish m) {
        if (diverged == null) {
            publish(m.event());
        }
        return this;
    }

    private void endEpoch() {
        long applied = ledger.applied();
        ledger.endEpoch();
        publish(new TrainingEvent.EpochCompleted(spec.name(), applied, ledger.lastEpoch(), ledger.epochLoss(),
                ledger.epochAccuracy(), ledger.epochSeconds(), ledger.epochExamplesPerSecond()));
        if (evaluation == null) {
            keepEpoch(Double.NaN, Double.NaN);
            return;
        }
        barrier.evaluationSent();
        evaluation.tell(new EvaluationFanOut.Evaluate(++evalRequest, new RangeEvaluator.ParameterPoint(model.params(),
                model), evalReplies));
    }

    private Behavior<Command> onEval(EvaluationFanOut.Reply reply) {
        switch (reply) {
            case EvaluationFanOut.Failed f -> {
                return fail(f.cause());
            }
            case EvaluationFanOut.Evaluated r -> {
                if (r.requestId() != evalRequest || diverged != null || !barrier.evaluated()) {
                    return this;
                }
                double loss = r.loss();
                double acc = r.accuracy();
                publish(new TrainingEvent.EvaluationCompleted(spec.name(), ledger.applied(), ledger.lastEpoch(), "test",
                        loss, acc));
                status.testLoss = loss;
                status.testAccuracy = acc;
                keepEpoch(loss, acc);
                return continueBarrier();
            }
        }
    }

    /** The epoch's report, then the model as the last good one with its files (the barrier waits for them). */
    private void keepEpoch(double testLoss, double testAccuracy) {
        int epoch = ledger.lastEpoch();
        ledger.record(testLoss, testAccuracy, updater.lastLearningRate());
        barrier.keepSent();
        keeper.tell(new ModelKeeper.Keep(epoch + 1, keeperReplies));
    }

    private Behavior<Command> onKeeper(ModelKeeper.Reply reply) {
        switch (reply) {
            case ModelKeeper.Kept k -> {
                barrier.kept();
                return continueBarrier();
            }
            case ModelKeeper.WriteFailed f -> {
                return fail(f.cause());
            }
            case ModelKeeper.Restored r -> {
                if (r.writeError() != null) {
                    LOG.warn("job {}: {}", spec.name(), r.writeError().getMessage());
                    diverged.addSuppressed(r.writeError());
                }
                return fail(diverged);
            }
        }
    }

    /** Next piece of barrier work, or the end of the barrier. */
    private Behavior<Command> continueBarrier() {
        if (diverged != null) {
            return this;
        }
        long applied = ledger.applied();
        return switch (barrier.next(applied)) {
            case WAIT -> this;
            case CHECKPOINT -> {
                store.tell(new CheckpointStore.Save(applied, CheckpointMeta.write(ledger, spec), storeReplies));
                yield this;
            }
            case FINISH -> {
                finishSuccess();
                yield Behaviors.stopped();
            }
            case RESUME -> {
                ledger.startClock(System.nanoTime());
                if (aggregator != null) {
                    aggregator.tell(new GradientAggregator.Resume(applied));
                } else {
                    server.tell(new ParameterServer.Resume(applied));
                }
                yield this;
            }
        };
    }

    private Behavior<Command> onStore(CheckpointStore.Reply r) {
        switch (r) {
            case CheckpointStore.Captured c -> barrier.captured();
            case CheckpointStore.Written w -> {
                barrier.written();
                failedWritesInARow = 0;
                publish(new TrainingEvent.CheckpointWritten(spec.name(), w.step(), w.path().toString(), w.bytes(),
                        w.seconds()));
            }
            case CheckpointStore.WriteFailed f -> {
                barrier.written();
                failedWritesInARow++;
                String why = "cannot write checkpoint " + f.path() + ": " + f.cause().getMessage() + " ("
                        + failedWritesInARow + " of at most " + MAX_FAILED_CHECKPOINT_WRITES + " failures in a row)";
                LOG.warn("job {}: {}", spec.name(), why); // one line: the cause's message says it all
                publish(new TrainingEvent.Anomaly(spec.name(), f.step(), "checkpoint-failed", why));
                if (failedWritesInARow >= MAX_FAILED_CHECKPOINT_WRITES) {
                    return fail(new CheckpointException(f.path(), "checkpoint writes failed "
                            + failedWritesInARow + " times in a row (last: " + f.cause().getMessage()
                            + "); stopped so as not to train on without a way back"));
                }
            }
        }
        return continueBarrier();
    }

    private Behavior<Command> onRetry(WorkerRetry r) {
        status.retries++;
        publish(new TrainingEvent.Anomaly(spec.name(), r.step(), "worker-retry", "worker " + r.worker()
                + " failed step " + r.step() + " (attempt " + r.attempt() + " of " + (spec.maxRetries() + 1)
                + "), restarting it: " + r.cause()));
        return this;
    }

    /**
     * A NaN/Inf or exploding loss: the model keeper puts the last good parameters back (in memory and in the model
     * file); the job fails once it has.
     */
    private Behavior<Command> onNonFinite(NonFinite n) {
        if (diverged != null) {
            return this;
        }
        int epoch = n.epoch();
        String growth = Double.isFinite(n.loss()) ? "more than " + (long) DivergenceGuard.FACTOR
                + " times the loss of the first steps (" + (float) divergence.reference() + "): the run diverged; " : "";
        diverged = new NonFiniteLossException(n.step(), epoch, n.loss(), epoch, growth
                + "the learning rate (" + updater.schedule().lr(n.step()) + ") is probably too high for "
                + spec.optimizer().describe() + " — lower it, add warmup, or clip gradients (clipNorm)");
        publish(new TrainingEvent.Anomaly(spec.name(), n.step(), "non-finite-loss", diverged.getMessage()));
        for (ActorRef<?> c : compute) { // nothing may change the model while it is restored
            getContext().stop(c);
        }
        return compute.isEmpty() ? restoreLastGood() : this;
    }

    private Behavior<Command> restoreLastGood() {
        keeper.tell(new ModelKeeper.Restore(keeperReplies));
        return this;
    }

    private Behavior<Command> onTerminated(Terminated s) {
        if (diverged != null && compute.remove(s.getRef())) {
            return compute.isEmpty() ? restoreLastGood() : this;
        }
        if (s instanceof ChildFailed f) {
            return fail(f.getCause());
        }
        return fail(new IllegalStateException("job actor " + s.getRef().path().name() + " stopped unexpectedly"));
    }

    private Behavior<Command> onCancel() {
        if (diverged != null) {
            return fail(diverged);
        }
        if (failure == null && result == null) {
            failure = new CancellationException("job " + spec.name() + " was cancelled at step " + ledger.applied());
            status.state = JobStatus.State.CANCELLED;
        }
        return Behaviors.stopped();
    }

    private Behavior<Command> onCheckpointNow() {
        if (barrier.requestCheckpoint()) {
            barriers.request();
        }
        return this;
    }

    /** Stops the job with {@code cause} (a divergence being handled wins: its model restore was under way). */
    private Behavior<Command> fail(Throwable cause) {
        if (failure == null && result == null) {
            failure = diverged != null ? diverged : cause;
            status.state = JobStatus.State.FAILED;
            LOG.debug("job {} failed", spec.name(), failure);
        }
        return Behaviors.stopped();
    }

    private void finishSuccess() {
        result = ledger.result((System.nanoTime() - wallStart) / 1e9, model.parameterCount(),
                model.parametersSha256());
        status.state = JobStatus.State.SUCCEEDED;
    }

    private Behavior<Command> onPostStop() {
        closeAll(owned);
        if (result != null) {
            future.complete(result);
        } else {
            if (failure == null) {
                failure = new IllegalStateException("job " + spec.name() + " stopped before it finished");
                status.state = JobStatus.State.FAILED;
            }
            future.completeExceptionally(failure);
        }
        return this;
    }

    private void publish(TrainingEvent e) {
        try {
            spec.listener().onEvent(e);
        } catch (RuntimeException ex) {
            LOG.warn("job {}: a listener threw on {}; the job goes on", spec.name(), e.getClass().getSimpleName(), ex);
        }
    }

    private static void closeAll(Deque<AutoCloseable> owned) {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                LOG.warn("closing a job resource failed", e);
            }
        }
    }
}
