package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.engine.backprop.BackpropStrategy;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The whole monitoring path against a real Prometheus: a real (small) training run feeds the MetricsServer;
 * Prometheus (Debian's 2.42, unpacked by scripts/fetch-prometheus.sh) scrapes it with the repo's
 * grafana/prometheus.yml (target replaced by the server's real port, scrape interval 1 s); then every query of
 * every panel and templating variable of every dashboard in grafana/dashboards is evaluated through
 * Prometheus' HTTP API, with Grafana's variables substituted, and each must return at least one series.
 */
class PrometheusEndToEndTest {
    static final String JOB = "e2e-blobs";
    private static final Duration READY_DEADLINE = Duration.ofSeconds(30);
    private static final Duration QUERY_DEADLINE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.+),\\s*(\\w+)\\)");

    @Test
    void shouldAnswerEveryDashboardQueryFromARealScrapeOfARealTrainingRun() throws Exception {
        Path prometheus = PrometheusTools.prometheus();
        Path tmp = Files.createTempDirectory("descent-e2e");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> trainingError = new AtomicReference<>();
        Process server = null;
        Thread trainer = null;
        long started = System.nanoTime();
        try (Monitoring monitoring = Monitoring.start(new MonitoringConfig().port(0).job(JOB));
             HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            Path checkpoints = Files.createDirectories(tmp.resolve("checkpoints"));
            trainer = Thread.ofPlatform().name("e2e-training").start(() -> {
                try (RealTraining run = new RealTraining(JOB, monitoring.listener(), checkpoints,
                        BackpropStrategy.checkpointed(), 64, 5, 4096, 64, 64, 64)) {
                    run.run(10_000, stop::get);
                } catch (Throwable t) {
                    trainingError.set(t);
                }
            });
            System.gc(); // the GC panel needs one collection to have happened; a long run has many

            int promPort = freePort();
            Path config = writeConfig(tmp, monitoring.port());
            Path log = tmp.resolve("prometheus.log");
            server = new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + tmp.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + promPort,
                    "--log.level=warn").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            URI api = URI.create("http://127.0.0.1:" + promPort);
            awaitReady(client, api, server, log);

            Map<String, String> vars = Map.of("job", JOB, "instance", "127.0.0.1:" + monitoring.port(),
                    "__rate_interval", "5s", "__interval", "1s", "__range", "1m");
            Map<String, String> queries = dashboardQueries(vars);
            assertThat(queries).hasSizeGreaterThan(30);

            Map<String, String> pending = new LinkedHashMap<>(queries);
            Map<String, String> lastAnswer = new LinkedHashMap<>();
            long deadline = System.nanoTime() + QUERY_DEADLINE.toNanos();
            while (!pending.isEmpty() && System.nanoTime() < deadline) {
                assertThat(trainingError.get()).as("training failed").isNull();
                assertThat(server.isAlive()).as("prometheus exited; log:\n%s", readLog(log)).isTrue();
                for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
                    var q = it.next();
                    JsonNode answer = query(client, api, q.getValue());
                    lastAnswer.put(q.getKey(), answer.toString());
                    if (answer.path("status").asText().equals("success")
                            && answer.path("data").path("result").size() > 0) {
                        it.remove();
                    }
                }
                if (!pending.isEmpty()) {
                    Thread.sleep(1000);
                }
            }
            List<String> failures = new ArrayList<>();
            pending.forEach((where, expr) -> failures.add(where + "\n    " + expr + "\n    -> " + lastAnswer.get(where)));
            assertThat(failures).as("dashboard queries without series after %ss (prometheus log:\n%s)",
                    QUERY_DEADLINE.toSeconds(), readLog(log)).isEmpty();

            // the training job's own label survived the scrape (honor_labels), and the step counter moved
            JsonNode steps = query(client, api, "descent_train_steps_total{job=\"" + JOB + "\"}");
            assertThat(steps.path("data").path("result").get(0).path("value").get(1).asDouble()).isPositive();
            System.out.printf("e2e: %d dashboard queries answered in %.1f s (training, scrape every 1 s)%n",
                    queries.size(), (System.nanoTime() - started) / 1e9);
        } finally {
            stop.set(true);
            if (trainer != null) {
                trainer.join(30_000);
            }
            if (server != null) {
                server.destroy();
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            deleteTree(tmp);
        }
    }

    /** The repo's prometheus.yml with the Descent target at our port and a 1 s scrape interval. */
    static Path writeConfig(Path dir, int metricsPort) throws IOException {
        String original = Files.readString(PrometheusTools.repoRoot().resolve("grafana/prometheus.yml"));
        String target = "host.docker.internal:9464";
        assertThat(original).as("grafana/prometheus.yml scrapes %s", target).contains(target)
                .contains("scrape_interval: 5s").contains("honor_labels: true");
        String config = original.replace(target, "127.0.0.1:" + metricsPort)
                .replace("scrape_interval: 5s", "scrape_interval: 1s")
                .replace("evaluation_interval: 5s", "evaluation_interval: 1s");
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, config);
        // the alerting rules, where rule_files (relative to the config) expects them
        Path rules = PrometheusTools.repoRoot().resolve("grafana/alerts/descent-alerts.yml");
        if (config.contains("alerts/descent-alerts.yml") && Files.exists(rules)) {
            Files.createDirectories(dir.resolve("alerts"));
            Files.copy(rules, dir.resolve("alerts/descent-alerts.yml"));
        }
        return file;
    }

    /** "file: panel 'title' [refId]" -> PromQL with variables substituted; label_values(...) -> a count query. */
    static Map<String, String> dashboardQueries(Map<String, String> vars) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        for (Path file : DashboardStructureTest.dashboards()) {
            JsonNode d = JSON.readTree(file.toFile());
            String name = file.getFileName().toString();
            for (JsonNode v : d.path("templating").path("list")) {
                String q = v.path("query").isObject() ? v.path("query").path("query").asText() : v.path("query").asText();
                Matcher m = LABEL_VALUES.matcher(q);
                if (m.matches()) {
                    q = "count by (" + m.group(2) + ") (" + m.group(1) + ")";
                }
                out.put(name + ": variable $" + v.path("name").asText(), substitute(q, vars));
            }
            for (JsonNode p : DashboardStructureTest.panels(d)) {
                for (JsonNode t : p.path("targets")) {
                    out.put(name + ": panel '" + p.path("title").asText() + "' [" + t.path("refId").asText() + "]",
                            substitute(t.path("expr").asText(), vars));
                }
            }
        }
        return out;
    }

    static String substitute(String expr, Map<String, String> vars) {
        String s = expr;
        // longest names first, so $__range does not eat the start of $__range_s
        List<String> names = new ArrayList<>(vars.keySet());
        names.sort(Comparator.comparingInt(String::length).reversed());
        for (String n : names) {
            s = s.replace("${" + n + "}", vars.get(n)).replace("$" + n, vars.get(n));
        }
        assertThat(s).as("unsubstituted variable in %s", expr).doesNotContain("$");
        return s;
    }

    private static JsonNode query(HttpClient client, URI api, String promql) throws IOException, InterruptedException {
        URI uri = URI.create(api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static void awaitReady(HttpClient client, URI api, Process server, Path log) throws Exception {
        long deadline = System.nanoTime() + READY_DEADLINE.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(server.isAlive()).as("prometheus exited; log:\n%s", readLog(log)).isTrue();
            try {
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(api.resolve("/-/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("prometheus not ready after " + READY_DEADLINE + "; log:\n" + readLog(log));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String readLog(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
