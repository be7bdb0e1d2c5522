package dev.descent.sdk;

import dev.descent.engine.actor.JobSpec;
import dev.descent.engine.actor.JobStatus;
import dev.descent.engine.actor.JobSupervisor;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import dev.descent.engine.memory.MemoryAccounting;
import dev.descent.engine.nn.Model;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Descent engine: accepts {@link TrainingPlan}s and runs them as jobs on the actor engine, several at
 * a time; a job that fails stops only itself. Obtain one from {@link Descent#start} (owns its actor system) or
 * {@link Descent#attach} (runs on the host's). {@link #close()} cancels the jobs (training and landscape) still running, waits for them
 * to free their memory and, when it owns it, terminates the actor system.
 */
public final class DescentEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DescentEngine.class);
    /** Dispatcher of the compute actors when the engine owns its actor system. */
    static final String DISPATCHER = "descent.job-dispatcher";

    private final ActorSystem<?> system;
    private final boolean ownsSystem;
    private final DescentConfig config;
    private final Props props;
    private final Map<String, TrainingJob> jobs = new ConcurrentHashMap<>();
    private final Listeners listeners = new Listeners();
    private final AtomicLong ids = new AtomicLong();
    /** Names of jobs not yet finished: a name names the job's checkpoint folder, so two live jobs never share one. */
    private final java.util.Set<String> liveNames = ConcurrentHashMap.newKeySet();
    private final java.util.Set<LandscapeJob> landscapes = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final dev.descent.engine.cluster.ClusterClient cluster;

    /** The actor system the jobs run in (tests). */
    ActorSystem<?> system() {
        return system;
    }

    DescentEngine(ActorSystem<?> system, boolean ownsSystem, DescentConfig config) {
        this(system, ownsSystem, config, null);
    }

    /** {@code cluster} non-null: jobs place their workers on its worker nodes. */
    DescentEngine(ActorSystem<?> system, boolean ownsSystem, DescentConfig config,
                  dev.descent.engine.cluster.ClusterClient cluster) {
        this.cluster = cluster;
        this.system = system;
        this.ownsSystem = ownsSystem;
        this.config = config;
        this.props = system.settings().config().hasPath(DISPATCHER) ? DispatcherSelector.fromConfig(DISPATCHER)
                : DispatcherSelector.blocking();
    }

    public DescentConfig config() {
        return config;
    }

    /** Receives the events of every job (e.g. a metrics binder). */
    public DescentEngine addListener(TrainingListener listener) {
        listeners.add(listener);
        return this;
    }

    public boolean removeListener(TrainingListener listener) {
        return listeners.remove(listener);
    }

    /**
     * As {@link Descent#landscape(LandscapePlan)}, with the evaluators in this engine's actor system instead of a
     * private one per run: a service that measures landscapes repeatedly pays for actor-system start-up once, and
     * after the first run the JIT has compiled the evaluation kernels (a fresh JVM spends 1-3 s there).
     */
    public LandscapeResult landscape(LandscapePlan plan) {
        if (closed) {
            throw new DescentException("the engine is closed");
        }
        Thread caller = Thread.currentThread();
        return Landscapes.run(plan, caller::isInterrupted, null, system);
    }

    /** As {@link #landscape(LandscapePlan)} on a thread of its own: a handle with progress, result and cancel. */
    public LandscapeJob startLandscape(LandscapePlan plan) {
        if (closed) {
            throw new DescentException("the engine is closed");
        }
        LandscapeJob job = LandscapeJob.start(plan, system);
        landscapes.add(job);
        job.result().whenComplete((r, e) -> landscapes.remove(job));
        return job;
    }

    /**
     * Loads the plan's data, builds its model and starts the job. Throws {@link DescentException} when the data
     * cannot be loaded, the plan does not fit the data, the memory budget would be exceeded or the engine is
     * closed; nothing is left allocated then.
     */
    public TrainingJob submit(TrainingPlan plan) {
        if (closed) {
            throw new DescentException("the engine is closed");
        }
        if (plan.trajectoryEverySteps > 0) {
            throw new IllegalArgumentException("trajectoryEverySteps(" + plan.trajectoryEverySteps + ") is supported by "
                    + "in-process training only (Descent.trainInProcess); the engine saves the trajectory per epoch");
        }
        String id = Long.toString(ids.incrementAndGet());
        String name = plan.name != null ? plan.name : "job-" + id;
        if (!liveNames.add(name)) {
            throw new DescentException("a job named " + name + " is still running; names of running jobs are unique "
                    + "(a name picks the job's checkpoint folder)");
        }
        List<AutoCloseable> owned = new ArrayList<>();
        try {
            Dataset train;
            Dataset test;
            boolean computesHere = cluster == null || config.clusterSubmitterWorkers() > 0;
            int localWorkers = plan.workers > 0 ? plan.workers : config.workers();
            try (KernelWarmup _ = KernelWarmup.start(plan, KernelWarmup.Paths.engine(plan, localWorkers),
                    computesHere)) { // compiles the kernels while data loads
                train = own(owned, plan.train.open());
                test = plan.test == null ? null : own(owned, plan.test.open());
            }
            Model model = own(owned, plan.model.instantiate());
            dev.descent.engine.cluster.ClusterWorkers placement = cluster == null ? null : place(name, plan);
            int workers = placement != null ? placement.workers() : plan.workers > 0 ? plan.workers : config.workers();
            checkBudget(model, plan, workers, name);
            JobStatus status = new JobStatus();
            CompletableFuture<dev.descent.engine.train.TrainingResult> done = new CompletableFuture<>();
            CompletableFuture<TrainingResult> result = new CompletableFuture<>();
            TrainingJob job = new TrainingJob(id, name, plan, status, result);
            plan.listeners.forEach(job::addListener);
            Path ckDir = plan.checkpointDir != null ? plan.checkpointDir : config.checkpointDir().resolve(name);
            boolean checkpoints = plan.checkpointEvery > 0 || plan.resume;
            JobSpec spec = new JobSpec().name(name).model(model).train(train).test(test).loss(plan.loss.engine())
                    .optimizer(plan.optimizer.engine()).schedule(plan.schedule == null ? null : plan.schedule.engine())
                    .strategy(plan.backprop.engine()).batchSize(plan.batchSize).evalBatchSize(plan.evalBatchSize)
                    .epochs(plan.epochs).seed(plan.seed).workers(workers)
                    .threadsPerWorker(plan.threadsPerWorker > 0 ? plan.threadsPerWorker : config.threads())
                    .mode(plan.mode == TrainingPlan.Mode.ASYNC ? JobSpec.Mode.ASYNC : JobSpec.Mode.SYNC)
                    .maxStaleness(plan.maxStaleness).evaluators(plan.evaluators).clipNorm(plan.clipNorm)
                    .checkpointDir(checkpoints ? ckDir : null).checkpointEverySteps(plan.checkpointEvery)
                    .keepCheckpoints(plan.keepCheckpoints).resume(plan.resume)
                    .gradientStatsEverySteps(plan.gradientStatsEvery).maxRetries(plan.maxRetries)
                    .microBatch(plan.microBatch).noiseScaleEverySteps(plan.noiseScaleEvery)
                    .stepTimeout(plan.stepTimeout).modelFile(plan.modelFile).trajectoryDir(plan.trajectoryDir)
                    .listener(e -> publish(job, e)).remoteWorkers(placement);
            if (placement != null) {
                job.cluster(placement);
            }
            try {
                spec.conclude();
            } catch (IllegalArgumentException e) {
                throw new DescentException("plan " + name + " cannot run: " + e.getMessage(), e);
            }
            done.whenComplete((r, err) -> {
                closeAll(owned);
                if (placement != null) {
                    placement.release();
                }
                liveNames.remove(name);
                jobs.computeIfPresent(id, (k, v) -> v); // keep finished jobs listed
                if (err != null) {
                    result.completeExceptionally(publicFailure(err));
                } else {
                    result.complete(TrainingResult.of(r));
                }
            });
            jobs.put(id, job);
            String slow = JvmRequirements.kernelWarning(dev.descent.engine.kernel.Kernels.backend().name());
            if (slow != null) {
                publish(job, new TrainingEvent.Anomaly(name, 0, "scalar-kernels", slow));
            }
            ActorRef<JobSupervisor.Command> ref = system.systemActorOf(JobSupervisor.create(spec, status, done, props),
                    "descent-job-" + id, Props.empty());
            job.attach(ref);
            return job;
        } catch (RuntimeException | Error e) {
            closeAll(owned);
            liveNames.remove(name);
            if (e instanceof DescentException d) {
                throw d;
            }
            throw new DescentException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    private dev.descent.engine.cluster.ClusterWorkers place(String name, TrainingPlan plan) {
        try {
            return cluster.placement(name, Math.max(0, plan.workers), config.clusterSubmitterWorkers(),
                    config.clusterNodes(), config.clusterJoinTimeout());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new DescentException("job " + name + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DescentException("job " + name + ": interrupted while waiting for worker nodes", e);
        }
    }

    /**
     * The failure a user sees: a non-finite loss becomes a {@link DivergedException}; anything else stays as it is
     * (a CompletionException is unwrapped).
     */
    static Throwable publicFailure(Throwable err) {
        Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
                ? err.getCause() : err;
        if (t instanceof dev.descent.engine.train.NonFiniteLossException n) {
            return new DivergedException(n.getMessage(), n.step(), n.epoch(), n.loss(), n);
        }
        return t;
    }

    private void checkBudget(Model model, TrainingPlan plan, int workers, String name) {
        long budget = config.memoryBudgetBytes();
        if (budget == 0) {
            return;
        }
        long slab = model.params().byteSize();
        int moments = Math.max(1, plan.optimizer.engine().momentSlabs());
        // replicas' gradient slabs, moments, checkpoint staging, batch pool (datasets and model already counted)
        long need = slab * (workers - 1 + moments + (plan.checkpointEvery > 0 ? 1 + moments : 0))
                + 3L * plan.batchSize * model.inputSize() * Float.BYTES * Math.max(1, workers);
        long live = MemoryAccounting.totalLiveBytes();
        if (live + need > budget) {
            throw new DescentException("job " + name + " needs about " + need + " more off-heap bytes; with "
                    + live + " bytes live that exceeds the memory budget of " + budget + " bytes");
        }
    }

    private void publish(TrainingJob job, TrainingEvent e) {
        job.dispatch(e);
        listeners.dispatch(e, LOG, "engine");
    }

    private static <T extends AutoCloseable> T own(List<AutoCloseable> owned, T resource) {
        owned.add(resource);
        return resource;
    }

    private static void closeAll(List<AutoCloseable> owned) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception e) {
                LOG.warn("closing a job resource failed", e);
            }
        }
        owned.clear();
    }

    /** Every job submitted to this engine, finished ones included, in submission order. */
    public List<TrainingJob> jobs() {
        List<TrainingJob> all = new ArrayList<>(jobs.values());
        all.sort((a, b) -> Long.compare(Long.parseLong(a.id()), Long.parseLong(b.id())));
        return all;
    }

    public Optional<TrainingJob> job(String id) {
        return Optional.ofNullable(jobs.get(id));
    }

    /**
     * Forgets one finished job (a service that keeps only its recent jobs); false, and nothing changes, while it
     * is still running.
     */
    public boolean forget(TrainingJob job) {
        return job.isDone() && jobs.remove(job.id(), job);
    }

    /** Forgets finished jobs (they stay listed otherwise). */
    public void purgeFinished() {
        jobs.values().removeIf(TrainingJob::isDone);
    }

    /** Cancels running jobs, waits up to {@code timeout} for them to stop, then releases the actor system. */
    public void close(Duration timeout) {
        if (closed) {
            return;
        }
        closed = true;
        Collection<TrainingJob> all = jobs.values();
        all.forEach(TrainingJob::cancel);
        List<LandscapeJob> running = new ArrayList<>(landscapes);
        running.forEach(LandscapeJob::cancel);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (LandscapeJob l : running) {
            try {
                l.result().toCompletableFuture().handle((r, e) -> null)
                        .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                LOG.warn("landscape job did not stop within {}", timeout);
            }
        }
        for (TrainingJob j : all) {
            try {
                j.future().handle((r, e) -> null).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                LOG.warn("job {} did not stop within {}", j.name(), timeout);
            }
        }
        if (ownsSystem) {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(Math.max(1, deadline - System.nanoTime()),
                        TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                LOG.warn("actor system {} did not terminate within {}", system.name(), timeout);
            }
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(60));
    }
}
