package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.BackpropMemory;
import dev.descent.engine.event.TrainingEvent.CheckpointWritten;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.GradientStats;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TrainingMetricsTest {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final TrainingMetrics metrics = new TrainingMetrics(registry, "1.2.3");

    @AfterEach
    void close() {
        metrics.close();
        registry.close();
    }

    @Test
    void shouldTurnEveryEventIntoNamedMetersWithTheJobLabel() {
        metrics.onEvent(new StepCompleted("mlp", 1, 0, 2.5, 0.1, 32, 0.004));
        metrics.onEvent(new StepCompleted("mlp", 2, 0, 2.25, 0.05, 32, 0.2));
        metrics.onEvent(new GradientStats("mlp", 2, List.of("fc1", "fc2"), new double[]{1e-7, 3.0},
                new double[]{1e-4, 2e-3}, 3.5));
        metrics.onEvent(new EpochCompleted("mlp", 2, 1, 2.0, 0.25, 1.5, 640.0));
        metrics.onEvent(new EvaluationCompleted("mlp", 2, 1, "test", 2.125, 0.375));
        metrics.onEvent(new BackpropMemory("mlp", 2, "checkpointed", 4096, 7));
        metrics.onEvent(new CheckpointWritten("mlp", 2, "/tmp/x", 12345, 0.5));
        metrics.onEvent(new Anomaly("mlp", 2, "nan_loss", "loss is NaN"));
        metrics.onEvent(new Anomaly("mlp", 3, "non-finite-loss", "loss is Inf")); // the engine's spelling

        String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);

        assertThat(text).contains(
                "descent_train_steps_total{job=\"mlp\"} 2.0",
                "descent_train_examples_total{job=\"mlp\"} 64.0",
                "descent_train_step{job=\"mlp\"} 2.0",
                "descent_train_epoch{job=\"mlp\"} 1.0",
                "descent_learning_rate{job=\"mlp\"} 0.05",
                "descent_loss{job=\"mlp\",split=\"batch\"} 2.25",
                "descent_loss{job=\"mlp\",split=\"train\"} 2.0",
                "descent_loss{job=\"mlp\",split=\"test\"} 2.125",
                "descent_accuracy_ratio{job=\"mlp\",split=\"train\"} 0.25",
                "descent_accuracy_ratio{job=\"mlp\",split=\"test\"} 0.375",
                "descent_gradient_norm{job=\"mlp\",layer=\"fc1\"} 1.0E-7",
                "descent_gradient_norm{job=\"mlp\",layer=\"fc2\"} 3.0",
                "descent_gradient_global_norm{job=\"mlp\"} 3.5",
                "descent_gradient_norm_first_last_ratio{job=\"mlp\"} 3.3333333333333334E-8",
                "descent_anomalies_total{job=\"mlp\",kind=\"non_finite_loss\"} 1.0",
                "descent_update_ratio{job=\"mlp\",layer=\"fc1\"} 1.0E-4",
                "descent_update_ratio{job=\"mlp\",layer=\"fc2\"} 0.002",
                "descent_examples_per_second{job=\"mlp\"} 640.0",
                "descent_activation_peak_bytes{job=\"mlp\",strategy=\"checkpointed\"} 4096.0",
                "descent_forward_evaluations{job=\"mlp\",strategy=\"checkpointed\"} 7.0",
                "descent_checkpoint_write_seconds_count{job=\"mlp\"} 1",
                "descent_checkpoint_write_seconds_sum{job=\"mlp\"} 0.5",
                "descent_checkpoint_size_bytes{job=\"mlp\"} 12345.0",
                "descent_anomalies_total{job=\"mlp\",kind=\"nan_loss\"} 1.0",
                "descent_anomalies_total{job=\"mlp\",kind=\"exploding_gradient\"} 0.0",
                "descent_build_info{version=\"1.2.3\"} 1",
                "# TYPE descent_step_duration_seconds histogram",
                "descent_step_duration_seconds_bucket{job=\"mlp\",le=\"0.005\"} 1",
                "descent_step_duration_seconds_bucket{job=\"mlp\",le=\"0.25\"} 2",
                "descent_step_duration_seconds_count{job=\"mlp\"} 2");
        assertThat(text).doesNotContain("step=\"");
    }

    @Test
    void shouldKeepGaugesAcrossGarbageCollections() {
        metrics.onEvent(new StepCompleted("gc", 1, 0, 1.5, 0.01, 8, 0.001));
        metrics.onEvent(new GradientStats("gc", 1, List.of("a"), new double[]{0.5}, new double[]{1e-3}, 0.5));
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);
        assertThat(text).contains("descent_loss{job=\"gc\",split=\"batch\"} 1.5",
                "descent_gradient_norm{job=\"gc\",layer=\"a\"} 0.5", "descent_learning_rate{job=\"gc\"} 0.01");
    }

    @Test
    void shouldFoldLabelValuesBeyondTheBoundIntoOther() {
        for (int i = 0; i < TrainingMetrics.MAX_LABEL_VALUES + 10; i++) {
            metrics.onEvent(new EvaluationCompleted("wide", 1, 0, "split" + i, i, 0.5));
        }
        String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);
        long lossSeries = text.lines().filter(l -> l.startsWith("descent_loss{job=\"wide\"")).count();
        // the bound's worth of values (batch, split0, ...) plus "other", which collects the rest
        assertThat(lossSeries).isEqualTo(TrainingMetrics.MAX_LABEL_VALUES + 1);
        assertThat(text).contains("descent_loss{job=\"wide\",split=\"other\"} "
                + (double) (TrainingMetrics.MAX_LABEL_VALUES + 9));
    }

    @Test
    void shouldFollowAChangedLayerList() {
        metrics.onEvent(new GradientStats("m", 1, List.of("a", "b"), new double[]{1, 2}, new double[]{3, 4}, 5));
        metrics.onEvent(new GradientStats("m", 2, List.of("a", "c"), new double[]{6, 7}, new double[]{8, 9}, 10));
        String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);
        assertThat(text).contains("descent_gradient_norm{job=\"m\",layer=\"a\"} 6.0",
                "descent_gradient_norm{job=\"m\",layer=\"b\"} 2.0", "descent_gradient_norm{job=\"m\",layer=\"c\"} 7.0",
                "descent_update_ratio{job=\"m\",layer=\"c\"} 9.0");
    }

    @Test
    void shouldRemoveTheMetersOfAJobAndKeepTheOthers() {
        metrics.onEvent(new StepCompleted("gone", 1, 0, 1, 0.1, 4, 0.001));
        metrics.onEvent(new StepCompleted("kept", 1, 0, 1, 0.1, 4, 0.001));
        metrics.removeJob("gone");
        String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);
        assertThat(text).doesNotContain("job=\"gone\"").contains("descent_train_steps_total{job=\"kept\"} 1.0");
        assertThat(metrics.jobNames()).containsExactly("kept");
    }

    @Test
    void shouldNotAllocateOnThePerStepPath() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<TrainingEvent> events = new ArrayList<>();
        List<String> layers = List.of("fc1", "fc2", "fc3");
        for (int i = 0; i < 64; i++) {
            events.add(new StepCompleted("hot", i, 0, 1.0 / (i + 1), 0.1, 128, 0.001 * (i % 7 + 1)));
            // a fresh List each time, as the engine would publish it: the cache must compare by content
            events.add(new GradientStats("hot", i, new ArrayList<>(layers), new double[]{1, 2, 3},
                    new double[]{1e-3, 2e-3, 3e-3}, 4));
            events.add(new BackpropMemory("hot", i, "vanilla", 1L << 20, 3));
        }
        long tid = Thread.currentThread().threadId();
        for (int round = 0; round < 200; round++) { // warm up: register meters, let the JIT compile the path
            feed(events);
        }
        long before = threads.getThreadAllocatedBytes(tid);
        int rounds = 500;
        for (int round = 0; round < rounds; round++) {
            feed(events);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        double perEvent = allocated / (double) (rounds * events.size());
        assertThat(perEvent).as("bytes allocated per event (%d bytes over %d events)", allocated,
                rounds * events.size()).isLessThan(1.0);
    }

    private void feed(List<TrainingEvent> events) {
        for (int i = 0, n = events.size(); i < n; i++) {
            metrics.onEvent(events.get(i));
        }
    }
}
