package dev.descent.monitoring;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP endpoints. Paths are matched exactly against a fixed table (never mapped to files), so there is
 * nothing to traverse: {@code GET|HEAD /metrics}, {@code /health}, {@code /api/jobs}; other paths 404, other
 * methods on these paths 405. Runs on the server's I/O thread; a scrape serializes straight into a pooled
 * buffer.
 */
@ChannelHandler.Sharable
final class HttpRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {
    static final String METRICS = "/metrics";
    static final String HEALTH = "/health";
    static final String JOBS = "/api/jobs";
    static final String JSON = "application/json; charset=utf-8";
    static final String TEXT = "text/plain; charset=utf-8";
    /** Prometheus text exposition format 0.0.4 (the registry picks its writer from this value). */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** OpenMetrics 1.0 text. */
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static final Logger LOG = LoggerFactory.getLogger(HttpRoutes.class);
    private static final ObjectMapper JSON_MAPPER = new ObjectMapper();

    private final PrometheusMeterRegistry registry;
    private final JobBoard jobs;
    private final String version;
    private final long startedAtMillis = System.currentTimeMillis();

    HttpRoutes(PrometheusMeterRegistry registry, JobBoard jobs, String version) {
        this.registry = registry;
        this.jobs = jobs;
        this.version = version;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        if (!request.decoderResult().isSuccess()) {
            respond(ctx, request, HttpResponseStatus.BAD_REQUEST, TEXT, "bad request\n", false);
            return;
        }
        String path = new QueryStringDecoder(request.uri()).rawPath();
        if (!path.equals(METRICS) && !path.equals(HEALTH) && !path.equals(JOBS)) {
            respond(ctx, request, HttpResponseStatus.NOT_FOUND, TEXT,
                    "not found; endpoints: /metrics /health /api/jobs\n", keepAlive);
            return;
        }
        HttpMethod method = request.method();
        if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
            FullHttpResponse response = response(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, TEXT,
                    "method not allowed\n");
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            send(ctx, request, response, keepAlive);
            return;
        }
        try {
            switch (path) {
                case METRICS -> metrics(ctx, request, keepAlive);
                case HEALTH -> respond(ctx, request, HttpResponseStatus.OK, JSON, health(), keepAlive);
                default -> respond(ctx, request, HttpResponseStatus.OK, JSON, jobsJson(), keepAlive);
            }
        } catch (RuntimeException | IOException e) {
            LOG.warn("descent monitoring: {} {} failed", method, path, e);
            respond(ctx, request, HttpResponseStatus.INTERNAL_SERVER_ERROR, TEXT, "internal error\n", false);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (!(cause instanceof ReadTimeoutException) && !(cause instanceof IOException)) {
            LOG.warn("descent monitoring: closing connection after error", cause);
        }
        ctx.close();
    }

    /** OpenMetrics 1.0 when the Accept header asks for it (Prometheus does), else the text format 0.0.4. */
    static String contentTypeFor(String accept) {
        return accept != null && accept.contains("application/openmetrics-text") ? OPENMETRICS_TEXT : PROMETHEUS_TEXT;
    }

    private void metrics(ChannelHandlerContext ctx, FullHttpRequest request, boolean keepAlive) throws IOException {
        String contentType = contentTypeFor(request.headers().get(HttpHeaderNames.ACCEPT));
        ByteBuf body = ctx.alloc().buffer(16 * 1024);
        try (OutputStream out = new ByteBufOutputStream(body)) {
            registry.scrape(out, contentType);
        } catch (IOException | RuntimeException e) {
            body.release();
            throw e;
        }
        send(ctx, request, new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body),
                contentType, keepAlive);
    }

    private byte[] health() throws IOException {
        ObjectNode root = JSON_MAPPER.createObjectNode();
        root.put("status", "UP");
        root.put("version", version);
        root.put("uptimeSeconds", (System.currentTimeMillis() - startedAtMillis) / 1000.0);
        root.put("jobs", jobs.snapshot().size());
        return JSON_MAPPER.writeValueAsBytes(root);
    }

    private byte[] jobsJson() throws IOException {
        ObjectNode root = JSON_MAPPER.createObjectNode();
        ArrayNode list = root.putArray("jobs");
        for (JobBoard.JobStatus s : jobs.snapshot()) {
            ObjectNode j = list.addObject();
            j.put("job", s.job());
            j.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
            j.put("step", s.step());
            j.put("epoch", s.epoch());
            number(j, "loss", s.loss());
            splits(j.putObject("lossBySplit"), s.lossBySplit());
            splits(j.putObject("accuracyBySplit"), s.accuracyBySplit());
            j.put("examples", s.examples());
            j.put("anomalies", s.anomalies());
            j.put("lastAnomaly", s.lastAnomaly());
            j.put("message", s.message());
            j.put("updatedAtMillis", s.updatedAtMillis());
        }
        return JSON_MAPPER.writeValueAsBytes(root);
    }

    private static void splits(ObjectNode node, Map<String, Double> values) {
        for (Map.Entry<String, Double> e : values.entrySet()) {
            number(node, e.getKey(), e.getValue());
        }
    }

    /** JSON has no NaN or infinity: non-finite values are written as null. */
    private static void number(ObjectNode node, String name, double value) {
        if (Double.isFinite(value)) {
            node.put(name, value);
        } else {
            node.putNull(name);
        }
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, String body, boolean keepAlive) {
        send(ctx, request, response(ctx, status, contentType, body), keepAlive);
    }

    private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                String contentType, byte[] body, boolean keepAlive) {
        send(ctx, request, new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(body)),
                contentType, keepAlive);
    }

    private static FullHttpResponse response(ChannelHandlerContext ctx, HttpResponseStatus status, String contentType,
                                             String body) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        return r;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response,
                             String contentType, boolean keepAlive) {
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
        send(ctx, request, response, keepAlive);
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response,
                             boolean keepAlive) {
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        response.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        if (request.method().equals(HttpMethod.HEAD)) {
            response.content().clear(); // HEAD: same headers (Content-Length of the GET body), no body
        }
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
