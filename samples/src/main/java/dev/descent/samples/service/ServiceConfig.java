package dev.descent.samples.service;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Limits and credentials of the {@link JobService}, as a context object: fluent setters, {@link #conclude()} fills
 * defaults (system properties {@code X_PROP_NAME}, else {@code X_DEFAULT}) and validates. The defaults are safe: a
 * random bearer token, a memory budget, per-request caps and a bound on concurrent jobs and connections.
 */
public final class ServiceConfig {
    /** Environment variable with the bearer token; when unset the service generates one and prints it. */
    public static final String TOKEN_ENV_NAME = "DESCENT_SERVICE_TOKEN";
    public static final String MEMORY_BUDGET_PROP_NAME = "descent.service.memory.budget.bytes";
    /** Off-heap bytes all admitted jobs (and the datasets they share) may need together. */
    public static final long MEMORY_BUDGET_BYTES_DEFAULT = 2L << 30;
    public static final int MAX_CONCURRENT_JOBS_DEFAULT = 4;
    public static final int MAX_EPOCHS_DEFAULT = 100;
    public static final int MAX_BATCH_DEFAULT = 4096;
    public static final int MAX_FINISHED_JOBS_DEFAULT = 100;
    public static final int MAX_CONNECTIONS_DEFAULT = 16;
    public static final int REQUEST_TIMEOUT_MS_DEFAULT = 3_000;
    public static final int IDLE_TIMEOUT_MS_DEFAULT = 30_000;
    /** Shortest token accepted (a configured one), in characters. */
    public static final int MIN_TOKEN_LENGTH = 16;

    private String token;
    private long memoryBudgetBytes = -1;
    private int maxConcurrentJobs;
    private int maxWorkers;
    private int maxEpochs;
    private int maxBatch;
    private int maxFinishedJobs;
    private int maxConnections;
    private int requestTimeoutMs;
    private int idleTimeoutMs;
    private boolean concluded;

    /** The bearer token clients send as {@code Authorization: Bearer <token>}; default: env, else random. */
    public ServiceConfig token(String token) {
        this.token = token;
        return this;
    }

    public String token() {
        return token;
    }

    /** Default {@link #MEMORY_BUDGET_BYTES_DEFAULT} (2 GiB). */
    public ServiceConfig memoryBudgetBytes(long bytes) {
        this.memoryBudgetBytes = bytes;
        return this;
    }

    public long memoryBudgetBytes() {
        return memoryBudgetBytes;
    }

    /** Jobs admitted and not yet finished; default {@value #MAX_CONCURRENT_JOBS_DEFAULT}. */
    public ServiceConfig maxConcurrentJobs(int n) {
        this.maxConcurrentJobs = n;
        return this;
    }

    public int maxConcurrentJobs() {
        return maxConcurrentJobs;
    }

    /** Largest {@code workers} of a request; default: the number of cores (at least 2). */
    public ServiceConfig maxWorkers(int n) {
        this.maxWorkers = n;
        return this;
    }

    public int maxWorkers() {
        return maxWorkers;
    }

    /** Largest {@code epochs}; default {@value #MAX_EPOCHS_DEFAULT}. */
    public ServiceConfig maxEpochs(int n) {
        this.maxEpochs = n;
        return this;
    }

    public int maxEpochs() {
        return maxEpochs;
    }

    /** Largest {@code batch}; default {@value #MAX_BATCH_DEFAULT}. */
    public ServiceConfig maxBatch(int n) {
        this.maxBatch = n;
        return this;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Finished jobs kept for {@code GET}; older ones are forgotten. Default {@value #MAX_FINISHED_JOBS_DEFAULT}. */
    public ServiceConfig maxFinishedJobs(int n) {
        this.maxFinishedJobs = n;
        return this;
    }

    public int maxFinishedJobs() {
        return maxFinishedJobs;
    }

    /** Connections at once (as the metrics server: see ConnectionGuard); default {@value #MAX_CONNECTIONS_DEFAULT}. */
    public ServiceConfig maxConnections(int n) {
        this.maxConnections = n;
        return this;
    }

    public int maxConnections() {
        return maxConnections;
    }

    /** Time to send a complete request; default {@value #REQUEST_TIMEOUT_MS_DEFAULT}. */
    public ServiceConfig requestTimeoutMs(int ms) {
        this.requestTimeoutMs = ms;
        return this;
    }

    public int requestTimeoutMs() {
        return requestTimeoutMs;
    }

    /** Keep-alive idle time after a response; default {@value #IDLE_TIMEOUT_MS_DEFAULT}. */
    public ServiceConfig idleTimeoutMs(int ms) {
        this.idleTimeoutMs = ms;
        return this;
    }

    public int idleTimeoutMs() {
        return idleTimeoutMs;
    }

    /** Whether the token was generated here (then the service prints it at start). */
    boolean generatedToken;

    /** Validates and fills defaults; idempotent. */
    public ServiceConfig conclude() {
        if (concluded) {
            return this;
        }
        if (token == null) {
            String env = System.getenv(TOKEN_ENV_NAME);
            if (env != null && !env.isBlank()) {
                token = env.strip();
            } else {
                byte[] b = new byte[32];
                new SecureRandom().nextBytes(b);
                token = Base64.getUrlEncoder().withoutPadding().encodeToString(b);
                generatedToken = true;
            }
        }
        if (token.length() < MIN_TOKEN_LENGTH || !token.chars().allMatch(c -> c > 32 && c < 127)) {
            throw new IllegalArgumentException("the service token must be at least " + MIN_TOKEN_LENGTH
                    + " printable ASCII characters without spaces (was " + token.length() + " characters)");
        }
        if (memoryBudgetBytes < 0) {
            memoryBudgetBytes = Long.getLong(MEMORY_BUDGET_PROP_NAME, MEMORY_BUDGET_BYTES_DEFAULT);
        }
        if (memoryBudgetBytes <= 0) {
            throw new IllegalArgumentException("memoryBudgetBytes must be > 0, was " + memoryBudgetBytes);
        }
        maxConcurrentJobs = positive("maxConcurrentJobs", maxConcurrentJobs, MAX_CONCURRENT_JOBS_DEFAULT);
        maxWorkers = positive("maxWorkers", maxWorkers, Math.max(2, Runtime.getRuntime().availableProcessors()));
        maxEpochs = positive("maxEpochs", maxEpochs, MAX_EPOCHS_DEFAULT);
        maxBatch = positive("maxBatch", maxBatch, MAX_BATCH_DEFAULT);
        maxFinishedJobs = positive("maxFinishedJobs", maxFinishedJobs, MAX_FINISHED_JOBS_DEFAULT);
        maxConnections = positive("maxConnections", maxConnections, MAX_CONNECTIONS_DEFAULT);
        requestTimeoutMs = positive("requestTimeoutMs", requestTimeoutMs, REQUEST_TIMEOUT_MS_DEFAULT);
        idleTimeoutMs = positive("idleTimeoutMs", idleTimeoutMs, IDLE_TIMEOUT_MS_DEFAULT);
        concluded = true;
        return this;
    }

    private static int positive(String name, int value, int dflt) {
        if (value < 0) {
            throw new IllegalArgumentException(name + " must be > 0, was " + value);
        }
        return value == 0 ? dflt : value;
    }
}
