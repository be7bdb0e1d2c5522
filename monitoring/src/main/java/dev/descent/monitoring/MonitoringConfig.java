package dev.descent.monitoring;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Configuration of {@link Monitoring} and {@link MetricsServer}, as a context object: fluent setters named
 * after the property, then {@link #conclude()} validates and fills defaults (system properties
 * {@code X_PROP_NAME}, else {@code X_DEFAULT}).
 *
 * <pre>{@code
 * try (Monitoring m = Monitoring.start(new MonitoringConfig().port(9464).job("fashion-mlp"))) {
 *     trainer.train(..., m.listener());
 * }
 * }</pre>
 */
public final class MonitoringConfig {
    public static final String HOST_PROP_NAME = "descent.metrics.host";
    /** Loopback only: exposing metrics to the network is an explicit choice ({@code host("0.0.0.0")}). */
    public static final String HOST_DEFAULT = "127.0.0.1";
    public static final String PORT_PROP_NAME = "descent.metrics.port";
    /** The port the docs, prometheus.yml and the dashboards assume. 0 binds any free port. */
    public static final int PORT_DEFAULT = 9464;
    public static final String JOB_PROP_NAME = "descent.metrics.job";
    public static final String JOB_DEFAULT = "descent";
    public static final int MAX_CONNECTIONS_DEFAULT = 16;
    public static final int MAX_REQUEST_BYTES_DEFAULT = 8 * 1024;
    public static final int IDLE_TIMEOUT_MS_DEFAULT = 60_000;
    public static final int REQUEST_TIMEOUT_MS_DEFAULT = ConnectionGuard.Limits.REQUEST_TIMEOUT_MS_DEFAULT;
    public static final long STALLED_AFTER_MS_DEFAULT = 60_000;

    private String host;
    private int port = -1;
    private String job;
    private int maxConnections;
    private int maxRequestBytes;
    private int idleTimeoutMs;
    private int requestTimeoutMs;
    private long stalledAfterMs;
    private boolean jvmMetrics = true;
    private PrometheusMeterRegistry registry;
    private boolean concluded;

    /** Interface to bind; default {@value #HOST_DEFAULT}. */
    public MonitoringConfig host(String host) {
        this.host = host;
        return this;
    }

    public String host() {
        return host;
    }

    /** TCP port, 0..65535; 0 = any free port (see {@link MetricsServer#port()}); default {@value #PORT_DEFAULT}. */
    public MonitoringConfig port(int port) {
        this.port = port;
        return this;
    }

    public int port() {
        return port;
    }

    /**
     * Value of the {@code job} label on process-wide meters (JVM, build info); training meters carry the
     * job name of their events. Default {@value #JOB_DEFAULT}.
     */
    public MonitoringConfig job(String job) {
        this.job = job;
        return this;
    }

    public String job() {
        return job;
    }

    /**
     * Connections open at once (three quarters of them per client address); a new one beyond the bound replaces the oldest
     * idle or incomplete connection, and only when all are busy is it answered 503. Default
     * {@value #MAX_CONNECTIONS_DEFAULT}.
     */
    public MonitoringConfig maxConnections(int maxConnections) {
        this.maxConnections = maxConnections;
        return this;
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** Largest request body accepted (bigger: 413). Default {@value #MAX_REQUEST_BYTES_DEFAULT}. */
    public MonitoringConfig maxRequestBytes(int maxRequestBytes) {
        this.maxRequestBytes = maxRequestBytes;
        return this;
    }

    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    /** A connection that sends nothing for this long is closed. Default {@value #IDLE_TIMEOUT_MS_DEFAULT}. */
    public MonitoringConfig idleTimeoutMs(int idleTimeoutMs) {
        this.idleTimeoutMs = idleTimeoutMs;
        return this;
    }

    public int idleTimeoutMs() {
        return idleTimeoutMs;
    }

    /**
     * A connection that has not sent a complete request this long after connecting (or after its previous response
     * started a new one) is closed; trickled bytes do not extend it. Default {@value #REQUEST_TIMEOUT_MS_DEFAULT}.
     */
    public MonitoringConfig requestTimeoutMs(int requestTimeoutMs) {
        this.requestTimeoutMs = requestTimeoutMs;
        return this;
    }

    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    /** A running job with no event for this long shows as STALLED. Default {@value #STALLED_AFTER_MS_DEFAULT}. */
    public MonitoringConfig stalledAfterMs(long stalledAfterMs) {
        this.stalledAfterMs = stalledAfterMs;
        return this;
    }

    public long stalledAfterMs() {
        return stalledAfterMs;
    }

    /** Bind Micrometer's JVM binders (memory, GC, threads, classes, CPU, uptime). Default true. */
    public MonitoringConfig jvmMetrics(boolean jvmMetrics) {
        this.jvmMetrics = jvmMetrics;
        return this;
    }

    public boolean jvmMetrics() {
        return jvmMetrics;
    }

    /**
     * A Prometheus registry the host already owns (it stays open after {@link Monitoring#close()}); by default
     * Monitoring creates and closes its own. A host with another kind of registry uses {@link TrainingMetrics}
     * directly instead.
     */
    public MonitoringConfig registry(PrometheusMeterRegistry registry) {
        this.registry = registry;
        return this;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** Validates and fills defaults; idempotent. */
    public MonitoringConfig conclude() {
        if (concluded) {
            return this;
        }
        if (host == null) {
            host = System.getProperty(HOST_PROP_NAME, HOST_DEFAULT);
        }
        if (host.isBlank()) {
            throw new IllegalArgumentException("host must not be blank");
        }
        if (port < 0) {
            port = Integer.getInteger(PORT_PROP_NAME, PORT_DEFAULT);
        }
        if (port > 65_535 || port < 0) {
            throw new IllegalArgumentException("port must be in 0..65535 (0 = any free port): " + port);
        }
        if (job == null) {
            job = System.getProperty(JOB_PROP_NAME, JOB_DEFAULT);
        }
        if (job.isBlank()) {
            throw new IllegalArgumentException("job must not be blank");
        }
        maxConnections = positive("maxConnections", maxConnections, MAX_CONNECTIONS_DEFAULT);
        maxRequestBytes = positive("maxRequestBytes", maxRequestBytes, MAX_REQUEST_BYTES_DEFAULT);
        idleTimeoutMs = positive("idleTimeoutMs", idleTimeoutMs, IDLE_TIMEOUT_MS_DEFAULT);
        requestTimeoutMs = positive("requestTimeoutMs", requestTimeoutMs, REQUEST_TIMEOUT_MS_DEFAULT);
        if (stalledAfterMs < 0) {
            throw new IllegalArgumentException("stalledAfterMs must be > 0: " + stalledAfterMs);
        }
        if (stalledAfterMs == 0) {
            stalledAfterMs = STALLED_AFTER_MS_DEFAULT;
        }
        concluded = true;
        return this;
    }

    private static int positive(String name, int value, int def) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be > 0: " + value);
        }
        return value == 0 ? def : value;
    }

    @Override
    public String toString() {
        return "MonitoringConfig{host=" + host + ", port=" + port + ", job=" + job + ", maxConnections="
                + maxConnections + ", maxRequestBytes=" + maxRequestBytes + ", idleTimeoutMs=" + idleTimeoutMs
                + ", stalledAfterMs=" + stalledAfterMs + ", jvmMetrics=" + jvmMetrics + "}";
    }
}
