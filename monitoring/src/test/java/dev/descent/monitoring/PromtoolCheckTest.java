package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.BackpropMemory;
import dev.descent.engine.event.TrainingEvent.CheckpointWritten;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.GradientStats;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code promtool check metrics} (Prometheus' own linter) accepts the real scrape output. */
class PromtoolCheckTest {

    @Test
    void shouldPassPromtoolCheckMetricsOnTheRealScrape() throws Exception {
        Path promtool = PrometheusTools.promtool();
        try (Monitoring m = Monitoring.start(new MonitoringConfig().port(0).job("lint"));
             HttpClient client = HttpClient.newHttpClient()) {
            var l = m.listener();
            l.onEvent(new StepCompleted("lint", 1, 0, 2.0, 0.1, 32, 0.01));
            l.onEvent(new GradientStats("lint", 1, List.of("0:linear", "2:linear"), new double[]{1e-3, 0.5},
                    new double[]{1e-3, 2e-3}, 0.5));
            l.onEvent(new EpochCompleted("lint", 1, 0, 2.0, 0.3, 1.0, 32));
            l.onEvent(new EvaluationCompleted("lint", 1, 0, "test", 2.1, 0.25));
            l.onEvent(new BackpropMemory("lint", 1, "vanilla", 1 << 20, 4));
            l.onEvent(new CheckpointWritten("lint", 1, "/tmp/c", 4096, 0.01));
            l.onEvent(new Anomaly("lint", 1, "nan_loss", "NaN"));
            System.gc(); // so that the GC meters have samples too
            String scrape = client.send(HttpRequest.newBuilder(m.metricsUri()).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertThat(scrape).contains("descent_gradient_norm", "jvm_gc_pause_seconds", "descent_build_info");

            Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
            p.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
            p.getOutputStream().close();
            String out = readAll(p);
            assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("promtool finished").isTrue();
            assertThat(p.exitValue()).as("promtool check metrics said:\n%s", out).isZero();
        }
    }

    private static String readAll(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
