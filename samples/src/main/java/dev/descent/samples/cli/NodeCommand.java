package dev.descent.samples.cli;

import dev.descent.monitoring.Monitoring;
import dev.descent.monitoring.MonitoringConfig;
import dev.descent.sdk.ClusterNode;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.samples.UserError;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent node}: a worker node of a Descent cluster, until Ctrl-C or until the cluster downs it. */
@Command(name = "node", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Start a worker node that joins a Descent cluster and computes the workers' shares of the jobs "
                + "submitted with `descent train --cluster`. Runs until Ctrl-C (it leaves the cluster) or until the "
                + "cluster downs it. See docs/cluster.md.")
public final class NodeCommand implements Callable<Integer> {
    @Option(names = "--seed-nodes", required = true, split = ",", description = "host:port of the seed nodes; the first node of a new cluster lists itself")
    List<String> seedNodes;

    @Option(names = "--port", defaultValue = "25520", description = "cluster port of this node (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address this node binds and advertises (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--workers", defaultValue = "1", description = "compute slots (one thread each) this node offers (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--heartbeat-pause", defaultValue = "5", description = "seconds of missed heartbeats before a node is unreachable; the same on every node (default: ${DEFAULT-VALUE})")
    double heartbeatPause;

    @Option(names = "--stable-after", defaultValue = "3", description = "seconds of stable membership before unreachable nodes are downed; the same on every node (default: ${DEFAULT-VALUE})")
    double stableAfter;

    @Option(names = "--metrics-port", description = "serve Prometheus metrics (bytes on the wire, shares, unreachable nodes) on this port")
    Integer metricsPort;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1", description = "address the metrics server binds (default: ${DEFAULT-VALUE})")
    String metricsHost;

    @Override
    public Integer call() throws Exception {
        if (workers < 1) {
            throw new UserError("--workers must be >= 1, was " + workers);
        }
        DescentConfig config = new DescentConfig().workers(workers).cluster(seedNodes).clusterHost(host)
                .clusterPort(port).clusterFailureDetection(seconds(heartbeatPause), seconds(stableAfter));
        try {
            config.conclude();
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        Monitoring monitoring = null;
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<ClusterNode> current = new java.util.concurrent.atomic.AtomicReference<>();
        Thread hook = new Thread(() -> {
            stopping.set(true);
            ClusterNode n = current.get();
            if (n != null) {
                n.close(); // leave the cluster
            }
        }, "descent-node-leave");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            if (metricsPort != null) {
                monitoring = Monitoring.start(new MonitoringConfig().host(metricsHost).port(metricsPort).job("node"));
                System.out.println("metrics: " + monitoring.metricsUri());
            }
            // A node the cluster downed (unreachable for too long, or every node of a cluster without a submitting
            // node when one of them became unreachable) rejoins as a new member: it holds no state between steps.
            while (!stopping.get()) {
                try (ClusterNode node = Descent.joinCluster(config)) {
                    current.set(node);
                    System.out.println("descent node: " + node.address() + " with " + workers + " worker(s), joining "
                            + String.join(",", seedNodes) + " ...");
                    node.awaitUp(Duration.ofDays(3650)); // a node waits for its seeds as long as it runs
                    System.out.println("descent node: up; waiting for jobs (Ctrl-C leaves the cluster)");
                    node.awaitTermination();
                }
                if (!stopping.get()) {
                    System.out.println("descent node: removed from the cluster; rejoining in 2 s");
                    Thread.sleep(2000);
                }
            }
            System.out.println("descent node: stopped");
            return 0;
        } finally {
            if (monitoring != null) {
                monitoring.close();
            }
        }
    }

    private static Duration seconds(double s) {
        if (!(s > 0)) {
            throw new UserError("durations must be > 0 seconds, was " + s);
        }
        return Duration.ofMillis(Math.round(s * 1000));
    }
}
