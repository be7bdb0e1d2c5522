package dev.descent.monitoring;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.config.MeterFilterReply;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;

/**
 * Live monitoring in one call, for the command line and for services that do not have a registry yet:
 * a Prometheus registry (its own, or the host's), the {@link TrainingMetrics} binder, JVM metrics, the
 * {@link JobBoard} and the {@link MetricsServer}.
 *
 * <pre>{@code
 * try (Monitoring monitoring = Monitoring.start(new MonitoringConfig().port(9464).job("train"))) {
 *     System.out.println("metrics: " + monitoring.metricsUri());
 *     trainer.train(model, data, monitoring.listener());   // events -> meters + job status
 *     monitoring.jobs().finished("train");
 * }
 * }</pre>
 *
 * Every process-wide meter (JVM, build info) carries the label {@code job} = {@link MonitoringConfig#job()};
 * training meters carry the job name of their events (use the same name so dashboards line them up).
 */
public final class Monitoring implements AutoCloseable {
    private final MonitoringConfig config;
    private final PrometheusMeterRegistry registry;
    private final boolean ownsRegistry;
    private final TrainingMetrics metrics;
    private final JobBoard jobs;
    private final List<AutoCloseable> binders;
    private final MetricsServer server;
    private final TrainingListener listener;

    private Monitoring(MonitoringConfig config, PrometheusMeterRegistry registry, boolean ownsRegistry,
                       TrainingMetrics metrics, JobBoard jobs, List<AutoCloseable> binders, MetricsServer server) {
        this.config = config;
        this.registry = registry;
        this.ownsRegistry = ownsRegistry;
        this.metrics = metrics;
        this.jobs = jobs;
        this.binders = binders;
        this.server = server;
        this.listener = new Fanout(metrics, jobs);
    }

    /**
     * Creates the registry (unless the config brings one), binds the meters and starts the HTTP server.
     *
     * @throws IllegalStateException if the server cannot bind its address
     */
    public static Monitoring start(MonitoringConfig config) {
        MonitoringConfig c = config.conclude();
        boolean owns = c.registry() == null;
        PrometheusMeterRegistry registry = owns ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : c.registry();
        List<AutoCloseable> binders = new ArrayList<>();
        TrainingMetrics metrics = null;
        try {
            if (owns) {
                registry.config().commonTags("job", c.job()).meterFilter(PROMTOOL_CLEAN);
            }
            metrics = new TrainingMetrics(registry);
            if (c.jvmMetrics()) {
                bindJvm(registry, binders);
            }
            JobBoard jobs = new JobBoard(c.stalledAfterMs());
            MetricsServer server = MetricsServer.start(c, registry, jobs);
            if (owns) {
                // meters registered globally (the cluster's bytes on the wire, unreachable nodes) are exported too
                io.micrometer.core.instrument.Metrics.addRegistry(registry);
            }
            return new Monitoring(c, registry, owns, metrics, jobs, binders, server);
        } catch (RuntimeException e) {
            closeAll(binders);
            if (metrics != null) {
                metrics.close();
            }
            if (owns) {
                registry.close();
            }
            throw e;
        }
    }

    /**
     * Keeps the exposition clean for {@code promtool check metrics}: Micrometer's ProcessorMetrics names two
     * meters against Prometheus conventions. {@code process.cpu.time} (nanoseconds, "abbreviated unit") is
     * dropped: {@code process_cpu_usage} carries the same information; {@code system.cpu.count} (a gauge
     * with a {@code _count} suffix) is exposed as {@code system_cpu_cores}.
     */
    static final MeterFilter PROMTOOL_CLEAN = new MeterFilter() {
        @Override
        public MeterFilterReply accept(Meter.Id id) {
            return id.getName().equals("process.cpu.time") ? MeterFilterReply.DENY : MeterFilterReply.NEUTRAL;
        }

        @Override
        public Meter.Id map(Meter.Id id) {
            return id.getName().equals("system.cpu.count") ? id.withName("system.cpu.cores") : id;
        }
    };

    private static void bindJvm(PrometheusMeterRegistry registry, List<AutoCloseable> binders) {
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new JvmInfoMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        JvmGcMetrics gc = new JvmGcMetrics();
        gc.bindTo(registry);
        binders.add(gc);
        JvmHeapPressureMetrics pressure = new JvmHeapPressureMetrics();
        pressure.bindTo(registry);
        binders.add(pressure);
    }

    /** The listener to pass to training: feeds the meters and the job board. */
    public TrainingListener listener() {
        return listener;
    }

    /** The port the server listens on (the real one when the config said 0). */
    public int port() {
        return server.port();
    }

    /** {@code http://host:port/metrics}. */
    public URI metricsUri() {
        return server.metricsUri();
    }

    /** The registry scraped at /metrics (add your own meters to it if you like). */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    public TrainingMetrics metrics() {
        return metrics;
    }

    /** The job status behind /api/jobs; report the end of a job here ({@code finished}, {@code failed}). */
    public JobBoard jobs() {
        return jobs;
    }

    public MetricsServer server() {
        return server;
    }

    public MonitoringConfig config() {
        return config;
    }

    /** Stops the server, unbinds the meters, and closes the registry if Monitoring created it. */
    @Override
    public void close() {
        server.close();
        closeAll(binders);
        metrics.close();
        if (ownsRegistry) {
            io.micrometer.core.instrument.Metrics.removeRegistry(registry);
            registry.close();
        }
    }

    private static void closeAll(List<AutoCloseable> closeables) {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // closing a JVM binder only unregisters notification listeners; nothing to recover
            }
        }
    }

    /** Metrics first, then the job board; created once, so the per-event path allocates nothing. */
    private record Fanout(TrainingMetrics metrics, JobBoard jobs) implements TrainingListener {
        @Override
        public void onEvent(TrainingEvent event) {
            metrics.onEvent(event);
            jobs.onEvent(event);
        }
    }
}
