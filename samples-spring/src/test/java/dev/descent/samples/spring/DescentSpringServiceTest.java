package dev.descent.samples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The SDK inside a real Spring Boot service, driven over real HTTP on 127.0.0.1. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"descent.api.token=" + DescentSpringServiceTest.TOKEN, "descent.api.max-running-jobs=1"})
class DescentSpringServiceTest {
    static final String TOKEN = "test-token-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        if (System.getProperty("descent.data.dir") == null && System.getenv("DESCENT_DATA_DIR") == null) {
            System.setProperty("descent.data.dir", Path.of("..", "data").toAbsolutePath().normalize().toString());
        }
    }

    @LocalServerPort
    int port;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void shouldTrainListAndCancelJobsAndShowTheirMetricsAndHealthInTheHostsEndpoints() throws Exception {
        HttpResponse<String> created = send(post("/api/jobs",
                "{\"name\":\"small\",\"hidden\":[32],\"epochs\":1,\"trainLimit\":2048,\"batchSize\":128}"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = JSON.readTree(created.body()).get("id").asText();

        JsonNode job = awaitFinal(id, Duration.ofSeconds(120));
        assertThat(job.get("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(job.get("step").asLong()).isEqualTo(16);
        assertThat(job.get("testAccuracy").asDouble()).isGreaterThan(0.5);

        HttpResponse<String> list = send(authed("/api/jobs").GET().build());
        assertThat(JSON.readTree(list.body()).findValuesAsText("name")).contains("small");

        // Descent's meters live in Spring's registry: the actuator's Prometheus endpoint serves them
        HttpResponse<String> prom = send(HttpRequest.newBuilder(uri("/actuator/prometheus")).GET().build());
        assertThat(prom.statusCode()).isEqualTo(200);
        assertThat(prom.body()).contains("descent_train_steps_total{").contains("job=\"small\"")
                .contains("jvm_memory_used_bytes"); // the host's own meters, same registry

        // cancel: a long job is cancelled (202), a finished one is a conflict (409), an unknown one 404
        HttpResponse<String> longJob = send(post("/api/jobs", "{\"name\":\"long\",\"epochs\":20}"));
        assertThat(longJob.statusCode()).as(longJob.body()).isEqualTo(201);
        String longId = JSON.readTree(longJob.body()).get("id").asText();
        HttpResponse<String> busy = send(post("/api/jobs", "{\"name\":\"third\"}"));
        assertThat(busy.statusCode()).as("max-running-jobs=1").isEqualTo(429);
        JsonNode health = JSON.readTree(send(HttpRequest.newBuilder(uri("/actuator/health/descent")).build()).body());
        assertThat(health.get("status").asText()).isEqualTo("UP");
        assertThat(health.at("/details/runningJobs").asInt()).isEqualTo(1);
        assertThat(send(authed("/api/jobs/" + longId).DELETE().build()).statusCode()).isEqualTo(202);
        assertThat(awaitFinal(longId, Duration.ofSeconds(60)).get("state").asText()).isEqualTo("CANCELLED");
        assertThat(send(authed("/api/jobs/" + id).DELETE().build()).statusCode()).isEqualTo(409);
        assertThat(send(authed("/api/jobs/999").DELETE().build()).statusCode()).isEqualTo(404);
        health = JSON.readTree(send(HttpRequest.newBuilder(uri("/actuator/health/descent")).build()).body());
        assertThat(health.at("/details/runningJobs").asInt()).isZero();
    }

    @Test
    void shouldRefuseRequestsWithoutTheTokenFromForeignOriginsAndOfTheWrongType() throws Exception {
        String body = "{\"epochs\":1}";
        assertThat(send(HttpRequest.newBuilder(uri("/api/jobs")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build()).statusCode()).isEqualTo(401);
        assertThat(send(HttpRequest.newBuilder(uri("/api/jobs")).header("Authorization", "Bearer wrong-token-0123456789abc")
                .GET().build()).statusCode()).isEqualTo(401);
        assertThat(send(authed("/api/jobs").header("Origin", "http://evil.example").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build()).statusCode()).isEqualTo(403);
        assertThat(send(authed("/api/jobs").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build()).statusCode()).isEqualTo(415);
        // caps: one request cannot claim the machine
        HttpResponse<String> huge = send(post("/api/jobs", "{\"epochs\":10000,\"batchSize\":65536}"));
        assertThat(huge.statusCode()).isEqualTo(400);
        assertThat(huge.body()).contains("epochs must be in [1, 20], was 10000");
        assertThat(send(post("/api/jobs", "{\"lr\":1e308}")).body()).contains("lr must be in (0, 10]");
        // DNS rebinding: a spoofed Host is refused (raw socket: HttpClient will not send a custom Host)
        assertThat(rawStatus("GET /api/jobs HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer " + TOKEN
                + "\r\nConnection: close\r\n\r\n")).isEqualTo(403);
    }

    private JsonNode awaitFinal(String id, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            JsonNode job = JSON.readTree(send(authed("/api/jobs/" + id).GET().build()).body());
            String state = job.get("state").asText();
            if (state.equals("SUCCEEDED") || state.equals("FAILED") || state.equals("CANCELLED")) {
                return job;
            }
            assertThat(System.nanoTime()).as("job %s still %s after %s", id, state, timeout).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private int rawStatus(String request) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String status = new String(in.readNBytes(12), StandardCharsets.US_ASCII); // "HTTP/1.1 403"
            return Integer.parseInt(status.substring(9, 12));
        }
    }

    private HttpRequest post(String path, String json) {
        return authed(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build();
    }

    private HttpRequest.Builder authed(String path) {
        return HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + TOKEN);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private HttpResponse<String> send(HttpRequest r) throws Exception {
        return http.send(r, HttpResponse.BodyHandlers.ofString());
    }
}
