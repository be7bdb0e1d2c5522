package dev.descent.monitoring;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.BackpropMemory;
import dev.descent.engine.event.TrainingEvent.CheckpointWritten;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.GradientNoiseScale;
import dev.descent.engine.event.TrainingEvent.GradientStats;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import dev.descent.engine.event.TrainingListener;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Micrometer binder over {@link TrainingEvent}s: pass it to training as a {@link TrainingListener} and every
 * event becomes meters on the given {@link MeterRegistry} (the host's registry when Descent is embedded in a
 * service, or the Prometheus registry that {@link Monitoring} creates). The metric names, types and labels
 * are listed in {@link MetricNames} and explained in docs/metrics.md.
 *
 * <p>Every meter carries the label {@code job} (the event's job). Other labels are bounded: {@code split},
 * {@code strategy}, {@code kind} and {@code layer} each keep at most {@link #MAX_LABEL_VALUES} distinct values
 * per job, and values beyond that fold into one more, {@code "other"}; nothing is labelled by step or sample.
 *
 * <p>The listener runs on the training thread. After the first event of a job (which registers its meters),
 * the per-step path ({@code StepCompleted}, {@code GradientStats} with the same layers, {@code BackpropMemory})
 * only does map look-ups, counter increments and volatile writes: no allocation (a test checks this with
 * {@code ThreadMXBean.getThreadAllocatedBytes}). Gauge values live in holders that this object references
 * strongly, so they never disappear from a scrape after a GC.
 *
 * <p>Thread-safety: events of one job arrive in order (one thread at a time); different jobs may report
 * from different threads concurrently.
 */
public final class TrainingMetrics implements TrainingListener, AutoCloseable {
    /** The most distinct values one bounded label (split, strategy, kind, layer) takes per job. */
    public static final int MAX_LABEL_VALUES = 256;
    /** The label value that collects everything beyond {@link #MAX_LABEL_VALUES}. */
    public static final String OTHER = "other";
    /**
     * Anomaly kinds whose counters exist (at 0) from a job's first event, so that rate() and increase() see
     * their first occurrence. Other kinds the engine reports appear when they first happen. Kinds are written with
     * underscores: the engine's {@code non-finite-loss} is counted as {@code non_finite_loss}.
     */
    public static final List<String> ANOMALY_KINDS = List.of("nan_loss", "exploding_gradient", "worker_retry",
            "non_finite_loss");

    private final MeterRegistry registry;
    private final Map<String, JobMeters> jobs = new ConcurrentHashMap<>();
    private final Meter buildInfo;
    private final DoubleHolder one = new DoubleHolder(1.0);

    /** Binds to {@code registry} with this library's version in {@code descent_build_info}. */
    public TrainingMetrics(MeterRegistry registry) {
        this(registry, BuildInfo.version());
    }

    /** Binds to {@code registry}; {@code version} is the value of {@code descent_build_info{version}}. */
    public TrainingMetrics(MeterRegistry registry, String version) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.buildInfo = Gauge.builder(MetricNames.BUILD_INFO, one, DoubleHolder::get)
                .description("Descent build information; always 1")
                .tags("version", Objects.requireNonNull(version, "version"))
                .strongReference(true)
                .register(registry);
    }

    /** The registry the meters live on. */
    public MeterRegistry registry() {
        return registry;
    }

    @Override
    public void onEvent(TrainingEvent event) {
        JobMeters job = job(event.job());
        switch (event) {
            case StepCompleted e -> job.onStep(e);
            case GradientStats e -> job.onGradients(e);
            case EpochCompleted e -> job.onEpoch(e);
            case EvaluationCompleted e -> job.onEvaluation(e);
            case BackpropMemory e -> job.onBackpropMemory(e);
            case CheckpointWritten e -> job.onCheckpoint(e);
            case Anomaly e -> job.onAnomaly(e);
            case GradientNoiseScale e -> job.onNoiseScale(e);
        }
    }

    /** Removes the meters of one job (a long-running service that runs many jobs calls this when one ends). */
    public void removeJob(String job) {
        JobMeters meters = jobs.remove(job);
        if (meters != null) {
            meters.remove();
        }
    }

    /** The jobs that have meters, in no particular order. */
    public List<String> jobNames() {
        return new ArrayList<>(jobs.keySet());
    }

    /** Removes every meter this binder registered (the registry itself stays open: it belongs to its owner). */
    @Override
    public void close() {
        for (String job : jobNames()) {
            removeJob(job);
        }
        registry.remove(buildInfo);
    }

    private JobMeters job(String name) {
        JobMeters meters = jobs.get(name); // the per-step path: a plain get, no capturing lambda
        if (meters == null) {
            meters = jobs.computeIfAbsent(name, n -> new JobMeters(registry, Tags.of("job", n)));
        }
        return meters;
    }
}
