package dev.descent.sdk;

import java.nio.file.Path;

/**
 * Engine configuration, Context style: fluent setters named after the property, {@link #conclude()} validates
 * and fills defaults (also read from system properties {@code X_PROP_NAME}).
 * <pre>{@code
 * try (DescentEngine engine = Descent.start(new DescentConfig().workers(2).checkpointDir(Path.of("ckpt")))) { ... }
 * }</pre>
 */
public final class DescentConfig {
    public static final String WORKERS_PROP_NAME = "descent.workers";
    public static final String THREADS_PROP_NAME = "descent.threads";
    public static final String MEMORY_BUDGET_PROP_NAME = "descent.memory.budget.bytes";
    public static final String CHECKPOINT_DIR_PROP_NAME = "descent.checkpoint.dir";
    /** Default workers per job: one per core. */
    public static final int WORKERS_DEFAULT = Runtime.getRuntime().availableProcessors();
    /** Default GEMM threads per worker (1: deterministic). */
    public static final int THREADS_DEFAULT = 1;
    /** Default memory budget: 0, no limit. */
    public static final long MEMORY_BUDGET_BYTES_DEFAULT = 0;
    public static final String CHECKPOINT_DIR_DEFAULT = "checkpoints";

    private int workers = -1;
    private int threads = -1;
    private long memoryBudgetBytes = -1;
    private Path checkpointDir;
    private String systemName = "descent";
    private final java.util.List<String> clusterSeeds = new java.util.ArrayList<>();
    private int clusterNodes = 1;
    private int clusterSubmitterWorkers;
    private String clusterHost = "127.0.0.1";
    private int clusterPort = -1;
    private java.time.Duration clusterJoinTimeout = java.time.Duration.ofSeconds(60);
    private java.time.Duration clusterHeartbeatPause = java.time.Duration.ofSeconds(5);
    private java.time.Duration clusterStableAfter = java.time.Duration.ofSeconds(3);
    private boolean concluded;

    /** Default workers of a job that does not say (default: one per core). */
    public DescentConfig workers(int workers) {
        this.workers = workers;
        return this;
    }

    /** GEMM threads per worker for jobs that do not say (default 1). */
    public DescentConfig threads(int threads) {
        this.threads = threads;
        return this;
    }

    /**
     * Off-heap bytes all jobs together may hold (parameters, gradients, moments, batches, datasets); a submit
     * that would exceed it is refused. 0 = no limit.
     */
    public DescentConfig memoryBudgetBytes(long bytes) {
        this.memoryBudgetBytes = bytes;
        return this;
    }

    /** Parent folder of the jobs' checkpoint folders (one sub-folder per job name). */
    public DescentConfig checkpointDir(Path dir) {
        this.checkpointDir = dir;
        return this;
    }

    /** Name of the actor system the engine creates (ignored when attaching to a host's). */
    public DescentConfig systemName(String name) {
        this.systemName = name;
        return this;
    }

    /**
     * Run jobs on a Pekko cluster: {@link Descent#start} joins the seed nodes ({@code host:port}) as the submitting
     * node and each job's workers run on worker nodes ({@code descent node}, {@link Descent#joinCluster}); the
     * supervisor, aggregator, evaluation and checkpoints stay in this JVM. For {@link Descent#joinCluster}: the
     * seed nodes to join (list the node itself first to start a new cluster). Empty (default): no cluster.
     */
    public DescentConfig cluster(java.util.List<String> seedNodes) {
        clusterSeeds.clear();
        clusterSeeds.addAll(seedNodes);
        return this;
    }

    /** Worker nodes a job waits for and uses (default 1); jobs take one worker per node worker unless they say. */
    public DescentConfig clusterNodes(int nodes) {
        this.clusterNodes = nodes;
        return this;
    }

    /**
     * Logical workers of each cluster job that compute in the submitting JVM itself, as ordinary local workers
     * (default 0: the submitter only aggregates). Their shares never cross the wire; the others run on the worker
     * nodes. The job's worker count includes them (with no explicit count: these plus one per node worker).
     */
    public DescentConfig clusterSubmitterWorkers(int workers) {
        this.clusterSubmitterWorkers = workers;
        return this;
    }

    /** Address this JVM binds and advertises in the cluster (default 127.0.0.1). */
    public DescentConfig clusterHost(String host) {
        this.clusterHost = host;
        return this;
    }

    /** Cluster port of this JVM (default: 25520 for a worker node, any free port for a submitting one). */
    public DescentConfig clusterPort(int port) {
        this.clusterPort = port;
        return this;
    }

    /** How long a submit waits for the cluster and its worker nodes (default 60 s) before failing. */
    public DescentConfig clusterJoinTimeout(java.time.Duration timeout) {
        this.clusterJoinTimeout = timeout;
        return this;
    }

    /**
     * Node-loss detection, the same on every node of a cluster: heartbeats missed for {@code heartbeatPause}
     * (default 5 s) make a node unreachable; the split-brain resolver downs it after {@code stableAfter} (default
     * 3 s) of stable membership.
     */
    public DescentConfig clusterFailureDetection(java.time.Duration heartbeatPause, java.time.Duration stableAfter) {
        this.clusterHeartbeatPause = heartbeatPause;
        this.clusterStableAfter = stableAfter;
        return this;
    }

    /** Validates and fills defaults; returns this. */
    public DescentConfig conclude() {
        if (workers < 0) {
            workers = Integer.getInteger(WORKERS_PROP_NAME, WORKERS_DEFAULT);
        }
        if (threads < 0) {
            threads = Integer.getInteger(THREADS_PROP_NAME, THREADS_DEFAULT);
        }
        if (memoryBudgetBytes < 0) {
            memoryBudgetBytes = Long.getLong(MEMORY_BUDGET_PROP_NAME, MEMORY_BUDGET_BYTES_DEFAULT);
        }
        if (checkpointDir == null) {
            checkpointDir = Path.of(System.getProperty(CHECKPOINT_DIR_PROP_NAME, CHECKPOINT_DIR_DEFAULT));
        }
        if (workers < 1) {
            throw new IllegalArgumentException("workers must be >= 1, was " + workers);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (memoryBudgetBytes < 0) {
            throw new IllegalArgumentException("memory budget must be >= 0 bytes (0 = no limit), was "
                    + memoryBudgetBytes);
        }
        if (systemName == null || !systemName.matches("[A-Za-z0-9][A-Za-z0-9_-]*")) {
            throw new IllegalArgumentException("system name must be [A-Za-z0-9_-]+, was '" + systemName + "'");
        }
        if (clusterNodes < 1) {
            throw new IllegalArgumentException("cluster nodes must be >= 1, was " + clusterNodes);
        }
        if (clusterSubmitterWorkers < 0) {
            throw new IllegalArgumentException("cluster submitter workers must be >= 0, was " + clusterSubmitterWorkers);
        }
        if (!clusterSeeds.isEmpty()) {
            clusterSettings(false).conclude(); // validates host:port, durations
        }
        concluded = true;
        return this;
    }

    /** The engine-side cluster settings of this configuration. */
    dev.descent.engine.cluster.ClusterSettings clusterSettings(boolean workerNode) {
        dev.descent.engine.cluster.ClusterSettings s = new dev.descent.engine.cluster.ClusterSettings()
                .seedNodes(clusterSeeds).host(clusterHost).joinTimeout(clusterJoinTimeout)
                .heartbeatPause(clusterHeartbeatPause).stableAfter(clusterStableAfter)
                .role(workerNode ? dev.descent.engine.cluster.ClusterSettings.WORKER_ROLE
                        : dev.descent.engine.cluster.ClusterSettings.SUBMITTER_ROLE)
                .workers(Math.max(1, workers));
        if (clusterPort >= 0) {
            s.port(clusterPort);
        }
        return s;
    }

    /** True when jobs run on a cluster. */
    public boolean isCluster() {
        return !clusterSeeds.isEmpty();
    }

    public java.util.List<String> clusterSeedNodes() {
        return java.util.List.copyOf(clusterSeeds);
    }

    public int clusterNodes() {
        return clusterNodes;
    }

    public int clusterSubmitterWorkers() {
        return clusterSubmitterWorkers;
    }

    public java.time.Duration clusterJoinTimeout() {
        return clusterJoinTimeout;
    }

    boolean isConcluded() {
        return concluded;
    }

    public int workers() {
        return workers;
    }

    public int threads() {
        return threads;
    }

    public long memoryBudgetBytes() {
        return memoryBudgetBytes;
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    public String systemName() {
        return systemName;
    }
}
