package dev.descent.samples.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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

/** A test client of a {@link JobService} on 127.0.0.1: real HTTP, with the service's token unless told otherwise. */
final class ServiceClient implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final JobService service;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ServiceClient(JobService service) {
        this.service = service;
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        return send(method, path, body, "application/json", "Bearer " + service.token(), null);
    }

    HttpResponse<String> send(String method, String path, String body, String contentType, String authorization,
                              String origin) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path))
                .timeout(Duration.ofSeconds(30));
        if (contentType != null && body != null) {
            b.header("Content-Type", contentType);
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        if (origin != null) {
            b.header("Origin", origin);
        }
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    JsonNode waitFor(String id, String state) throws Exception {
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            JsonNode j = json(send("GET", "/jobs/" + id, null));
            if (j.get("state").asText().equals(state)) {
                return j;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("job " + id + " never reached " + state);
    }

    /** Sends a request verbatim on a new socket (HttpClient will not send every header); returns the response. */
    String raw(String request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", service.port()), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        http.close();
    }
}
