package dev.descent.engine.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The cluster's Micrometer meters, on {@link Metrics#globalRegistry} (add a Prometheus registry to it to export
 * them; the CLI does when given {@code --metrics-port}). Tag {@code node} is the peer node ({@code host:port}).
 *
 * <ul>
 *   <li>{@code descent.cluster.wire.bytes{node,direction=sent|received}} — payload bytes of the cluster protocol.</li>
 *   <li>{@code descent.cluster.step.bytes{node}} — bytes both ways of one worker's share of one step; the sum
 *       over a job's workers is the job's bytes per step (also the gauge {@code descent.cluster.job.step{job}},
 *       in bytes, while the job runs).</li>
 *   <li>{@code descent.cluster.transport{node}} — per share: round trip minus the node's compute time, i.e.
 *       serialization, transport and deserialization both ways plus mailbox waits.</li>
 *   <li>{@code descent.cluster.shares{node}} — shares (worker-steps) computed on that node.</li>
 *   <li>{@code descent.cluster.node.losses} — worker nodes lost by running jobs.</li>
 *   <li>{@code descent.cluster.unreachable.nodes}, {@code descent.cluster.members} — from the cluster state.</li>
 *   <li>{@code descent.cluster.serialization} — CPU time in this serializer (both directions) of this JVM.</li>
 * </ul>
 */
public final class ClusterMetrics {
    private ClusterMetrics() {
    }

    private static MeterRegistry registry() {
        return Metrics.globalRegistry;
    }

    static void recordShare(String node, long bytesSent, long bytesReceived, long transportNanos) {
        MeterRegistry r = registry();
        Counter.builder("descent.cluster.wire.bytes").baseUnit("bytes").tag("node", node).tag("direction", "sent")
                .register(r).increment(bytesSent);
        Counter.builder("descent.cluster.wire.bytes").baseUnit("bytes").tag("node", node)
                .tag("direction", "received").register(r).increment(bytesReceived);
        DistributionSummary.builder("descent.cluster.step.bytes").baseUnit("bytes").tag("node", node).register(r)
                .record(bytesSent + bytesReceived);
        Timer.builder("descent.cluster.transport").tag("node", node).register(r)
                .record(Math.max(0, transportNanos), TimeUnit.NANOSECONDS);
        Counter.builder("descent.cluster.shares").tag("node", node).register(r).increment();
    }

    /** A worker node's view: one share computed for the submitting node {@code peer}. */
    static void recordNodeShare(String peer, long bytesIn, long bytesOut, long computeNanos) {
        MeterRegistry r = registry();
        Counter.builder("descent.cluster.wire.bytes").baseUnit("bytes").tag("node", peer).tag("direction", "received")
                .register(r).increment(bytesIn);
        Counter.builder("descent.cluster.wire.bytes").baseUnit("bytes").tag("node", peer).tag("direction", "sent")
                .register(r).increment(bytesOut);
        Timer.builder("descent.cluster.node.compute").tag("node", peer).register(r)
                .record(computeNanos, TimeUnit.NANOSECONDS);
    }

    static void shareMoved(String toNode) {
        Counter.builder("descent.cluster.shares.moved").tag("node", toNode).register(registry()).increment();
    }

    static void nodeLost(String node) {
        Counter.builder("descent.cluster.node.losses").tag("node", node).register(registry()).increment();
    }

    /** The job's bytes-per-step gauge; remove it with {@link #unbind} when the job is over. */
    static Gauge bindJob(String job, Supplier<Number> bytesPerStep) {
        return Gauge.builder("descent.cluster.job.step", bytesPerStep).tag("job", job).baseUnit("bytes")
                .strongReference(true).register(registry());
    }

    static void unbind(Gauge gauge) {
        registry().remove(gauge);
    }

    /** Gauges of the cluster state of {@code system} and the serializer's time; once per JVM. */
    static synchronized void bindCluster(org.apache.pekko.cluster.Cluster cluster) {
        MeterRegistry r = registry();
        if (r.find("descent.cluster.members").gauge() != null) {
            return;
        }
        Gauge.builder("descent.cluster.unreachable.nodes", cluster, c -> c.state().getUnreachable().size())
                .register(r);
        Gauge.builder("descent.cluster.members", cluster, c -> {
            int n = 0;
            for (org.apache.pekko.cluster.Member m : c.state().getMembers()) {
                if (m.status() == org.apache.pekko.cluster.MemberStatus.up()) {
                    n++;
                }
            }
            return n;
        }).register(r);
        FunctionCounter.builder("descent.cluster.serialization", SlabSerializer.SERIALIZE_NANOS,
                a -> (a.sum() + SlabSerializer.DESERIALIZE_NANOS.sum()) / 1e9).baseUnit("seconds").register(r);
    }
}
