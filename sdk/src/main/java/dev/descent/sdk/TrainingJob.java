package dev.descent.sdk;

import dev.descent.engine.actor.JobStatus;
import dev.descent.engine.actor.JobSupervisor;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Handle of a submitted job: progress snapshots, the result as a {@link CompletionStage}, cancel, listeners.
 * The stage completes after the job has stopped and freed its memory: normally with the result, exceptionally
 * with the cause (a worker's exception after its retries, a non-finite loss, a timeout) or a
 * {@link java.util.concurrent.CancellationException}.
 */
public final class TrainingJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingJob.class);

    private final String id;
    private final String name;
    private final TrainingPlan plan;
    private final JobStatus status;
    private final CompletableFuture<TrainingResult> result;
    private final Listeners listeners = new Listeners();
    private volatile ActorRef<JobSupervisor.Command> supervisor;

    TrainingJob(String id, String name, TrainingPlan plan, JobStatus status, CompletableFuture<TrainingResult> result) {
        this.id = id;
        this.name = name;
        this.plan = plan;
        this.status = status;
        this.result = result;
    }

    private volatile dev.descent.engine.cluster.ClusterWorkers cluster;

    void cluster(dev.descent.engine.cluster.ClusterWorkers placement) {
        this.cluster = placement;
    }

    /** Transfer statistics of a job whose workers run on cluster nodes (empty for a local job). */
    public java.util.Optional<ClusterStats> clusterStats() {
        dev.descent.engine.cluster.ClusterWorkers c = cluster;
        return c == null ? java.util.Optional.empty() : java.util.Optional.of(new ClusterStats(c.describe(),
                c.workers(), c.bytesPerStep(), c.transportSecondsPerShare(), c.computeSecondsPerShare(),
                c.nodesLost(), c.sharesMoved(), java.util.Collections.unmodifiableSortedMap(
                        new java.util.TreeMap<>(c.sharesPerNode()))));
    }

    void attach(ActorRef<JobSupervisor.Command> ref) {
        this.supervisor = ref;
    }

    /** Events to this job's listeners; a listener that throws is logged and skipped. */
    void dispatch(TrainingEvent e) {
        listeners.dispatch(e, LOG, name);
    }

    /** Engine-unique id. */
    public String id() {
        return id;
    }

    public String name() {
        return name;
    }

    public TrainingPlan plan() {
        return plan;
    }

    /**
     * The job's state. It turns final (SUCCEEDED, FAILED, CANCELLED) only when the result stage completes, i.e.
     * after the job has released its memory.
     */
    public JobState state() {
        if (!result.isDone()) {
            return status.state() == JobStatus.State.STARTING ? JobState.STARTING : JobState.RUNNING;
        }
        if (!result.isCompletedExceptionally()) {
            return JobState.SUCCEEDED;
        }
        return result.isCancelled() || status.state() == JobStatus.State.CANCELLED ? JobState.CANCELLED
                : JobState.FAILED;
    }

    /** A snapshot of the job's progress. */
    public Progress progress() {
        return new Progress(state(), status.step(), status.totalSteps(), status.epoch(), status.epochs(),
                status.lastLoss(), status.examplesPerSecond(), status.testLoss(), status.testAccuracy(),
                status.retries());
    }

    /** Completes when the job has ended (see the class comment). */
    public CompletionStage<TrainingResult> result() {
        return result.minimalCompletionStage();
    }

    /** Waits for the result; rethrows the job's failure cause (unchecked ones as they are). */
    public TrainingResult await() throws InterruptedException {
        return Futures.await(result, "job " + name);
    }

    /** Stops the job (no effect once it ended); its result completes with a CancellationException. */
    public void cancel() {
        ActorRef<JobSupervisor.Command> s = supervisor;
        if (s != null && !result.isDone()) {
            s.tell(JobSupervisor.Cancel.INSTANCE);
        }
    }

    /** Writes a checkpoint at the next step boundary (when the job has a checkpoint folder). */
    public void checkpointNow() {
        ActorRef<JobSupervisor.Command> s = supervisor;
        if (s != null) {
            s.tell(JobSupervisor.CheckpointNow.INSTANCE);
        }
    }

    /** Adds a listener for this job's events from now on. */
    public TrainingJob addListener(TrainingListener listener) {
        listeners.add(listener);
        return this;
    }

    public boolean removeListener(TrainingListener listener) {
        return listeners.remove(listener);
    }

    boolean isDone() {
        return result.isDone();
    }

    CompletableFuture<TrainingResult> future() {
        return result;
    }

    @Override
    public String toString() {
        return "TrainingJob[" + id + " " + name + ", " + state() + "]";
    }
}
