package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every endpoint over real HTTP on 127.0.0.1. */
class MetricsServerTest {
    private static final int MAX_CONNECTIONS = 3;
    private static final int MAX_REQUEST_BYTES = 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Monitoring monitoring;
    private HttpClient client;

    @BeforeEach
    void start() {
        monitoring = Monitoring.start(new MonitoringConfig().port(0).job("proc").maxConnections(MAX_CONNECTIONS)
                .maxRequestBytes(MAX_REQUEST_BYTES));
        client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        monitoring.listener().onEvent(new StepCompleted("mlp", 7, 2, 0.75, 0.01, 64, 0.003));
        monitoring.listener().onEvent(new EpochCompleted("mlp", 7, 2, 0.8, 0.7, 1.0, 448));
        monitoring.listener().onEvent(new EvaluationCompleted("mlp", 7, 2, "test", 0.9, 0.65));
        monitoring.listener().onEvent(new Anomaly("mlp", 7, "exploding_gradient", "norm 1e5 in fc1"));
    }

    @AfterEach
    void stop() {
        client.close();
        monitoring.close();
    }

    @Test
    void shouldBindLoopbackAndReportTheRealPort() {
        assertThat(monitoring.port()).isPositive();
        assertThat(monitoring.server().host()).isEqualTo("127.0.0.1");
        assertThat(monitoring.metricsUri()).hasToString("http://127.0.0.1:" + monitoring.port() + "/metrics");
    }

    @Test
    void shouldServePrometheusTextByDefault() throws Exception {
        HttpResponse<String> r = get("/metrics", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        assertThat(r.body()).contains("descent_train_steps_total{job=\"mlp\"} 1.0",
                "descent_build_info{job=\"proc\",version=\"", "jvm_memory_used_bytes{", "job=\"proc\"")
                .doesNotContain("# EOF");
    }

    @Test
    void shouldServeOpenMetricsWhenAcceptAsksForIt() throws Exception {
        // the Accept header Prometheus 2.x sends
        HttpResponse<String> r = get("/metrics", "application/openmetrics-text;version=1.0.0,"
                + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type"))
                .hasValue("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(r.body()).contains("# TYPE descent_train_steps counter", "descent_train_steps_total{job=\"mlp\"} 1.0",
                "# TYPE descent_build info").endsWith("# EOF\n");
    }

    @Test
    void shouldAnswerHeadWithHeadersOnly() throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/metrics"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEmpty();
        assertThat(r.headers().firstValue("content-type")).hasValue(HttpRoutes.PROMETHEUS_TEXT);
    }

    @Test
    void shouldReportHealthAsJson() throws Exception {
        HttpResponse<String> r = get("/health", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        JsonNode health = JSON.readTree(r.body());
        assertThat(health.get("status").asText()).isEqualTo("UP");
        assertThat(health.get("version").asText()).isEqualTo(BuildInfo.version()).isNotBlank();
        assertThat(health.get("jobs").asInt()).isEqualTo(1);
    }

    @Test
    void shouldReportJobStatusFromTheEvents() throws Exception {
        HttpResponse<String> r = get("/api/jobs", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        JsonNode job = JSON.readTree(r.body()).get("jobs").get(0);
        assertThat(job.get("job").asText()).isEqualTo("mlp");
        assertThat(job.get("state").asText()).isEqualTo("running");
        assertThat(job.get("step").asLong()).isEqualTo(7);
        assertThat(job.get("epoch").asInt()).isEqualTo(2);
        assertThat(job.get("loss").asDouble()).isEqualTo(0.75);
        assertThat(job.get("accuracyBySplit").get("test").asDouble()).isEqualTo(0.65);
        assertThat(job.get("accuracyBySplit").get("train").asDouble()).isEqualTo(0.7);
        assertThat(job.get("lossBySplit").get("test").asDouble()).isEqualTo(0.9);
        assertThat(job.get("examples").asLong()).isEqualTo(64);
        assertThat(job.get("anomalies").asLong()).isEqualTo(1);
        assertThat(job.get("lastAnomaly").asText()).isEqualTo("exploding_gradient: norm 1e5 in fc1");

        monitoring.jobs().finished("mlp");
        JsonNode after = JSON.readTree(get("/api/jobs", null).body()).get("jobs").get(0);
        assertThat(after.get("state").asText()).isEqualTo("finished");
    }

    @Test
    void shouldAnswer404ForUnknownPathsAndNeverMapThemToFiles() throws Exception {
        for (String path : List.of("/", "/metrics/", "/metric", "/METRICS", "/api/jobs/1", "/health.json",
                "/../../../../etc/passwd", "/metrics/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                "/metrics%2F..%2Fpom.xml", "/pom.xml", "//etc/passwd")) {
            HttpResponse<String> r = raw("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertThat(r.statusCode()).as(path).isEqualTo(404);
            assertThat(r.body()).as(path).doesNotContain("root:").doesNotContain("<project");
        }
    }

    @Test
    void shouldIgnoreQueryStrings() throws Exception {
        assertThat(get("/health?verbose=1", null).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldAnswer405ForOtherMethods() throws Exception {
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/metrics"))
                    .method(method, HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(method).isEqualTo(405);
            assertThat(r.headers().firstValue("allow")).as(method).hasValue("GET, HEAD");
        }
    }

    @Test
    void shouldAnswer413ForOversizedBodies() throws Exception {
        byte[] body = new byte[MAX_REQUEST_BYTES * 8];
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        // the server is still healthy afterwards
        assertThat(get("/health", null).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldGiveTheOldestIdleConnectionsPlaceToANewRequest() throws Exception {
        List<Socket> held = new ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS; i++) {
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", monitoring.port()), 5000);
                s.setSoTimeout(5000);
                held.add(s);
                // one full keep-alive exchange proves the server has taken this connection on
                assertThat(exchange(s, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
            }
            // every slot is held by an idle keep-alive connection: a new request still gets through
            assertThat(raw("GET /health HTTP/1.1\r\nHost: x\r\n\r\n").statusCode()).isEqualTo(200);
            assertThat(monitoring.server().evictedConnections()).isGreaterThanOrEqualTo(1);
            assertThat(monitoring.server().rejectedConnections()).isZero();
            assertThat(held.getFirst().getInputStream().read()).isEqualTo(-1); // the oldest idle one was closed
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    @Test
    void shouldCloseAConnectionThatTricklesItsRequestPastTheRequestTimeout() throws Exception {
        try (Monitoring m = Monitoring.start(new MonitoringConfig().port(0).jvmMetrics(false).requestTimeoutMs(300));
             Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", m.port()), 5000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            long start = System.nanoTime();
            int read = 0;
            try {
                for (int i = 0; i < 40 && read >= 0; i++) { // one byte every 50 ms: never a complete request
                    out.write('G');
                    out.flush();
                    Thread.sleep(50);
                    if (s.getInputStream().available() > 0) {
                        read = s.getInputStream().read();
                    }
                }
                read = s.getInputStream().read();
            } catch (IOException closed) {
                read = -1; // reset by the server's close: the same outcome
            }
            assertThat(read).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
    }

    /**
     * A bounded slowloris on 127.0.0.1: 32 clients hold connections that trickle a byte at a time (reconnecting
     * when closed) against a server of 16 connections, while scrapes and health checks must keep answering 200.
     */
    @Test
    void shouldKeepServingScrapesDuringASlowloris() throws Exception {
        try (Monitoring m = Monitoring.start(new MonitoringConfig().port(0).jvmMetrics(false))) {
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicInteger attackerConnections = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> attackers = new ArrayList<>();
            for (int a = 0; a < 32; a++) {
                Thread t = Thread.ofVirtual().start(() -> {
                    while (!stop.get()) {
                        try (Socket s = new Socket()) {
                            s.connect(new InetSocketAddress("127.0.0.1", m.port()), 2000);
                            attackerConnections.incrementAndGet();
                            OutputStream out = s.getOutputStream();
                            byte[] partial = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
                            for (int i = 0; i < partial.length && !stop.get(); i++) {
                                out.write(partial[i]);
                                out.flush();
                                Thread.sleep(100);
                            }
                            while (!stop.get()) {
                                out.write('a');
                                out.flush();
                                Thread.sleep(100);
                            }
                        } catch (IOException | InterruptedException e) {
                            // closed by the server: reconnect (bounded by the stop flag)
                        }
                    }
                });
                attackers.add(t);
            }
            try {
                Thread.sleep(500); // let the attackers fill every slot
                HttpClient fresh = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                for (int i = 0; i < 10; i++) {
                    String path = i % 2 == 0 ? "/metrics" : "/health";
                    long start = System.nanoTime();
                    HttpResponse<String> r = fresh.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + m.port()
                            + path)).timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                    assertThat(r.statusCode()).as(path + " during the slowloris").isEqualTo(200);
                    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
                    Thread.sleep(100);
                }
                fresh.close();
                assertThat(attackerConnections.get()).isGreaterThan(16);
                assertThat(m.server().openConnections()).isLessThanOrEqualTo(MonitoringConfig.MAX_CONNECTIONS_DEFAULT);
            } finally {
                stop.set(true);
                for (Thread t : attackers) {
                    t.join(5000);
                }
            }
        }
    }

    @Test
    void shouldRefuseAPortThatIsTaken() {
        assertThatThrownBy(() -> Monitoring.start(new MonitoringConfig().port(monitoring.port())))
                .isInstanceOf(IllegalStateException.class).hasMessage("cannot serve metrics on 127.0.0.1:"
                        + monitoring.port() + ": Address already in use");
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + monitoring.port() + path);
    }

    private HttpResponse<String> get(String path, String accept) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET();
        if (accept != null) {
            b.header("Accept", accept);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Sends a request verbatim on a new connection (HttpClient normalizes paths); returns status and body. */
    private HttpResponse<String> raw(String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", monitoring.port()), 5000);
            s.setSoTimeout(5000);
            return RawResponse.parse(exchange(s, request));
        }
    }

    /** Writes a request and reads one response (headers + Content-Length body). */
    private static String exchange(Socket s, String request) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("connection closed after: " + head);
            }
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        byte[] body = in.readNBytes(length);
        return head + new String(body, StandardCharsets.UTF_8);
    }
}
