package dev.descent.engine.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How a JVM joins a Descent cluster, Context style (fluent setters, {@link #conclude()}), and the Pekko
 * configuration it becomes ({@link #toConfig()}). Every node of one cluster must use the same system name,
 * split-brain resolver and failure-detector settings; {@code descent-cluster.conf} (on the class path) registers
 * {@link SlabSerializer}.
 *
 * <p><b>Downing.</b> Pekko's split-brain resolver with {@code keep-oldest} restricted to the role
 * {@value #SUBMITTER_ROLE} and {@code down-if-alone = off}: in any partition, the side holding the (oldest)
 * submitting node stays and every node it cannot reach is downed after {@code stable-after}. A worker node is
 * stateless between steps (the parameters, the optimizer state and the batch order live on the submitting node),
 * so losing any number of worker nodes costs only their share, which the job re-deals; losing the submitting node
 * loses the job, whatever the strategy. keep-majority would down the submitter of a 1-submitter + 1-worker cluster
 * half of the time, and static-quorum needs a fixed size.
 */
public final class ClusterSettings {
    /** Actor system name of every node (part of each node's address). */
    public static final String SYSTEM_NAME = "descent-cluster";
    public static final String SUBMITTER_ROLE = "descent-submitter";
    public static final String WORKER_ROLE = "descent-worker";
    public static final int DEFAULT_NODE_PORT = 25520;
    public static final String HOST_DEFAULT = "127.0.0.1";
    public static final Duration STABLE_AFTER_DEFAULT = Duration.ofSeconds(3);
    public static final Duration HEARTBEAT_PAUSE_DEFAULT = Duration.ofSeconds(5);
    public static final Duration JOIN_TIMEOUT_DEFAULT = Duration.ofSeconds(60);
    /** Room left in each Artery frame for the envelope and the chunk header. */
    static final int FRAME_HEADROOM = 4096;

    private String host = HOST_DEFAULT;
    private int port = -1;
    private final List<String> seedNodes = new ArrayList<>();
    private String role = WORKER_ROLE;
    private int workers = 1;
    private Duration stableAfter = STABLE_AFTER_DEFAULT;
    private Duration heartbeatPause = HEARTBEAT_PAUSE_DEFAULT;
    private Duration joinTimeout = JOIN_TIMEOUT_DEFAULT;
    private boolean exitJvmWhenDowned;
    private boolean concluded;

    /** Address this node binds and advertises (default 127.0.0.1). */
    public ClusterSettings host(String host) {
        this.host = host;
        return this;
    }

    /** Port of this node (0: any free one; default 25520 for a worker node, 0 for a submitter). */
    public ClusterSettings port(int port) {
        this.port = port;
        return this;
    }

    /** {@code host:port} of the seed nodes (a node listing itself first starts a new cluster). */
    public ClusterSettings seedNodes(List<String> hostPorts) {
        seedNodes.clear();
        seedNodes.addAll(hostPorts);
        return this;
    }

    /** {@link #WORKER_ROLE} (default) or {@link #SUBMITTER_ROLE}. */
    public ClusterSettings role(String role) {
        this.role = role;
        return this;
    }

    /** Compute threads (node workers) of a worker node. */
    public ClusterSettings workers(int workers) {
        this.workers = workers;
        return this;
    }

    /** How long the membership must be stable before the split-brain resolver downs unreachable nodes. */
    public ClusterSettings stableAfter(Duration d) {
        this.stableAfter = d;
        return this;
    }

    /** Heartbeats missed for this long make a node unreachable (Pekko's default is 3 s). */
    public ClusterSettings heartbeatPause(Duration d) {
        this.heartbeatPause = d;
        return this;
    }

    /** A submitter waits this long for the cluster and its worker nodes before failing. */
    public ClusterSettings joinTimeout(Duration d) {
        this.joinTimeout = d;
        return this;
    }

    /** A worker node's JVM exits once the node is downed or leaves (default off: an SDK host decides). */
    public ClusterSettings exitJvmWhenDowned(boolean on) {
        this.exitJvmWhenDowned = on;
        return this;
    }

    public ClusterSettings conclude() {
        if (seedNodes.isEmpty()) {
            throw new IllegalArgumentException("a cluster needs at least one seed node (host:port)");
        }
        for (String s : seedNodes) {
            parseHostPort(s);
        }
        if (port < 0) {
            port = role.equals(SUBMITTER_ROLE) ? 0 : DEFAULT_NODE_PORT;
        }
        if (port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers per node must be >= 1, was " + workers);
        }
        if (!role.equals(WORKER_ROLE) && !role.equals(SUBMITTER_ROLE)) {
            throw new IllegalArgumentException("role must be " + WORKER_ROLE + " or " + SUBMITTER_ROLE + ", was "
                    + role);
        }
        for (Duration d : List.of(stableAfter, heartbeatPause, joinTimeout)) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("cluster durations must be > 0, was " + d);
            }
        }
        concluded = true;
        return this;
    }

    /** Splits {@code host:port}; a clear error otherwise. */
    public static String[] parseHostPort(String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("seed node '" + s + "' is not host:port");
        }
        try {
            int p = Integer.parseInt(s.substring(colon + 1));
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("seed node '" + s + "': bad port");
        }
        return new String[] {s.substring(0, colon), s.substring(colon + 1)};
    }

    /** The Pekko configuration of this node (on top of {@code descent-cluster.conf} and reference.conf). */
    public Config toConfig() {
        if (!concluded) {
            conclude();
        }
        StringBuilder seeds = new StringBuilder();
        for (String s : seedNodes) {
            String[] hp = parseHostPort(s);
            seeds.append(seeds.isEmpty() ? "" : ", ").append('"').append("pekko://").append(SYSTEM_NAME).append('@')
                    .append(hp[0]).append(':').append(hp[1]).append('"');
        }
        String text = String.format(Locale.ROOT, """
                pekko.actor.provider = cluster
                pekko.remote.artery.canonical.hostname = "%s"
                pekko.remote.artery.canonical.port = %d
                pekko.cluster.seed-nodes = [%s]
                pekko.cluster.roles = ["%s"]
                pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
                pekko.cluster.split-brain-resolver.active-strategy = keep-oldest
                pekko.cluster.split-brain-resolver.keep-oldest.down-if-alone = off
                pekko.cluster.split-brain-resolver.keep-oldest.role = "%s"
                pekko.cluster.split-brain-resolver.stable-after = %dms
                pekko.cluster.failure-detector.acceptable-heartbeat-pause = %dms
                pekko.coordinated-shutdown.exit-jvm = %s
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = %s
                descent.job-dispatcher {
                  type = Dispatcher
                  executor = "thread-pool-executor"
                  thread-pool-executor.fixed-pool-size = %d
                  throughput = 1
                }
                """, host, port, seeds, role, SUBMITTER_ROLE, stableAfter.toMillis(), heartbeatPause.toMillis(),
                exitJvmWhenDowned ? "on" : "off", exitJvmWhenDowned ? "on" : "off", workers);
        return ConfigFactory.parseString(text).withFallback(ConfigFactory.parseResources(
                ClusterSettings.class.getClassLoader(), "descent-cluster.conf")).withFallback(ConfigFactory.load());
    }

    /**
     * Payload bytes per chunk: the frame size of Artery's large-message stream (every message to a node worker or
     * a remote worker travels on it, {@code descent-cluster.conf}) minus room for the envelope and header.
     */
    static int chunkBytes(Config config) {
        long frame = config.getBytes("pekko.remote.artery.advanced.maximum-large-frame-size");
        return (int) Math.max(4096, (frame - FRAME_HEADROOM) & ~63L);
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public List<String> seedNodes() {
        return List.copyOf(seedNodes);
    }

    public String role() {
        return role;
    }

    public int workers() {
        return workers;
    }

    public Duration joinTimeout() {
        return joinTimeout;
    }
}
