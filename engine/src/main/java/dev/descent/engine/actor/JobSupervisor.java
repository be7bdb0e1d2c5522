package dev.descent.engine.actor;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.TrainingCheckpoint;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.train.EpochReport;
import dev.descent.engine.train.ModelFile;
import dev.descent.engine.train.NonFiniteLossException;
import dev.descent.engine.train.TrainingResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
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
 * One per job: builds the job's memory (model replicas, optimizer state, batch pool), spawns and watches the
 * {@link DataLoader}, the {@link Worker}s, the {@link GradientAggregator} (sync) or {@link ParameterServer}
 * (async), the {@link CheckpointStore} and the {@link ProjectionEvaluator}s, publishes the job's
 * {@link TrainingEvent}s in order, runs the barrier work (epoch bookkeeping, test evaluation, model file,
 * checkpoint) and completes the job's future. Any failure — a worker out of retries, a non-finite loss, a step
 * timeout, a child that died — stops the whole job (children first, then this actor frees the memory) and
 * completes the future exceptionally with the cause; other jobs are untouched.
 */
public final class JobSupervisor extends AbstractBehavior<JobSupervisor.Command> {
    private static final Logger LOG = LoggerFactory.getLogger(JobSupervisor.class);

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

    private record EvalReply(ProjectionEvaluator.Evaluated reply) implements Command {
    }

    private record StoreReply(CheckpointStore.Reply reply) implements Command {
    }

    /** When the updater must pause for the supervisor; read by the updater's thread. */
    static final class Barriers {
        private final int perEpoch;
        private final long endStep;
        private final long checkpointEvery;
        private final AtomicBoolean requested = new AtomicBoolean();

        Barriers(int perEpoch, long endStep, long checkpointEvery) {
            this.perEpoch = perEpoch;
            this.endStep = endStep;
            this.checkpointEvery = checkpointEvery;
        }

        boolean isBarrier(long applied) {
            return applied % perEpoch == 0 || applied >= endStep
                    || (checkpointEvery > 0 && applied % checkpointEvery == 0)
                    || (requested.get() && requested.getAndSet(false));
        }
    }

    private final JobSpec spec;
    private final JobStatus status;
    private final CompletableFuture<TrainingResult> future;
    private final Deque<AutoCloseable> owned;
    private final Model model;
    private final OptimizerState optimizer;
    private final Updater updater;
    private final Barriers barriers;
    private final ParameterSnapshot lastGood;
    private final int perEpoch;
    private final long endStep;
    private final long wallStart = System.nanoTime();
    private final List<EpochReport> history = new ArrayList<>();
    private final List<ActorRef<ProjectionEvaluator.Command>> evaluators = new ArrayList<>();
    private final ActorRef<ProjectionEvaluator.Evaluated> evalReplies;
    private final ActorRef<CheckpointStore.Reply> storeReplies;
    private ActorRef<GradientAggregator.Command> aggregator;
    private ActorRef<ParameterServer.Command> server;
    private ActorRef<CheckpointStore.Command> store;

    private long applied;
    private double epochLossSum;
    private long epochCorrect;
    private long epochExamples;
    private long epochNanos;
    private long trainNanos;
    private long trainExamples;
    private long mark;
    private boolean checkpointRequested;
    private final dev.descent.engine.train.DivergenceGuard divergence = new dev.descent.engine.train.DivergenceGuard();
    // barrier in progress
    private boolean inBarrier;
    private int pendingEvals;
    private double evalLossSum;
    private long evalCorrect;
    private int evalExamples;
    private boolean pendingCapture;
    private int pendingWrites;
    private long evalRequest;
    // outcome
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
        this.perEpoch = spec.stepsPerEpoch();
        this.endStep = (long) perEpoch * spec.epochs();
        status.totalSteps = endStep;
        status.epochs = spec.epochs();
        this.optimizer = own(new OptimizerState(spec.optimizer(), model));
        LrSchedule base = spec.schedule() == null ? LrSchedule.constant(spec.optimizer().learningRate())
                : spec.schedule();
        this.updater = own(new Updater(spec, optimizer, base.resolve(Math.max(1, endStep))));
        CheckpointDirectory dir = spec.checkpointDir() == null ? null
                : new CheckpointDirectory(spec.checkpointDir(), spec.keepCheckpoints());
        if (spec.resume() && dir != null) {
            resume(dir);
        }
        this.lastGood = own(model.snapshot());
        if (applied == 0) {
            saveTrajectoryPoint(0);
        }
        this.barriers = new Barriers(perEpoch, endStep, spec.checkpointEverySteps());
        this.evalReplies = ctx.messageAdapter(ProjectionEvaluator.Evaluated.class, EvalReply::new);
        this.storeReplies = ctx.messageAdapter(CheckpointStore.Reply.class, StoreReply::new);
        status.step = applied;
        status.epoch = (int) Math.min(applied / perEpoch, Math.max(0, spec.epochs() - 1));
        if (applied >= endStep) {
            finishSuccess();
            return;
        }
        spawnChildren(ctx, childProps, dir);
        status.state = JobStatus.State.RUNNING;
        mark = System.nanoTime();
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.push(resource);
        return resource;
    }

    private void spawnChildren(ActorContext<Command> ctx, Props props, CheckpointDirectory dir) {
        int w = spec.workers();
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
        ActorRef<DataLoader.Command> loader = watch(ctx.spawn(DataLoader.create(spec.train(), spec.batchSize(),
                spec.seed(), pool, w, sync ? w : 1, applied, endStep), "loader", props));
        if (sync) {
            aggregator = watch(ctx.spawn(GradientAggregator.create(spec, models, updater, barriers, ctx.getSelf(),
                    applied), "aggregator", props));
        } else {
            server = watch(ctx.spawn(ParameterServer.create(spec, models, updater, barriers, ctx.getSelf(), status,
                    applied), "parameter-server", props));
        }
        if (dir != null) {
            store = watch(ctx.spawn(CheckpointStore.create(dir, model, optimizer, spec.faults()), "checkpoints",
                    org.apache.pekko.actor.typed.DispatcherSelector.blocking())); // fsync off the compute threads
        }
        if (spec.test() != null) {
            for (int e = 0; e < spec.evaluators(); e++) {
                evaluators.add(watch(ctx.spawn(ProjectionEvaluator.create(e, model.spec(), spec.kernels(),
                        spec.loss(), spec.evalBatchSize()), "evaluator-" + e, props)));
            }
        }
        for (int i = 0; i < w; i++) {
            Worker.Setup setup = new Worker.Setup(i, w, spec, models[i], pool, loader, aggregator, server,
                    ctx.getSelf(), applied);
            if (spec.remoteWorkers() != null) {
                watch(ctx.spawn(spec.remoteWorkers().worker(setup), "worker-" + i, props));
            } else {
                watch(ctx.spawn(Worker.create(setup), "worker-" + i, props));
            }
        }
    }

    private <T> ActorRef<T> watch(ActorRef<T> ref) {
        getContext().watch(ref);
        return ref;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(StepApplied.class, this::onStepApplied)
                .onMessage(Publish.class, m -> {
                    publish(m.event());
                    return this;
                })
                .onMessage(WorkerRetry.class, this::onRetry)
                .onMessage(NonFinite.class, this::onNonFinite)
                .onMessage(Fail.class, m -> fail(m.cause()))
                .onMessageEquals(Cancel.INSTANCE, this::onCancel)
                .onMessageEquals(CheckpointNow.INSTANCE, this::onCheckpointNow)
                .onMessage(EvalReply.class, m -> guard(() -> onEval(m.reply())))
                .onMessage(StoreReply.class, m -> guard(() -> onStore(m.reply())))
                .onSignal(ChildFailed.class, s -> fail(s.getCause()))
                .onSignal(Terminated.class, s -> fail(new IllegalStateException("job actor " + s.getRef().path().name()
                        + " stopped unexpectedly")))
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    private interface Step {
        Behavior<Command> run() throws Exception;
    }

    private Behavior<Command> guard(Step s) {
        try {
            return s.run();
        } catch (Exception e) {
            return fail(e);
        }
    }

    /** Per step: no capturing lambda (as {@link #guard} would need), so nothing but the event is allocated. */
    private Behavior<Command> onStepApplied(StepApplied m) {
        long begin = HandlerProbe.ENABLED ? HandlerProbe.begin() : 0;
        Behavior<Command> next;
        try {
            next = onStep(m);
        } catch (Exception e) {
            next = fail(e);
        }
        if (HandlerProbe.ENABLED) {
            HandlerProbe.end(HandlerProbe.Handler.SUPERVISOR_STEP, begin);
        }
        return next;
    }

    private Behavior<Command> onStep(StepApplied m) throws Exception {
        long now = System.nanoTime();
        double seconds = (now - mark) / 1e9;
        epochNanos += now - mark;
        mark = now;
        applied = m.step() + 1;
        epochLossSum += m.loss() * m.rows();
        epochCorrect += m.correct();
        epochExamples += m.rows();
        status.step = applied;
        status.epoch = m.epoch();
        status.lastLoss = m.loss();
        if (divergence.explosive(m.loss())) {
            return onNonFinite(new NonFinite(-1, m.step(), m.epoch(), m.loss()));
        }
        status.examplesPerSecond = epochNanos > 0 ? epochExamples / (epochNanos / 1e9) : 0;
        publish(new TrainingEvent.StepCompleted(spec.name(), applied, m.epoch(), m.loss(), m.learningRate(), m.rows(),
                seconds));
        if (!m.barrier()) {
            return this;
        }
        inBarrier = true;
        if (applied % perEpoch == 0) {
            endEpoch();
        }
        return continueBarrier();
    }

    private void endEpoch() {
        int epoch = (int) (applied / perEpoch) - 1;
        trainNanos += epochNanos;
        trainExamples += epochExamples;
        publish(new TrainingEvent.EpochCompleted(spec.name(), applied, epoch, epochLossSum / epochExamples,
                (double) epochCorrect / epochExamples, epochNanos / 1e9, epochExamples / (epochNanos / 1e9)));
        if (spec.test() == null) {
            recordEpoch(Double.NaN, Double.NaN);
            return;
        }
        int n = spec.test().count();
        int bs = spec.evalBatchSize();
        int batches = (n + bs - 1) / bs;
        int e = evaluators.size();
        pendingEvals = e;
        evalLossSum = 0;
        evalCorrect = 0;
        evalExamples = 0;
        evalRequest++;
        ProjectionEvaluator.ParameterPoint point = new ProjectionEvaluator.ParameterPoint(model.params(), model);
        for (int i = 0; i < e; i++) {
            int from = Math.min(n, (int) ((long) batches * i / e) * bs);
            int to = Math.min(n, (int) ((long) batches * (i + 1) / e) * bs);
            evaluators.get(i).tell(new ProjectionEvaluator.Evaluate(evalRequest, point, spec.test(), from, to - from,
                    evalReplies));
        }
        evalResults = new ProjectionEvaluator.Evaluated[e];
    }

    private ProjectionEvaluator.Evaluated[] evalResults;

    private Behavior<Command> onEval(ProjectionEvaluator.Evaluated r) throws Exception {
        if (r.error() != null) {
            return fail(r.error());
        }
        if (r.requestId() != evalRequest || pendingEvals == 0) {
            return this;
        }
        evalResults[r.evaluator()] = r;
        if (--pendingEvals > 0) {
            return this;
        }
        for (ProjectionEvaluator.Evaluated x : evalResults) { // fixed order: exact for one evaluator
            evalLossSum += x.lossSum();
            evalCorrect += x.correct();
            evalExamples += x.examples();
        }
        double loss = evalExamples == 0 ? Double.NaN : evalLossSum / evalExamples;
        double acc = evalExamples == 0 ? Double.NaN : (double) evalCorrect / evalExamples;
        int epoch = (int) (applied / perEpoch) - 1;
        publish(new TrainingEvent.EvaluationCompleted(spec.name(), applied, epoch, "test", loss, acc));
        status.testLoss = loss;
        status.testAccuracy = acc;
        recordEpoch(loss, acc);
        return continueBarrier();
    }

    private void recordEpoch(double testLoss, double testAcc) {
        int epoch = (int) (applied / perEpoch) - 1;
        history.add(new EpochReport(epoch, applied, epochLossSum / epochExamples,
                (double) epochCorrect / epochExamples, testLoss, testAcc, updater.lastLearningRate(), epochNanos / 1e9,
                epochExamples / (epochNanos / 1e9)));
        epochLossSum = 0;
        epochCorrect = 0;
        epochExamples = 0;
        epochNanos = 0;
        model.snapshotInto(lastGood);
        saveModelFile();
        saveTrajectoryPoint(epoch + 1);
    }

    private void saveModelFile() {
        if (spec.modelFile() != null) {
            try {
                ModelFile.save(model, spec.modelFile());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot save the model file " + spec.modelFile() + ": "
                        + e.getMessage(), e);
            }
        }
    }

    /** The model after {@code epoch} epochs (0 = the initial point) as trajectoryDir/epoch-NNN.descent. */
    private void saveTrajectoryPoint(int epoch) {
        if (spec.trajectoryDir() == null) {
            return;
        }
        java.nio.file.Path file = spec.trajectoryDir().resolve(String.format(java.util.Locale.ROOT,
                "epoch-%03d.descent", epoch));
        try {
            java.nio.file.Files.createDirectories(spec.trajectoryDir());
            ModelFile.save(model, file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot save the trajectory point " + file + ": "
                    + e.getMessage(), e);
        }
    }

    /** Next piece of barrier work, or the end of the barrier. */
    private Behavior<Command> continueBarrier() {
        if (pendingEvals > 0 || pendingCapture) {
            return this;
        }
        boolean due = spec.checkpointEverySteps() > 0 && applied % spec.checkpointEverySteps() == 0;
        if (store != null && (due || checkpointRequested) && !checkpointCaptured) {
            checkpointRequested = false;
            checkpointCaptured = true;
            pendingCapture = true;
            pendingWrites++;
            store.tell(new CheckpointStore.Save(applied, CheckpointMeta.write(this), storeReplies));
            return this;
        }
        if (applied >= endStep && pendingWrites > 0) {
            return this; // the last checkpoint is still being written: its event comes before the end
        }
        checkpointCaptured = false;
        inBarrier = false;
        if (applied >= endStep) {
            finishSuccess();
            return Behaviors.stopped();
        }
        mark = System.nanoTime();
        if (aggregator != null) {
            aggregator.tell(new GradientAggregator.Resume(applied));
        } else {
            server.tell(new ParameterServer.Resume(applied));
        }
        return this;
    }

    private boolean checkpointCaptured;
    private int failedWritesInARow;
    /** A job fails after this many failed checkpoint writes in a row (a full or read-only disk, a lost mount). */
    public static final int MAX_FAILED_CHECKPOINT_WRITES = 3;

    private Behavior<Command> onStore(CheckpointStore.Reply r) {
        switch (r) {
            case CheckpointStore.Captured c -> {
                pendingCapture = false;
                if (inBarrier) {
                    return continueBarrier();
                }
            }
            case CheckpointStore.Written w -> {
                pendingWrites--;
                failedWritesInARow = 0;
                publish(new TrainingEvent.CheckpointWritten(spec.name(), w.step(), w.path().toString(), w.bytes(),
                        w.seconds()));
            }
            case CheckpointStore.WriteFailed f -> {
                pendingWrites--;
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
        if (inBarrier && applied >= endStep && pendingWrites == 0) {
            return continueBarrier();
        }
        return this;
    }

    private Behavior<Command> onRetry(WorkerRetry r) {
        status.retries++;
        publish(new TrainingEvent.Anomaly(spec.name(), r.step(), "worker-retry", "worker " + r.worker()
                + " failed step " + r.step() + " (attempt " + r.attempt() + " of " + (spec.maxRetries() + 1)
                + "), restarting it: " + r.cause()));
        return this;
    }

    private Behavior<Command> onNonFinite(NonFinite n) {
        model.restore(lastGood);
        saveModelFile(); // the last good parameters stay on disk
        int epoch = n.epoch();
        String growth = Double.isFinite(n.loss()) ? "more than " + (long) dev.descent.engine.train.DivergenceGuard.FACTOR
                + " times the loss of the first steps (" + (float) divergence.reference() + "): the run diverged; " : "";
        NonFiniteLossException e = new NonFiniteLossException(n.step(), epoch, n.loss(), epoch, growth
                + "the learning rate (" + updater.schedule().lr(n.step()) + ") is probably too high for "
                        + spec.optimizer().describe() + " — lower it, add warmup, or clip gradients (clipNorm)");
        publish(new TrainingEvent.Anomaly(spec.name(), n.step(), "non-finite-loss", e.getMessage()));
        return fail(e);
    }

    private Behavior<Command> onCancel() {
        if (failure == null && result == null) {
            failure = new CancellationException("job " + spec.name() + " was cancelled at step " + applied);
            status.state = JobStatus.State.CANCELLED;
        }
        return Behaviors.stopped();
    }

    private Behavior<Command> onCheckpointNow() {
        if (store != null) {
            checkpointRequested = true;
            barriers.requested.set(true);
        }
        return this;
    }

    private Behavior<Command> fail(Throwable cause) {
        if (failure == null && result == null) {
            failure = cause;
            status.state = JobStatus.State.FAILED;
            LOG.debug("job {} failed", spec.name(), cause);
        }
        return Behaviors.stopped();
    }

    private void finishSuccess() {
        double trainSeconds = trainNanos / 1e9;
        result = new TrainingResult(history, trainSeconds > 0 ? trainExamples / trainSeconds : 0, trainSeconds,
                (System.nanoTime() - wallStart) / 1e9, applied, model.parameterCount(), model.parametersSha256());
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

    // ---- resume ----

    /**
     * Restores the newest checkpoint that can be used. Any unreadable one (bad CRC, truncated, a damaged header or
     * section, a META that does not parse) is reported and the previous one is tried; a checkpoint of other
     * settings is an error (the older ones share them). Checkpoint files of which none can be used are an error
     * too: retraining from step 0 would overwrite the outputs of the run the user meant to resume.
     */
    private void resume(CheckpointDirectory dir) throws Exception {
        java.util.List<java.nio.file.Path> all = dir.list();
        Exception newest = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            java.nio.file.Path p = all.get(i);
            try {
                TrainingCheckpoint.Loaded ck = TrainingCheckpoint.Loaded.of(new CheckpointDirectory.Found(p,
                        CheckpointDirectory.stepOf(p), dev.descent.engine.checkpoint.CheckpointFile.read(p)));
                CheckpointMeta.check(ck, spec, perEpoch);
                ck.restoreInto(model, optimizer);
                history.clear();
                CheckpointMeta.read(ck, this);
                LOG.info("job {}: resumed from {} at step {}", spec.name(), ck.path(), applied);
                return;
            } catch (CheckpointMeta.Mismatch e) {
                throw e.getCause();
            } catch (Exception | OutOfMemoryError e) {
                String why = e instanceof CheckpointException ? e.getMessage() : "checkpoint " + p + ": " + e;
                newest = newest == null ? new CheckpointException(p, String.valueOf(e.getMessage())) : newest;
                LOG.warn("{}; falling back to the previous checkpoint", why);
                publish(new TrainingEvent.Anomaly(spec.name(), 0, "checkpoint-corrupt", why
                        + "; falling back to the previous checkpoint"));
            }
        }
        applied = 0;
        history.clear();
        if (!all.isEmpty()) {
            throw new CheckpointException(dir.dir(), "none of its " + all.size() + " checkpoint file(s) can be read "
                    + "(newest: " + newest.getMessage() + "); move them away, or start afresh without resuming");
        }
    }

    /** Reads and writes the supervisor's position and counters in a checkpoint's META. */
    static final class CheckpointMeta {
        private CheckpointMeta() {
        }

        static java.util.Map<String, String> write(JobSupervisor s) {
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            m.put("job", s.spec.name());
            m.put("applied", Long.toString(s.applied));
            m.put("epoch", Long.toString(s.applied / s.perEpoch));
            m.put("batchInEpoch", Long.toString(s.applied % s.perEpoch));
            m.put("seed", Long.toString(s.spec.seed()));
            m.put("batchSize", Integer.toString(s.spec.batchSize()));
            m.put("stepsPerEpoch", Integer.toString(s.perEpoch));
            m.put("workers", Integer.toString(s.spec.workers()));
            m.put("mode", s.spec.mode().name());
            m.put("optimizer", s.spec.optimizer().describe());
            m.put("shuffle", "BatchAssembler(seed, epoch)");
            m.put("epochLossSum", Double.toHexString(s.epochLossSum));
            m.put("epochCorrect", Long.toString(s.epochCorrect));
            m.put("epochExamples", Long.toString(s.epochExamples));
            m.put("epochNanos", Long.toString(s.epochNanos));
            m.put("trainNanos", Long.toString(s.trainNanos));
            m.put("trainExamples", Long.toString(s.trainExamples));
            m.put("history", Integer.toString(s.history.size()));
            for (int i = 0; i < s.history.size(); i++) {
                EpochReport r = s.history.get(i);
                m.put("history." + i, r.epoch() + "," + r.steps() + "," + hex(r.trainLoss()) + ","
                        + hex(r.trainAccuracy()) + "," + hex(r.testLoss()) + "," + hex(r.testAccuracy()) + ","
                        + hex(r.learningRate()) + "," + hex(r.seconds()) + "," + hex(r.examplesPerSecond()));
            }
            return m;
        }

        private static String hex(double d) {
            return Double.toHexString(d);
        }

        static void check(TrainingCheckpoint.Loaded ck, JobSpec spec, int perEpoch)
                throws CheckpointException, Mismatch {
            requireEqual(ck, "seed", Long.toString(spec.seed()));
            requireEqual(ck, "workers", Integer.toString(spec.workers()));
            requireEqual(ck, "mode", spec.mode().name());
            requireEqual(ck, "batchSize", Integer.toString(spec.batchSize()));
            requireEqual(ck, "stepsPerEpoch", Integer.toString(perEpoch));
            requireEqual(ck, "optimizer", spec.optimizer().describe());
        }

        private static void requireEqual(TrainingCheckpoint.Loaded ck, String key, String expected)
                throws CheckpointException, Mismatch {
            String v = ck.get(key);
            if (!v.equals(expected)) {
                throw new Mismatch(new CheckpointException(ck.path(), "it was written with " + key + " " + v
                        + ", this run has " + expected + ": resume with the same settings, or use another checkpoint "
                        + "folder"));
            }
        }

        /** A readable checkpoint of other settings: not a reason to fall back (older ones share the settings). */
        static final class Mismatch extends Exception {
            private static final long serialVersionUID = 1L;

            Mismatch(CheckpointException cause) {
                super(cause.getMessage(), cause, false, false);
            }

            @Override
            public synchronized CheckpointException getCause() {
                return (CheckpointException) super.getCause();
            }
        }

        static void read(TrainingCheckpoint.Loaded ck, JobSupervisor s) throws CheckpointException {
            try {
                s.applied = Long.parseLong(ck.get("applied"));
                s.epochLossSum = Double.parseDouble(ck.get("epochLossSum"));
                s.epochCorrect = Long.parseLong(ck.get("epochCorrect"));
                s.epochExamples = Long.parseLong(ck.get("epochExamples"));
                s.epochNanos = Long.parseLong(ck.get("epochNanos"));
                s.trainNanos = Long.parseLong(ck.get("trainNanos"));
                s.trainExamples = Long.parseLong(ck.get("trainExamples"));
                int n = Integer.parseInt(ck.get("history"));
                for (int i = 0; i < n; i++) {
                    String[] f = ck.get("history." + i).split(",");
                    s.history.add(new EpochReport(Integer.parseInt(f[0]), Long.parseLong(f[1]),
                            Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                            Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                            Double.parseDouble(f[8])));
                }
            } catch (RuntimeException e) {
                throw new CheckpointException(ck.path(), "its META cannot be read: " + e);
            }
        }
    }
}
