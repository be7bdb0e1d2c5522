package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.sdk.Activation;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.TrainingPlan;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.SplittableRandom;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The gauge {@code descent_gradient_noise_scale} exists during any training run: in-process, one sync worker whose
 * batch is one micro-batch, two sync workers, and async workers, with the plan's default interval.
 */
class NoiseScaleGaugeTest {
    private static TrainingPlan.Builder plan(String name, TrainingMetrics metrics) {
        SplittableRandom r = new SplittableRandom(3);
        int n = 400;
        float[][] x = new float[n][12];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < 12; f++) {
                x[i][f] = (float) ((f % 3 == y[i] ? 1.0 : 0.0) + r.nextGaussian());
            }
        }
        return TrainingPlan.builder().name(name).model(ModelDefinition.mlp().input(12).hidden(16)
                        .activation(Activation.RELU).output(3).init("kaiming-normal").seed(2).build())
                .train(DataSource.arrays("noisy-blobs", x, y, 3)).optimizer(Optimizer.momentum(0.05, 0.9))
                .batchSize(40).epochs(2).seed(4).threadsPerWorker(1).listener(metrics);
    }

    private static void assertGauge(String text, String job) {
        assertThat(text).as("job %s", job).containsPattern(Pattern.compile(
                "descent_gradient_noise_scale\\{job=\"" + job + "\"} [0-9][0-9.E+-]*\\n"));
    }

    @Test
    void shouldPublishTheNoiseScaleGaugeInEveryTrainingMode() throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (TrainingMetrics metrics = new TrainingMetrics(registry, "test")) {
            Descent.trainInProcess(plan("in-process", metrics).build());
            try (DescentEngine engine = Descent.start(new DescentConfig().workers(2).systemName("noise-gauge-test"))) {
                engine.submit(plan("one-worker", metrics).workers(1).build()).await();
                engine.submit(plan("two-workers", metrics).workers(2).build()).await();
                engine.submit(plan("async", metrics).workers(2).mode(TrainingPlan.Mode.ASYNC).build()).await();
            }
            String text = registry.scrape(HttpRoutes.PROMETHEUS_TEXT);
            for (String job : new String[] {"in-process", "one-worker", "two-workers", "async"}) {
                assertGauge(text, job);
            }
        } finally {
            registry.close();
        }
    }
}
