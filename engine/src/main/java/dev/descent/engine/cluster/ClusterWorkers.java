package dev.descent.engine.cluster;

import dev.descent.engine.actor.RemoteWorkers;
import dev.descent.engine.actor.Worker;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where one job's logical workers run: worker i starts on node {@code i mod K} of the K chosen nodes (sorted by
 * address), on that node's worker slot {@code (i / K) mod slots}. After a node loss a share moves to the surviving
 * node that carries the fewest shares. At the start of each later epoch a share whose node worker (slot) also
 * computes another share of this job moves to a node worker that computes none ({@link #rebalance}): a node that
 * joined during the job, or one left unused at the start, takes work from the next epoch. The number of logical
 * workers, hence the shards and the result, never changes. Also this job's transfer statistics.
 */
public final class ClusterWorkers implements RemoteWorkers {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterWorkers.class);

    private final ClusterClient client;
    private final String job;
    private final List<ActorRef<ClusterProtocol.ToNode>> initial;
    private final Map<Address, Integer> load = new HashMap<>();
    private final List<ActorRef<ClusterProtocol.ToNode>> current = new ArrayList<>(); // worker i's node worker now
    private final Map<ActorRef<ClusterProtocol.ToNode>, Integer> slotLoad = new HashMap<>(); // shares per node worker
    private final Map<String, Long> sharesPerNode = new TreeMap<>();
    private int moved;
    private final Set<Address> lost = new HashSet<>();
    private final AtomicLong leases = new AtomicLong(ThreadLocalRandom.current().nextLong() & 0x7fff_ffff_0000_0000L);
    private final LongAdder bytes = new LongAdder();
    private final LongAdder shares = new LongAdder();
    private final LongAdder transportNanos = new LongAdder();
    private final LongAdder computeNanos = new LongAdder();
    private final int workers;
    private final int here; // logical workers 0..here-1 compute in the submitting JVM
    private final io.micrometer.core.instrument.Gauge bytesGauge;

    ClusterWorkers(ClusterClient client, String job, int workers, int here,
                   List<List<ActorRef<ClusterProtocol.ToNode>>> nodes) {
        this.client = client;
        this.job = job;
        this.workers = workers;
        this.here = here;
        this.initial = new ArrayList<>();
        int k = nodes.size();
        for (int i = 0; i < here; i++) {
            initial.add(null);
            current.add(null);
        }
        for (int i = 0; i < workers - here; i++) {
            List<ActorRef<ClusterProtocol.ToNode>> slots = nodes.get(i % k);
            ActorRef<ClusterProtocol.ToNode> ref = slots.get((i / k) % slots.size());
            initial.add(ref);
            current.add(ref);
            slotLoad.merge(ref, 1, Integer::sum);
            load.merge(ref.path().address(), 1, Integer::sum);
        }
        this.bytesGauge = ClusterMetrics.bindJob(job, this::bytesPerStep);
    }

    /** The job is over: drop its bytes-per-step gauge (the statistics here stay readable). */
    public void release() {
        ClusterMetrics.unbind(bytesGauge);
    }

    @Override
    public Behavior<Object> worker(Worker.Setup setup) {
        return RemoteWorker.create(setup, this);
    }

    @Override
    public boolean runsHere(int worker) {
        return worker < here;
    }

    @Override
    public String describe() {
        Map<String, Integer> per = new TreeMap<>();
        for (ActorRef<ClusterProtocol.ToNode> r : initial) {
            if (r != null) {
                per.merge(RemoteWorker.nodeOf(r.path().address()), 1, Integer::sum);
            }
        }
        return here == 0 ? workers + " worker(s) on " + per.size() + " node(s) " + per
                : workers + " worker(s): " + here + " in the submitting JVM, " + (workers - here) + " on " + per.size()
                + " node(s) " + per;
    }

    ActorRef<ClusterProtocol.ToNode> initial(int worker) {
        return initial.get(worker);
    }

    long newLease() {
        return leases.incrementAndGet();
    }

    /**
     * A node worker of worker {@code worker} was on {@code gone}, which left the cluster: a node worker on the
     * surviving node with the fewest shares (null: none left).
     */
    synchronized ActorRef<ClusterProtocol.ToNode> replace(int worker, Address gone) {
        if (lost.add(gone)) {
            ClusterMetrics.nodeLost(RemoteWorker.nodeOf(gone));
            LOG.warn("job {}: worker node {} lost", job, RemoteWorker.nodeOf(gone));
        }
        load.computeIfPresent(gone, (a, n) -> null);
        slotLoad.keySet().removeIf(r -> r.path().address().equals(gone));
        Map<Address, List<ActorRef<ClusterProtocol.ToNode>>> live = new TreeMap<>(
                java.util.Comparator.comparing(Address::toString));
        for (ActorRef<ClusterProtocol.ToNode> r : client.listing()) {
            Address a = r.path().address();
            if (!lost.contains(a) && !a.equals(gone)) {
                live.computeIfAbsent(a, x -> new ArrayList<>()).add(r);
            }
        }
        Address best = null;
        for (Address a : live.keySet()) {
            if (best == null || load.getOrDefault(a, 0) < load.getOrDefault(best, 0)) {
                best = a;
            }
        }
        if (best == null) {
            return null;
        }
        List<ActorRef<ClusterProtocol.ToNode>> slots = live.get(best);
        slots.sort(java.util.Comparator.comparing(r -> r.path().toString()));
        load.merge(best, 1, Integer::sum);
        ActorRef<ClusterProtocol.ToNode> to = slots.get(worker % slots.size());
        slotLoad.merge(to, 1, Integer::sum);
        current.set(worker, to);
        return to;
    }

    /**
     * Called by worker {@code worker} before the first share of a new epoch: when its node worker also computes
     * another share of this job (so the two wait for each other on one thread), a node worker of a live node that
     * computes none of this job's shares, preferring the node with the fewest shares; null: stay.
     */
    synchronized ActorRef<ClusterProtocol.ToNode> rebalance(int worker) {
        ActorRef<ClusterProtocol.ToNode> from = current.get(worker);
        if (slotLoad.getOrDefault(from, 0) < 2) {
            return null;
        }
        ActorRef<ClusterProtocol.ToNode> best = null;
        for (ActorRef<ClusterProtocol.ToNode> r : client.listing()) {
            Address a = r.path().address();
            if (lost.contains(a) || slotLoad.getOrDefault(r, 0) > 0) {
                continue;
            }
            if (best == null || load.getOrDefault(a, 0) < load.getOrDefault(best.path().address(), 0)
                    || load.getOrDefault(a, 0).equals(load.getOrDefault(best.path().address(), 0))
                    && r.path().toString().compareTo(best.path().toString()) < 0) {
                best = r;
            }
        }
        if (best == null) {
            return null;
        }
        slotLoad.merge(from, -1, Integer::sum);
        slotLoad.put(best, 1);
        load.merge(from.path().address(), -1, Integer::sum);
        load.merge(best.path().address(), 1, Integer::sum);
        current.set(worker, best);
        moved++;
        return best;
    }

    void recordShare(String node, long shareBytes, long transport, long compute) {
        synchronized (this) {
            sharesPerNode.merge(node, 1L, Long::sum);
        }
        bytes.add(shareBytes);
        shares.increment();
        transportNanos.add(transport);
        computeNanos.add(compute);
    }

    /** Bytes on the wire per optimizer step (all remote workers' shares, both ways), averaged over the job so far. */
    public double bytesPerStep() {
        long n = shares.sum();
        return n == 0 ? 0 : (double) bytes.sum() * (workers - here) / n;
    }

    /** Per share, averaged: round trip minus node compute (serialization + transport + queueing), in seconds. */
    public double transportSecondsPerShare() {
        long n = shares.sum();
        return n == 0 ? 0 : transportNanos.sum() / 1e9 / n;
    }

    /** Per share, averaged: forward/backward time on the node, in seconds. */
    public double computeSecondsPerShare() {
        long n = shares.sum();
        return n == 0 ? 0 : computeNanos.sum() / 1e9 / n;
    }

    /** Logical workers of the job. */
    public int workers() {
        return workers;
    }

    /** Logical workers that compute in the submitting JVM (workers 0..here-1). */
    public int workersHere() {
        return here;
    }

    /** Shares (worker-steps) computed per node ({@code host:port}) so far. */
    public synchronized Map<String, Long> sharesPerNode() {
        return Map.copyOf(sharesPerNode);
    }

    /** Shares moved to a free node worker at an epoch start ({@link #rebalance}). */
    public synchronized int sharesMoved() {
        return moved;
    }

    /** Worker nodes this job lost. */
    public synchronized int nodesLost() {
        return lost.size();
    }
}
