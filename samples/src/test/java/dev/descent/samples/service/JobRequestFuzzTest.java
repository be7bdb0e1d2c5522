package dev.descent.samples.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import io.netty.handler.codec.http.HttpResponseStatus;
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
 * Property-based fuzzing of the job service's request parsing: {@link JobRequest#parse} on JSON-like bodies (valid
 * ones with random values, duplicated keys, nesting, trailing data, random text), and raw HTTP requests over a real
 * socket on 127.0.0.1. A body is accepted within the caps or refused with 400 and a reason; a raw request is
 * answered with a status line or closed, never hangs, never a 500; the service stays up. No job is ever started
 * (the fuzzed requests carry no token, or are only parsed).
 */
class JobRequestFuzzTest {
    private static final ServiceConfig LIMITS = new ServiceConfig().token("fuzz-token-0123456789abcdef").conclude();
    private static DescentEngine engine;
    private static JobService service;

    @BeforeContainer
    static void start() {
        engine = Descent.start(new DescentConfig().workers(1).systemName("fuzz"));
        service = JobService.start(engine, JobCatalog.standard(), 0, new ServiceConfig()
                .token("fuzz-token-0123456789abcdef").requestTimeoutMs(500));
    }

    @AfterContainer
    static void stop() {
        service.close();
        engine.close();
    }

    @Provide
    Arbitrary<String> bodies() {
        Arbitrary<String> key = Arbitraries.of("name", "model", "dataset", "epochs", "batch", "lr", "momentum",
                "workers", "seed", "limit", "x", "", "epochs\u0000");
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.integers().map(String::valueOf),
                Arbitraries.longs().map(String::valueOf), Arbitraries.doubles().map(String::valueOf),
                Arbitraries.of("1e308", "-0", "NaN", "true", "null", "[]", "{}", "\"mlp\"", "\"blobs\"", "1.5",
                        "\"../x\"", "[[[[[[[[[[1]]]]]]]]]]", "\"\\ud800\""),
                Arbitraries.strings().ofMaxLength(30).map(s -> "\"" + s.replace("\\", "").replace("\"", "") + "\""));
        Arbitrary<String> pair = Combinators.combine(key, value).as((k, v) -> "\"" + k + "\":" + v);
        Arbitrary<String> object = pair.list().ofMaxSize(6).map(l -> "{" + String.join(",", l) + "}");
        Arbitrary<String> trailing = Combinators.combine(object, Arbitraries.of("", " ", "x", "{}", "]", "\u0000"))
                .as(String::concat);
        return Arbitraries.oneOf(object, trailing, Arbitraries.strings().ofMaxLength(200),
                Arbitraries.integers().between(1, 2000).map(n -> "[".repeat(n) + "]".repeat(n)));
    }

    @Property(tries = 400)
    void shouldAcceptWithinTheCapsOrRefuseWith400(@ForAll("bodies") String body) {
        try {
            JobRequest r = JobRequest.parse(body, LIMITS);
            assertThat(r.epochs()).isBetween(1, LIMITS.maxEpochs());
            assertThat(r.batch()).isBetween(1, LIMITS.maxBatch());
            assertThat(r.workers()).isBetween(0, LIMITS.maxWorkers());
            assertThat(r.lr()).isGreaterThan(0).isLessThanOrEqualTo(JobRequest.MAX_LR);
            assertThat(r.momentum()).isBetween(0.0, 0.999);
        } catch (JobService.HttpError e) {
            assertThat(e.status).isEqualTo(HttpResponseStatus.BAD_REQUEST);
            assertThat(e.getMessage()).isNotBlank();
        }
    }

    @Provide
    Arbitrary<byte[]> requests() {
        Arbitrary<String> method = Arbitraries.of("GET", "POST", "PUT", "DELETE", "OPTIONS", "", "P\u0000ST");
        Arbitrary<String> path = Arbitraries.oneOf(Arbitraries.of("/jobs", "/jobs/1", "/jobs/1/cancel", "/jobs/x/y/z",
                "/jobs?limit=-1", "/jobs?after=x", "/%zz", "/jobs/" + "9".repeat(40)), Arbitraries.strings().ofMaxLength(100));
        Arbitrary<String> headers = Arbitraries.of("", "Authorization: Bearer wrong\r\n", "Origin: http://evil\r\n",
                "Content-Type: application/json\r\n", "Content-Length: 3\r\n", "Content-Length: -5\r\n",
                "Transfer-Encoding: chunked\r\n", "Host: evil\r\n");
        Arbitrary<byte[]> structured = Combinators.combine(method, path, headers, bodies()).as((m, p, h, b) ->
                (m + " " + p + " HTTP/1.1\r\nHost: 127.0.0.1:" + service.port() + "\r\n" + h + "\r\n" + b)
                        .getBytes(StandardCharsets.UTF_8));
        return Arbitraries.oneOf(structured, structured, Arbitraries.bytes().array(byte[].class).ofMaxSize(2048));
    }

    @Property(tries = 80)
    void shouldAnswerEveryRawRequestWithoutAnInternalError(@ForAll("requests") byte[] request) throws IOException {
        String first = exchange(request);
        assertThat(first == null || first.startsWith("HTTP/1.")).as(first).isTrue();
        if (first != null) {
            assertThat(first).as("never an internal error").doesNotContain(" 500 ");
        }
        assertThat(engine.jobs()).as("no job was started by an unauthenticated request").isEmpty();
    }

    private static String exchange(byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", service.port()), 2000);
            s.setSoTimeout(3000);
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
