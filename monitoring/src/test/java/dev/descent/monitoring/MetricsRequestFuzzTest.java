package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based fuzzing of the metrics server's request parsing over real sockets on 127.0.0.1: random methods,
 * paths, versions, headers, bodies and raw bytes. The server answers each with an HTTP status line (or closes the
 * connection) within its request timeout, never hangs, and still serves {@code /health} afterwards.
 */
class MetricsRequestFuzzTest {
    private static Monitoring monitoring;

    @BeforeContainer
    static void start() {
        monitoring = Monitoring.start(new MonitoringConfig().port(0).jvmMetrics(false).requestTimeoutMs(500)
                .maxRequestBytes(1024));
    }

    @AfterContainer
    static void stop() {
        monitoring.close();
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<String> method = Arbitraries.of("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "G\u0000T",
                "", "GET GET");
        Arbitrary<String> path = Arbitraries.oneOf(Arbitraries.of("/metrics", "/health", "/api/jobs", "/", "*",
                "/../../etc/passwd", "/metrics?x=%zz", "//health", "/health#x", "http://evil/health"),
                Arbitraries.strings().ofMaxLength(200));
        Arbitrary<String> version = Arbitraries.of("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9", "", "http/1.1");
        Arbitrary<String> headers = Arbitraries.strings().withChars("abcXYZ-:; \t0123456789\r\n").ofMaxLength(300);
        Arbitrary<String> length = Arbitraries.of("", "Content-Length: 5\r\n", "Content-Length: -1\r\n",
                "Content-Length: 99999999999\r\n", "Transfer-Encoding: chunked\r\n", "Content-Length: 1\r\nContent-Length: 2\r\n");
        Arbitrary<String> body = Arbitraries.strings().ofMaxLength(2048);
        Arbitrary<byte[]> structured = Combinators.combine(method, path, version, headers, length, body).as(
                (m, p, v, h, l, b) -> (m + " " + p + " " + v + "\r\nHost: x\r\n" + h + "\r\n" + l + "\r\n" + b)
                        .getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> raw = Arbitraries.bytes().array(byte[].class).ofMaxSize(4096);
        return Arbitraries.oneOf(structured, structured, raw);
    }

    @Property(tries = 100)
    void shouldAnswerOrCloseEveryRequestAndStayHealthy(@ForAll("requests") byte[] request) throws IOException {
        String first = exchange(request);
        assertThat(first == null || first.startsWith("HTTP/1.")).as(first).isTrue();
        assertThat(exchange("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII))).startsWith("HTTP/1.1 200");
    }

    /** The first line the server answers, or null when it closed the connection without an answer. */
    private static String exchange(byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", monitoring.port()), 2000);
            s.setSoTimeout(3000); // the server's request timeout is 500 ms: it must answer or close long before
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException closedEarly) {
                return null;
            }
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            try {
                for (int c = in.read(); c >= 0 && c != '\n'; c = in.read()) {
                    line.append((char) c);
                }
            } catch (SocketTimeoutException e) {
                throw new AssertionError("no answer and no close within 3 s", e);
            } catch (IOException reset) {
                return null;
            }
            return line.isEmpty() ? null : line.toString().strip();
        }
    }
}
