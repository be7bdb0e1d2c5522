package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.samples.DescentCli;
import dev.descent.samples.story.GradientsStory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped alerting rules against a real run: `descent train --metrics-port 0` on Fashion-MNIST with the
 * {@code exploding} configuration of `descent story gradients` (20 Linear layers, ReLU, Kaiming x2), scraped every
 * second by a real Prometheus (scripts/fetch-prometheus.sh) that loads grafana/prometheus.yml and
 * grafana/alerts/descent-alerts.yml (their {@code for:} durations shortened to 5 s). DescentGradientsExploding and
 * DescentLossNonFinite must fire for the job; DescentGradientsVanishing must not.
 */
class GradientAlertsEndToEndTest {
    private static final Pattern URL = Pattern.compile("metrics: http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEADLINE = Duration.ofSeconds(150);

    @BeforeAll
    static void data() {
        TrainCommandTest.findData();
    }

    @Test
    void shouldFireTheExplodingAndNonFiniteLossAlertsOnARealExplodingRun(@TempDir Path tmp) throws Exception {
        Path prometheus = prometheus();
        String[] exploding = GradientsStory.CONFIGS.get(2);
        assertThat(exploding[0]).isEqualTo("exploding");
        List<String> widths = Collections.nCopies(19, "64");
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream old = System.out;
        Thread training = null;
        Process server = null;
        List<String> seen = new ArrayList<>();
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            int[] exit = {-1};
            training = Thread.ofPlatform().name("exploding-run").start(() -> exit[0] = DescentCli.commandLine()
                    .execute("train", "--data-dir", TrainCommandTest.dataDir.toString(), "--train-limit", "2000",
                            "--epochs", "1", "--batch", "64", "--widths", String.join(",", widths), "--activation",
                            exploding[1], "--init", exploding[2], "--lr", "0.01", "--workers", "1",
                            "--gradient-stats-every", "1", "--metrics-port", "0", "--metrics-linger", "120",
                            "--out", tmp.resolve("run").toString()));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            int metricsPort = -1;
            while (metricsPort < 0 && System.nanoTime() < deadline && training.isAlive()) {
                Matcher m = URL.matcher(captured.toString(StandardCharsets.UTF_8));
                if (m.find()) {
                    metricsPort = Integer.parseInt(m.group(1));
                } else {
                    Thread.sleep(100);
                }
            }
            assertThat(metricsPort).as("the metrics URL is printed: %s", captured).isPositive();

            int promPort = freePort();
            Path config = config(tmp, metricsPort);
            Path log = tmp.resolve("prometheus.log");
            server = new ProcessBuilder(prometheus.toString(), "--config.file=" + config,
                    "--storage.tsdb.path=" + tmp.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + promPort,
                    "--log.level=warn").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            URI api = URI.create("http://127.0.0.1:" + promPort);
            boolean exploded = false;
            boolean nonFinite = false;
            double ratio = Double.NaN;
            double maxNorm = Double.NaN;
            while (!(exploded && nonFinite) && System.nanoTime() < deadline) {
                assertThat(server.isAlive()).as("prometheus exited; log:\n%s", read(log)).isTrue();
                Thread.sleep(1000);
                JsonNode alerts;
                try {
                    alerts = get(http, api.resolve("/api/v1/alerts")).path("data").path("alerts");
                } catch (IOException notYet) {
                    continue;
                }
                for (JsonNode a : alerts) {
                    String name = a.path("labels").path("alertname").asText();
                    String state = a.path("state").asText();
                    String job = a.path("labels").path("job").asText();
                    seen.add(name + "/" + job + "/" + state);
                    if (job.equals("train") && state.equals("firing")) {
                        exploded |= name.equals("DescentGradientsExploding");
                        nonFinite |= name.equals("DescentLossNonFinite");
                        assertThat(name).as("vanishing must not fire on the exploding run")
                                .isNotEqualTo("DescentGradientsVanishing");
                    }
                }
                ratio = value(http, api, "descent_gradient_norm_first_last_ratio{job=\"train\"}", ratio);
                maxNorm = value(http, api, "max(descent_gradient_norm{job=\"train\"})", maxNorm);
            }
            String out = captured.toString(StandardCharsets.UTF_8);
            assertThat(exploded).as("DescentGradientsExploding fired; alerts seen %s; run output:\n%s\nprometheus:\n%s",
                    seen, out, read(log)).isTrue();
            assertThat(nonFinite).as("DescentLossNonFinite fired; alerts seen %s", seen).isTrue();
            assertThat(out).contains("diverged");
            // Kaiming x2 through 19 ReLU layers: every layer's gradient is ~2^19 larger than healthy, all alike
            assertThat(maxNorm).isGreaterThan(1e4);
            assertThat(ratio).isBetween(0.1, 100.0);
            System.out.printf("alerts e2e: exploding run, max layer gradient norm %.3g, first/last %.3g%n", maxNorm,
                    ratio);
        } finally {
            System.setOut(old);
            if (server != null) {
                server.destroy();
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
            if (training != null) {
                training.interrupt(); // ends the metrics linger
                training.join(30_000);
            }
        }
    }

    /** grafana/prometheus.yml aimed at the run, scraping every second; the rules beside it with short `for:`. */
    private static Path config(Path dir, int metricsPort) throws IOException {
        Path root = repoRoot();
        String original = Files.readString(root.resolve("grafana/prometheus.yml"));
        assertThat(original).contains("host.docker.internal:9464", "scrape_interval: 5s", "evaluation_interval: 5s",
                "alerts/descent-alerts.yml");
        Files.writeString(dir.resolve("prometheus.yml"), original.replace("host.docker.internal:9464",
                "127.0.0.1:" + metricsPort).replace("scrape_interval: 5s", "scrape_interval: 1s")
                .replace("evaluation_interval: 5s", "evaluation_interval: 1s"));
        String rules = Files.readString(root.resolve("grafana/alerts/descent-alerts.yml"));
        assertThat(rules).contains("for: 1m", "for: 2m");
        Files.createDirectories(dir.resolve("alerts"));
        Files.writeString(dir.resolve("alerts/descent-alerts.yml"), rules.replace("for: 1m", "for: 5s")
                .replace("for: 2m", "for: 5s"));
        return dir.resolve("prometheus.yml");
    }

    private static double value(HttpClient http, URI api, String promql, double fallback) {
        try {
            JsonNode r = get(http, URI.create(api + "/api/v1/query?query="
                    + URLEncoder.encode(promql, StandardCharsets.UTF_8))).path("data").path("result");
            return r.size() > 0 ? r.get(0).path("value").get(1).asDouble() : fallback;
        } catch (IOException | InterruptedException e) {
            return fallback;
        }
    }

    private static JsonNode get(HttpClient http, URI uri) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return JSON.readTree(r.body());
    }

    private static Path repoRoot() {
        for (Path p = Paths.get("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("grafana")) && Files.isRegularFile(p.resolve("monitoring/pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root above " + Paths.get("").toAbsolutePath());
    }

    /** The binary scripts/fetch-prometheus.sh unpacks; skipped when absent, except under CI=true. */
    private static Path prometheus() {
        String home = System.getenv("DESCENT_PROMETHEUS_HOME");
        Path dir = home != null && !home.isBlank() ? Paths.get(home) : repoRoot().resolve(".tools/prometheus");
        Path bin = dir.resolve("usr/bin/prometheus");
        String message = "prometheus not found at " + bin + ": run scripts/fetch-prometheus.sh (scripts/test.sh does)";
        if (!Files.isExecutable(bin) && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message + " — CI=true, so this test must not be skipped");
        }
        assumeTrue(Files.isExecutable(bin), message);
        return bin;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }
}
