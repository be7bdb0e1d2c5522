package dev.descent.engine.cluster;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The submitting node's side of a cluster: an actor system with the role {@value ClusterSettings#SUBMITTER_ROLE}
 * that follows the Receptionist's listing of {@link NodeWorker}s, and hands a job the placement of its workers
 * once enough worker nodes are there ({@link #placement}). Jobs run on {@link #system()} like on a local engine.
 */
public final class ClusterClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterClient.class);

    private final ActorSystem<Receptionist.Listing> system;
    private final ClusterSettings settings;
    private volatile Set<ActorRef<ClusterProtocol.ToNode>> listing = Set.of();

    private ClusterClient(ClusterSettings settings) {
        this.settings = settings;
        this.system = ActorSystem.create(guardian(), ClusterSettings.SYSTEM_NAME, settings.toConfig());
        ClusterMetrics.bindCluster(org.apache.pekko.cluster.Cluster.get(system));
    }

    private Behavior<Receptionist.Listing> guardian() {
        return Behaviors.setup(ctx -> {
            ctx.getSystem().receptionist().tell(Receptionist.subscribe(NodeWorker.KEY, ctx.getSelf()));
            return Behaviors.receiveMessage(l -> {
                listing = Set.copyOf(l.getServiceInstances(NodeWorker.KEY));
                return Behaviors.same();
            });
        });
    }

    /** Starts the submitting node; it joins the seed nodes in the background ({@link #placement} waits). */
    public static ClusterClient start(ClusterSettings settings) {
        return new ClusterClient(settings.role(ClusterSettings.SUBMITTER_ROLE).conclude());
    }

    public ActorSystem<?> system() {
        return system;
    }

    Set<ActorRef<ClusterProtocol.ToNode>> listing() {
        return listing;
    }

    /**
     * Waits (at most the join timeout) until this node is Up and at least {@code nodes} worker nodes have
     * registered node workers, then places {@code workers} logical workers: the first {@code here} compute in this
     * JVM (ordinary local workers), the others on the first {@code nodes} worker nodes ({@code nodes} 0: all there
     * are then; {@code workers} 0: {@code here} plus one per node worker of those nodes).
     *
     * @throws TimeoutException naming the seed nodes and the worker nodes seen, when they are not all there in time
     */
    public ClusterWorkers placement(String job, int workers, int nodes, Duration timeout)
            throws TimeoutException, InterruptedException {
        return placement(job, workers, 0, nodes, timeout);
    }

    /** {@link #placement(String, int, int, Duration)} with {@code here} workers in this JVM. */
    public ClusterWorkers placement(String job, int workers, int here, int nodes, Duration timeout)
            throws TimeoutException, InterruptedException {
        if (here < 0 || workers > 0 && here >= workers) {
            throw new IllegalArgumentException("workers in the submitting JVM must be >= 0 and fewer than the job's "
                    + workers + " worker(s), was " + here);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        Cluster cluster = Cluster.get(system);
        int want = Math.max(1, nodes);
        while (true) {
            boolean up = cluster.selfMember().status() == MemberStatus.up();
            Map<Address, List<ActorRef<ClusterProtocol.ToNode>>> byNode = byNode(listing);
            if (up && byNode.size() >= want) {
                List<List<ActorRef<ClusterProtocol.ToNode>>> chosen = new ArrayList<>(byNode.values());
                if (nodes > 0) {
                    chosen = chosen.subList(0, nodes);
                }
                int slots = chosen.stream().mapToInt(List::size).sum();
                int w = workers > 0 ? workers : here + slots;
                ClusterWorkers p = new ClusterWorkers(this, job, w, here, chosen);
                LOG.info("job {}: {}", job, p.describe());
                return p;
            }
            if (System.nanoTime() >= deadline) {
                String seen = byNode.isEmpty() ? "none" : byNode.keySet().stream().map(RemoteWorker::nodeOf).toList()
                        .toString();
                throw new TimeoutException(up
                        ? "only " + byNode.size() + " of " + want + " worker node(s) joined the cluster within "
                        + timeout + " (seen: " + seen + "; seed nodes " + settings.seedNodes() + "); start more with "
                        + "`descent node --seed-nodes " + String.join(",", settings.seedNodes()) + "`"
                        : "this node did not join the cluster at " + settings.seedNodes() + " within " + timeout
                        + " (no seed node answered; is `descent node` running there?)");
            }
            TimeUnit.MILLISECONDS.sleep(50);
        }
    }

    private static Map<Address, List<ActorRef<ClusterProtocol.ToNode>>> byNode(
            Set<ActorRef<ClusterProtocol.ToNode>> refs) {
        Map<Address, List<ActorRef<ClusterProtocol.ToNode>>> m = new TreeMap<>(Comparator.comparing(Address::toString));
        for (ActorRef<ClusterProtocol.ToNode> r : refs) {
            m.computeIfAbsent(r.path().address(), a -> new ArrayList<>()).add(r);
        }
        m.values().forEach(l -> l.sort(Comparator.comparing(r -> r.path().toString())));
        return m;
    }

    /** Leaves the cluster and stops the actor system (waits up to 30 s). */
    @Override
    public void close() {
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warn("cluster actor system did not stop within 30 s", e);
        }
    }
}
