package dev.descent.monitoring;

/**
 * The Micrometer names of Descent's meters, with the Prometheus name each one is exposed as (Micrometer's
 * Prometheus naming convention turns dots into underscores, appends the base unit and {@code _total} for
 * counters). docs/metrics.md explains each one; grafana/dashboards query them.
 */
public final class MetricNames {
    /** Counter {@code descent_train_steps_total}: optimizer steps completed. */
    public static final String STEPS = "descent.train.steps";
    /** Counter {@code descent_train_examples_total}: training examples consumed. */
    public static final String EXAMPLES = "descent.train.examples";
    /** Gauge {@code descent_train_step}: the optimizer step the job is at (continues after a resume). */
    public static final String STEP = "descent.train.step";
    /** Gauge {@code descent_train_epoch}: the epoch the job is in. */
    public static final String EPOCH = "descent.train.epoch";
    /** Gauge {@code descent_train_last_step_timestamp_seconds}: Unix time of the last completed step. */
    public static final String LAST_STEP_TIME = "descent.train.last.step.timestamp";
    /** Gauge {@code descent_loss{split}}: split = batch (last minibatch), train (epoch mean), test, ... */
    public static final String LOSS = "descent.loss";
    /** Gauge {@code descent_accuracy_ratio{split}}: fraction of correct predictions, 0..1. */
    public static final String ACCURACY = "descent.accuracy";
    /** Gauge {@code descent_learning_rate}: the learning rate of the last step. */
    public static final String LEARNING_RATE = "descent.learning.rate";
    /** Gauge {@code descent_gradient_norm{layer}}: L2 norm of the layer's gradient. */
    public static final String GRADIENT_NORM = "descent.gradient.norm";
    /** Gauge {@code descent_gradient_global_norm}: L2 norm of the whole gradient (all layers). */
    public static final String GLOBAL_GRADIENT_NORM = "descent.gradient.global.norm";
    /**
     * Gauge {@code descent_gradient_noise_scale}: B_simple = tr(Σ)/‖G‖² (McCandlish et al. 2018) in examples,
     * smoothed; about the critical batch size. Published by every training run with a noise-scale interval (the
     * plan's default is 10 steps), in every mode: from the batch's parts (workers, micro-batches) or a half-batch
     * probe.
     */
    public static final String NOISE_SCALE = "descent.gradient.noise.scale";
    /** Gauge {@code descent_update_ratio{layer}}: ‖Δw‖/‖w‖ of the layer's last update. */
    public static final String UPDATE_RATIO = "descent.update.ratio";
    /** Gauge {@code descent_activation_peak_bytes{strategy}}: peak live activation bytes of a step. */
    public static final String ACTIVATION_PEAK = "descent.activation.peak";
    /** Gauge {@code descent_forward_evaluations{strategy}}: forward layer evaluations of one step. */
    public static final String FORWARD_EVALUATIONS = "descent.forward.evaluations";
    /** Histogram {@code descent_step_duration_seconds}: wall time of one optimizer step. */
    public static final String STEP_DURATION = "descent.step.duration";
    /** Gauge {@code descent_examples_per_second}: throughput of the last completed epoch. */
    public static final String EXAMPLES_PER_SECOND = "descent.examples.per.second";
    /** Summary {@code descent_checkpoint_write_seconds}: time to write a checkpoint (count, sum, max). */
    public static final String CHECKPOINT_WRITE = "descent.checkpoint.write";
    /** Gauge {@code descent_checkpoint_size_bytes}: size of the last checkpoint written. */
    public static final String CHECKPOINT_SIZE = "descent.checkpoint.size";
    /** Counter {@code descent_anomalies_total{kind}}: anomalies reported (NaN loss, exploding gradient, ...). */
    public static final String ANOMALIES = "descent.anomalies";
    /**
     * Gauge {@code descent_gradient_norm_first_last_ratio}: gradient norm of the first parameter-owning layer over
     * that of the last (far below 1: vanishing toward the input; far above 1: exploding toward the input).
     */
    public static final String GRADIENT_FIRST_LAST_RATIO = "descent.gradient.norm.first.last.ratio";
    /** Gauge {@code descent_build_info{version}}: always 1. */
    public static final String BUILD_INFO = "descent.build.info";

    private MetricNames() {
    }
}
