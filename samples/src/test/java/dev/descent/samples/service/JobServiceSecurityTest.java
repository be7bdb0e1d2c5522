package dev.descent.samples.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Who may drive the service, what a request may say, and how the connections are bounded; real HTTP on 127.0.0.1. */
class JobServiceSecurityTest {
    private static final String TOKEN = "test-token-0123456789abcdef";
    private static final String JOB = "{\"model\":\"tiny-mlp\",\"dataset\":\"blobs\",\"epochs\":1,\"batch\":64}";
    private static DescentEngine engine;
    private static JobService service;
    private static ServiceClient client;

    @BeforeAll
    static void start() {
        engine = Descent.start(new DescentConfig().workers(1).systemName("service-security-test"));
        JobCatalog catalog = JobCatalog.standard().withModel("broken", (in, k, seed) -> {
            throw new IllegalStateException("secret internal detail /home/user/.ssh");
        });
        service = JobService.start(engine, catalog, 0, new ServiceConfig().token(TOKEN).requestTimeoutMs(400)
                .maxConnections(8));
        client = new ServiceClient(service);
    }

    @AfterAll
    static void stop() {
        client.close();
        service.close();
        engine.close();
    }

    @Test
    void shouldGenerateATokenWhenNoneIsConfigured() {
        ServiceConfig c = new ServiceConfig().conclude();
        assertThat(c.token()).hasSizeGreaterThanOrEqualTo(40);
        assertThat(new ServiceConfig().conclude().token()).isNotEqualTo(c.token());
        assertThat(service.token()).isEqualTo(TOKEN);
    }

    @Test
    void shouldRefuseRequestsWithoutTheBearerToken() throws Exception {
        HttpResponse<String> none = client.send("POST", "/jobs", JOB, "application/json", null, null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        assertThat(ServiceClient.json(none).get("error").asText()).contains("Authorization: Bearer");
        assertThat(client.send("GET", "/jobs", null, null, "Bearer " + TOKEN + "x", null).statusCode()).isEqualTo(401);
        assertThat(client.send("GET", "/jobs", null, null, "Bearer " + TOKEN.substring(1), null).statusCode())
                .isEqualTo(401);
        assertThat(client.send("GET", "/jobs", null, null, "Basic " + TOKEN, null).statusCode()).isEqualTo(401);
        assertThat(client.send("POST", "/jobs/1/cancel", null, null, null, null).statusCode()).isEqualTo(401);
        assertThat(client.send("GET", "/jobs", null, null, "bearer " + TOKEN, null).statusCode()).isEqualTo(200);
    }

    @Test
    void shouldRefuseCrossOriginAndSimpleRequests() throws Exception {
        // the CORS "simple request" any web page can send: text/plain, foreign Origin
        HttpResponse<String> simple = client.send("POST", "/jobs", JOB, "text/plain", "Bearer " + TOKEN,
                "http://evil.example");
        assertThat(simple.statusCode()).isEqualTo(403);
        HttpResponse<String> foreign = client.send("POST", "/jobs", JOB, "application/json", "Bearer " + TOKEN,
                "http://evil.example");
        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(ServiceClient.json(foreign).get("error").asText()).contains("cross-origin", "evil.example");
        assertThat(client.send("POST", "/jobs/1/cancel", null, null, "Bearer " + TOKEN, "null").statusCode())
                .isEqualTo(403);
        HttpResponse<String> plain = client.send("POST", "/jobs", JOB, "text/plain", "Bearer " + TOKEN, null);
        assertThat(plain.statusCode()).isEqualTo(415);
        assertThat(client.send("POST", "/jobs", JOB, "application/x-www-form-urlencoded", "Bearer " + TOKEN, null)
                .statusCode()).isEqualTo(415);
        HttpResponse<String> same = client.send("GET", "/jobs", null, null, "Bearer " + TOKEN,
                "http://127.0.0.1:" + service.port());
        assertThat(same.statusCode()).isEqualTo(200);
    }

    @Test
    void shouldRefuseAForeignHostHeader() throws Exception {
        // DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends Host: evil.example
        String rebound = client.raw("GET /jobs HTTP/1.1\r\nHost: evil.example:" + service.port()
                + "\r\nAuthorization: Bearer " + TOKEN + "\r\nConnection: close\r\n\r\n");
        assertThat(rebound).startsWith("HTTP/1.1 403").contains("Host 'evil.example");
        String noHost = client.raw("GET /jobs HTTP/1.0\r\nAuthorization: Bearer " + TOKEN + "\r\n\r\n");
        assertThat(noHost).startsWith("HTTP/1.1 403");
        String local = client.raw("GET /jobs HTTP/1.1\r\nHost: localhost:" + service.port()
                + "\r\nAuthorization: Bearer " + TOKEN + "\r\nConnection: close\r\n\r\n");
        assertThat(local).startsWith("HTTP/1.1 200");
    }

    @Test
    void shouldRejectDuplicateKeysTrailingDataAndAbsurdValues() throws Exception {
        assertBad("{\"epochs\":1,\"epochs\":5000}", "Duplicate field 'epochs'");
        assertBad(JOB + " {\"epochs\":5000}", "malformed JSON");
        assertBad(JOB + " x", "malformed JSON");
        assertBad("{\"lr\":1e308}", "'lr' must be a number in [0, 10.0]");
        assertBad("{\"lr\":0}", "'lr'");
        assertBad("{\"momentum\":1.5}", "'momentum'");
        assertBad("{\"workers\":64}", "'workers' must be an integer in [0, ");
        assertBad("{\"batch\":65536}", "'batch' must be an integer in [1, 4096]");
        assertBad("{\"epochs\":10000}", "'epochs' must be an integer in [1, 100]");
        assertBad("{\"epochs\":1.5}", "'epochs'");
        assertBad("{\"epochs\":\"1\"}", "'epochs'");
        assertBad("{\"name\":\"../../etc\"}", "'name'");
        assertBad("{\"seed\":-1}", "'seed'");
    }

    private static void assertBad(String body, String reason) throws Exception {
        HttpResponse<String> r = client.send("POST", "/jobs", body);
        assertThat(r.statusCode()).as(body).isEqualTo(400);
        assertThat(ServiceClient.json(r).get("error").asText()).as(body).contains(reason);
    }

    @Test
    void shouldLogInternalErrorsAndAnswerOnlyAnIncidentId() throws Exception {
        HttpResponse<String> r = client.send("POST", "/jobs", "{\"model\":\"broken\"}");
        assertThat(r.statusCode()).isEqualTo(500);
        JsonNode body = ServiceClient.json(r);
        assertThat(body.get("incident").asText()).isNotBlank();
        assertThat(r.body()).doesNotContain("secret", ".ssh", "IllegalStateException", "at dev.descent");
    }

    @Test
    void shouldCloseConnectionsThatTrickleOrHoldAndStillServeRequests() throws Exception {
        try (Socket trickle = new Socket()) {
            trickle.connect(new InetSocketAddress("127.0.0.1", service.port()), 5000);
            trickle.setSoTimeout(5000);
            OutputStream out = trickle.getOutputStream();
            int read = 0;
            long start = System.nanoTime();
            try {
                for (int i = 0; i < 40 && read >= 0; i++) {
                    out.write('G');
                    out.flush();
                    Thread.sleep(50);
                    if (trickle.getInputStream().available() > 0) {
                        read = trickle.getInputStream().read();
                    }
                }
                read = trickle.getInputStream().read();
            } catch (java.io.IOException closed) {
                read = -1;
            }
            assertThat(read).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
        }
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 24; i++) { // three times the connection cap, all idle
                Socket s = new Socket();
                s.connect(new InetSocketAddress("127.0.0.1", service.port()), 5000);
                idle.add(s);
            }
            assertThat(client.send("GET", "/jobs", null).statusCode()).isEqualTo(200);
            long closed = idle.stream().filter(s -> {
                try {
                    s.setSoTimeout(2000);
                    return s.getInputStream().read() == -1;
                } catch (java.io.IOException e) {
                    return true;
                }
            }).count();
            assertThat(closed).isGreaterThanOrEqualTo(16); // evicted beyond the cap, or timed out
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
    }
}
