package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.samples.DescentCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `descent train --metrics-port 0` serves live Prometheus metrics of the real run on 127.0.0.1. */
class TrainMetricsTest {
    private static final Pattern URL = Pattern.compile("metrics: (http://127\\.0\\.0\\.1:\\d+)/metrics");

    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    @Test
    void shouldServeTheRunsMetricsWhileTraining(@TempDir Path out) throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        CompletableFuture<Integer> run;
        String base = null;
        String metrics;
        String jobs;
        try {
            run = CompletableFuture.supplyAsync(() -> DescentCli.commandLine().execute("train", "--data-dir",
                    TrainCommandTest.dataDir.toString(), "--train-limit", "3000", "--epochs", "2", "--widths", "32",
                    "--workers", "2", "--metrics-port", "0", "--metrics-linger", "20", "--out", out.toString()));
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            String text = "";
            while (System.nanoTime() < deadline && !text.contains("done: test accuracy") && !run.isDone()) {
                Thread.sleep(200);
                text = captured.toString(StandardCharsets.UTF_8);
                Matcher m = URL.matcher(text);
                if (base == null && m.find()) {
                    base = m.group(1);
                }
            }
            assertThat(base).as("the metrics URL is printed: " + text).isNotNull();
            assertThat(text).contains("done: test accuracy");
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            jobs = http.send(HttpRequest.newBuilder(URI.create(base + "/api/jobs")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
        } finally {
            System.setOut(old);
        }
        // 3000 examples / batch 128 = 24 steps per epoch, 2 epochs
        assertThat(metrics).containsPattern("descent_train_steps_total\\{[^}]*job=\"train\"[^}]*} 48(\\.0)?\\n");
        assertThat(metrics).contains("descent_loss{").contains("split=\"test\"")
                .contains("descent_accuracy_ratio{").contains("descent_activation_peak_bytes{");
        // two workers: the gradient noise scale from their two shard gradients, on by default
        assertThat(metrics).containsPattern("descent_gradient_noise_scale\\{[^}]*job=\"train\"[^}]*} [0-9.eE+-]+\\n");
        assertThat(jobs).contains("\"train\"").containsIgnoringCase("finished");
    }
}
