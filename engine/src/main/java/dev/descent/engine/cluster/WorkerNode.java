package dev.descent.engine.cluster;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A worker node: an actor system with the role {@value ClusterSettings#WORKER_ROLE} that joins the seed nodes and
 * offers {@code workers} {@link NodeWorker}s (one compute thread each) through the Receptionist. Stateless between
 * steps: it can be killed at any time; the job on the submitting node re-deals its share.
 */
public final class WorkerNode implements AutoCloseable {
    private final ActorSystem<Void> system;
    private final ClusterSettings settings;

    private WorkerNode(ClusterSettings settings) {
        this.settings = settings;
        this.system = ActorSystem.create(Behaviors.setup(ctx -> {
            for (int i = 0; i < settings.workers(); i++) {
                ctx.spawn(NodeWorker.create(i), "node-worker-" + i,
                        DispatcherSelector.fromConfig("descent.job-dispatcher"));
            }
            return Behaviors.empty();
        }), ClusterSettings.SYSTEM_NAME, settings.toConfig());
        ClusterMetrics.bindCluster(org.apache.pekko.cluster.Cluster.get(system));
    }

    public static WorkerNode start(ClusterSettings settings) {
        return new WorkerNode(settings.role(ClusterSettings.WORKER_ROLE).conclude());
    }

    /** {@code host:port} this node listens on. */
    public String address() {
        return RemoteWorker.nodeOf(Cluster.get(system).selfMember().address());
    }

    public int workers() {
        return settings.workers();
    }

    /** Waits until this node is Up in the cluster. */
    public void awaitUp(Duration timeout) throws TimeoutException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Cluster c = Cluster.get(system);
        while (c.selfMember().status() != MemberStatus.up()) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("worker node " + address() + " did not join the cluster at "
                        + settings.seedNodes() + " within " + timeout);
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    /** Completes when the node has stopped (closed, or downed by the cluster). */
    public CompletionStage<Done> whenTerminated() {
        return system.getWhenTerminated();
    }

    public ActorSystem<?> system() {
        return system;
    }

    /** Leaves the cluster and stops (waits up to 30 s). */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            // already reported by Pekko's logging
        }
    }
}
