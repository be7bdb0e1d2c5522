package dev.descent.monitoring;

import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.BackpropMemory;
import dev.descent.engine.event.TrainingEvent.CheckpointWritten;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.GradientNoiseScale;
import dev.descent.engine.event.TrainingEvent.GradientStats;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The meters of one job. Created on the job's first event; afterwards the per-step handlers only look up
 * cached meters and holders.
 */
final class JobMeters {
    /** Bucket bounds of descent_step_duration_seconds: 0.5 ms .. 60 s, about 2.5x apart. */
    static final Duration[] STEP_BUCKETS = {
            Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
            Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
            Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)};

    static final String SPLIT_BATCH = "batch";
    static final String SPLIT_TRAIN = "train";

    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> meters = new CopyOnWriteArrayList<>();

    private final Counter steps;
    private final Counter examples;
    private final Timer stepDuration;
    private final DoubleHolder step = new DoubleHolder(0);
    private final DoubleHolder epoch = new DoubleHolder(0);
    private final DoubleHolder lastStepTime = new DoubleHolder(0);
    private final DoubleHolder learningRate = new DoubleHolder(Double.NaN);
    private final DoubleHolder batchLoss;

    // lazily registered: not every run writes checkpoints, evaluates, or reports gradients
    private final Bounded<DoubleHolder> loss;
    private final Bounded<DoubleHolder> accuracy;
    private final Bounded<DoubleHolder> peakBytes;
    private final Bounded<DoubleHolder> forwardEvaluations;
    private final Bounded<Counter> anomalies;
    private final Bounded<DoubleHolder> gradientNormByLayer;
    private final Bounded<DoubleHolder> updateRatioByLayer;
    private volatile DoubleHolder globalGradientNorm;
    private volatile DoubleHolder firstLastRatio;
    private volatile DoubleHolder noiseScale;
    private volatile DoubleHolder examplesPerSecond;
    private volatile DoubleHolder checkpointBytes;
    private final Timer checkpointWrite;

    // the layer list of the last GradientStats and its holders, index for index (the per-step cache)
    private List<String> layers = List.of();
    private DoubleHolder[] layerNorms = new DoubleHolder[0];
    private DoubleHolder[] layerRatios = new DoubleHolder[0];

    JobMeters(MeterRegistry registry, Tags jobTags) {
        this.registry = registry;
        this.tags = jobTags;
        steps = track(Counter.builder(MetricNames.STEPS).description("Optimizer steps completed")
                .tags(tags).register(registry));
        examples = track(Counter.builder(MetricNames.EXAMPLES).description("Training examples consumed")
                .tags(tags).register(registry));
        stepDuration = track(Timer.builder(MetricNames.STEP_DURATION)
                .description("Wall time of one optimizer step (forward, backward, update)")
                .serviceLevelObjectives(STEP_BUCKETS).tags(tags).register(registry));
        gauge(MetricNames.STEP, null, "The optimizer step the job is at", Tags.empty(), step);
        gauge(MetricNames.EPOCH, null, "The epoch the job is in", Tags.empty(), epoch);
        gauge(MetricNames.LAST_STEP_TIME, "seconds", "Unix time of the last completed step", Tags.empty(),
                lastStepTime);
        gauge(MetricNames.LEARNING_RATE, null, "Learning rate of the last step", Tags.empty(), learningRate);
        loss = new Bounded<>(split -> gauge(MetricNames.LOSS, null,
                "Loss per split: batch = last minibatch, train = epoch mean, else an evaluation",
                Tags.of("split", split), new DoubleHolder(Double.NaN)));
        accuracy = new Bounded<>(split -> gauge(MetricNames.ACCURACY, "ratio",
                "Fraction of correct predictions per split", Tags.of("split", split), new DoubleHolder(Double.NaN)));
        peakBytes = new Bounded<>(strategy -> gauge(MetricNames.ACTIVATION_PEAK, "bytes",
                "Peak live activation bytes of one training step under a backprop strategy",
                Tags.of("strategy", strategy), new DoubleHolder(0)));
        forwardEvaluations = new Bounded<>(strategy -> gauge(MetricNames.FORWARD_EVALUATIONS, null,
                "Forward layer evaluations of one training step under a backprop strategy",
                Tags.of("strategy", strategy), new DoubleHolder(0)));
        anomalies = new Bounded<>(kind -> track(Counter.builder(MetricNames.ANOMALIES)
                .description("Anomalies reported by the engine (NaN loss, exploding gradient, retried worker)")
                .tags(tags).tag("kind", kind).register(registry)));
        gradientNormByLayer = new Bounded<>(layer -> gauge(MetricNames.GRADIENT_NORM, null,
                "L2 norm of the layer's gradient", Tags.of("layer", layer), new DoubleHolder(Double.NaN)));
        updateRatioByLayer = new Bounded<>(layer -> gauge(MetricNames.UPDATE_RATIO, null,
                "Ratio of the update norm to the parameter norm of the layer (|dw|/|w|)",
                Tags.of("layer", layer), new DoubleHolder(Double.NaN)));
        batchLoss = loss.get(SPLIT_BATCH);
        // Counters that start at 0 make the first increment visible to rate()/increase(); a counter that
        // appears at 1 would not be.
        for (String kind : TrainingMetrics.ANOMALY_KINDS) {
            anomalies.get(kind);
        }
        checkpointWrite = track(Timer.builder(MetricNames.CHECKPOINT_WRITE).description("Time to write one checkpoint")
                .tags(tags).register(registry));
    }

    void onStep(StepCompleted e) {
        steps.increment();
        examples.increment(e.examples());
        stepDuration.record((long) (e.seconds() * 1e9), TimeUnit.NANOSECONDS);
        step.set(e.step());
        epoch.set(e.epoch());
        lastStepTime.set(System.currentTimeMillis() / 1000.0);
        learningRate.set(e.learningRate());
        batchLoss.set(e.loss());
    }

    void onGradients(GradientStats e) {
        List<String> names = e.layers();
        if (!sameLayers(names)) {
            relayer(names);
        }
        double[] norms = e.gradientNorms();
        double[] ratios = e.updateRatios();
        DoubleHolder[] n = layerNorms;
        DoubleHolder[] r = layerRatios;
        for (int i = 0; i < n.length; i++) {
            n[i].set(norms[i]);
            r[i].set(ratios[i]);
        }
        DoubleHolder global = globalGradientNorm;
        if (global == null) {
            global = gauge(MetricNames.GLOBAL_GRADIENT_NORM, null, "L2 norm of the whole gradient", Tags.empty(),
                    new DoubleHolder(Double.NaN));
            globalGradientNorm = global;
        }
        global.set(e.globalGradientNorm());
        if (norms.length >= 2) {
            DoubleHolder ratio = firstLastRatio;
            if (ratio == null) {
                ratio = gauge(MetricNames.GRADIENT_FIRST_LAST_RATIO, null, "Gradient norm of the first layer over "
                        + "that of the last (<< 1 vanishing, >> 1 exploding toward the input)", Tags.empty(),
                        new DoubleHolder(Double.NaN));
                firstLastRatio = ratio;
            }
            ratio.set(norms[0] / norms[norms.length - 1]);
        }
    }

    void onNoiseScale(GradientNoiseScale e) {
        DoubleHolder b = noiseScale;
        if (b == null) {
            b = gauge(MetricNames.NOISE_SCALE, null, "Gradient noise scale B_simple = tr(Sigma)/|G|^2 in examples "
                    + "(McCandlish et al. 2018), smoothed; about the critical batch size", Tags.empty(),
                    new DoubleHolder(Double.NaN));
            noiseScale = b;
        }
        b.set(e.noiseScale());
    }

    void onEpoch(EpochCompleted e) {
        epoch.set(e.epoch());
        loss.get(SPLIT_TRAIN).set(e.trainLoss());
        accuracy.get(SPLIT_TRAIN).set(e.trainAccuracy());
        DoubleHolder eps = examplesPerSecond;
        if (eps == null) {
            eps = gauge(MetricNames.EXAMPLES_PER_SECOND, null, "Training throughput of the last completed epoch",
                    Tags.empty(), new DoubleHolder(0));
            examplesPerSecond = eps;
        }
        eps.set(e.examplesPerSecond());
    }

    void onEvaluation(EvaluationCompleted e) {
        loss.get(e.split()).set(e.loss());
        accuracy.get(e.split()).set(e.accuracy());
    }

    void onBackpropMemory(BackpropMemory e) {
        peakBytes.get(e.strategy()).set(e.peakActivationBytes());
        forwardEvaluations.get(e.strategy()).set(e.forwardEvaluations());
    }

    void onCheckpoint(CheckpointWritten e) {
        DoubleHolder size = checkpointBytes;
        if (size == null) {
            size = gauge(MetricNames.CHECKPOINT_SIZE, "bytes", "Size of the last checkpoint written", Tags.empty(),
                    new DoubleHolder(0));
            checkpointBytes = size;
        }
        checkpointWrite.record((long) (e.seconds() * 1e9), TimeUnit.NANOSECONDS);
        size.set(e.bytes());
    }

    void onAnomaly(Anomaly e) {
        anomalies.get(e.kind().replace('-', '_')).increment();
    }

    void remove() {
        for (Meter m : meters) {
            registry.remove(m);
        }
        meters.clear();
    }

    private boolean sameLayers(List<String> names) {
        List<String> cached = layers;
        if (cached == names) {
            return true;
        }
        int n = names.size();
        if (cached.size() != n) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!cached.get(i).equals(names.get(i))) {
                return false;
            }
        }
        return true;
    }

    private void relayer(List<String> names) {
        DoubleHolder[] norms = new DoubleHolder[names.size()];
        DoubleHolder[] ratios = new DoubleHolder[names.size()];
        for (int i = 0; i < norms.length; i++) {
            norms[i] = gradientNormByLayer.get(names.get(i));
            ratios[i] = updateRatioByLayer.get(names.get(i));
        }
        layerNorms = norms;
        layerRatios = ratios;
        layers = names;
    }

    private DoubleHolder gauge(String name, String baseUnit, String description, Tags extra, DoubleHolder holder) {
        track(Gauge.builder(name, holder, DoubleHolder::get).description(description).baseUnit(baseUnit)
                .tags(tags).tags(extra).strongReference(true).register(registry));
        return holder;
    }

    private <M extends Meter> M track(M meter) {
        meters.add(meter);
        return meter;
    }

    /**
     * Values per label value, created on first use, at most {@link TrainingMetrics#MAX_LABEL_VALUES} of them;
     * further label values share the {@link TrainingMetrics#OTHER} entry.
     */
    private static final class Bounded<T> {
        private final Map<String, T> byLabel = new ConcurrentHashMap<>();
        private final Function<String, T> create;

        Bounded(Function<String, T> create) {
            this.create = create;
        }

        T get(String label) {
            T value = byLabel.get(label);
            if (value != null) {
                return value;
            }
            String key = byLabel.size() < TrainingMetrics.MAX_LABEL_VALUES ? label : TrainingMetrics.OTHER;
            return byLabel.computeIfAbsent(key, create);
        }
    }
}
