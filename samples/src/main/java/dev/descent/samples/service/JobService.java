package dev.descent.samples.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.DescentException;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Progress;
import dev.descent.sdk.TrainingJob;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * The embedded-service sample: a JVM service that runs training jobs on an embedded Descent engine and exposes a
 * small JSON API over HTTP, bound to 127.0.0.1.
 * <pre>
 *   POST /jobs                 {"model":"mlp","dataset":"fashion-mnist","epochs":2,"batch":128,"lr":0.02,
 *                               "workers":2,"seed":1,"name":"run-1"}   -> 201 {"id":"1",...}
 *   GET  /jobs                 -> 200 [{"id":"1","state":"RUNNING","step":..},...]
 *   GET  /jobs/{id}            -> 200 {...progress, result or error...}
 *   POST /jobs/{id}/cancel     -> 202
 * </pre>
 * Bad requests get 4xx and a JSON {@code {"error": "..."}}: malformed JSON or unknown fields (400), unknown model
 * or dataset (400), bodies over {@link #MAX_BODY_BYTES} (413), unknown job (404), wrong method (405). A bad
 * request never touches running jobs.
 */
public final class JobService implements AutoCloseable {
    /** Largest request body accepted. */
    public static final int MAX_BODY_BYTES = 16 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final DescentEngine engine;
    private final JobCatalog catalog;
    private final EventLoopGroup group;
    private final Channel channel;

    private JobService(DescentEngine engine, JobCatalog catalog, EventLoopGroup group, Channel channel) {
        this.engine = engine;
        this.catalog = catalog;
        this.group = group;
        this.channel = channel;
    }

    /** Starts the service on 127.0.0.1:{@code port} (0: any free port) over {@code engine} (not owned). */
    public static JobService start(DescentEngine engine, JobCatalog catalog, int port) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        Routes routes = new Routes(engine, catalog);
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel c) {
                            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(MAX_BODY_BYTES),
                                    routes);
                        }
                    }).bind("127.0.0.1", port).syncUninterruptibly().channel();
            return new JobService(engine, catalog, group, ch);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw new IllegalStateException("cannot bind 127.0.0.1:" + port + ": " + e, e);
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public DescentEngine engine() {
        return engine;
    }

    public JobCatalog catalog() {
        return catalog;
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** {@code java ... dev.descent.samples.service.JobService [port]}: runs until killed. */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8088;
        DescentEngine engine = Descent.start(new DescentConfig());
        JobService s = start(engine, JobCatalog.standard(), port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            engine.close();
        }));
        System.out.println("descent job service on http://127.0.0.1:" + s.port() + "/jobs");
        Thread.currentThread().join();
    }

    @ChannelHandler.Sharable
    private static final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final DescentEngine engine;
        private final JobCatalog catalog;

        Routes(DescentEngine engine, JobCatalog catalog) {
            this.engine = engine;
            this.catalog = catalog;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            FullHttpResponse res;
            try {
                res = route(req);
            } catch (BadRequest e) {
                res = error(e.status, e.getMessage());
            } catch (RuntimeException e) {
                res = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, e.toString());
            }
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            HttpUtil.setKeepAlive(res, keepAlive);
            var f = ctx.writeAndFlush(res);
            if (!keepAlive) {
                f.addListener(ChannelFutureListener.CLOSE);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private FullHttpResponse route(FullHttpRequest req) {
            if (!req.decoderResult().isSuccess()) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request");
            }
            String path = req.uri().split("\\?", 2)[0];
            String[] parts = path.replaceAll("^/+|/+$", "").split("/");
            HttpMethod m = req.method();
            if (parts.length == 1 && parts[0].equals("jobs")) {
                if (m.equals(HttpMethod.GET)) {
                    var list = JSON.createArrayNode();
                    engine.jobs().forEach(j -> list.add(describe(j)));
                    return json(HttpResponseStatus.OK, list);
                }
                if (m.equals(HttpMethod.POST)) {
                    return submit(req.content().toString(StandardCharsets.UTF_8));
                }
                throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET or POST on /jobs");
            }
            if (parts.length >= 2 && parts[0].equals("jobs")) {
                TrainingJob job = engine.job(parts[1]).orElseThrow(() -> new BadRequest(HttpResponseStatus.NOT_FOUND,
                        "no job '" + parts[1] + "'"));
                if (parts.length == 2) {
                    if (!m.equals(HttpMethod.GET)) {
                        throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET on /jobs/{id}");
                    }
                    return json(HttpResponseStatus.OK, describe(job));
                }
                if (parts.length == 3 && parts[2].equals("cancel")) {
                    if (!m.equals(HttpMethod.POST)) {
                        throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, "use POST on /jobs/{id}/cancel");
                    }
                    job.cancel();
                    return json(HttpResponseStatus.ACCEPTED, describe(job));
                }
            }
            throw new BadRequest(HttpResponseStatus.NOT_FOUND, "no route " + m + " " + path);
        }

        private FullHttpResponse submit(String body) {
            JsonNode n;
            try {
                n = JSON.readTree(body);
            } catch (JsonProcessingException e) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "malformed JSON: " + e.getOriginalMessage());
            }
            if (n == null || !n.isObject()) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "the body must be a JSON object");
            }
            var known = java.util.Set.of("name", "model", "dataset", "epochs", "batch", "lr", "momentum", "workers",
                    "seed", "limit");
            n.fieldNames().forEachRemaining(f -> {
                if (!known.contains(f)) {
                    throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "unknown field '" + f + "'; known: " + known);
                }
            });
            TrainingJob job;
            try {
                JobCatalog.DatasetEntry data = catalog.dataset(text(n, "dataset", "blobs"));
                JobCatalog.ModelFactory model = catalog.model(text(n, "model", "tiny-mlp"));
                long seed = integer(n, "seed", 1, 0, Long.MAX_VALUE);
                int limit = (int) integer(n, "limit", 0, 0, Integer.MAX_VALUE);
                TrainingPlan.Builder plan = TrainingPlan.builder()
                        .model(model.build(data.inputShape(), data.classes(), seed))
                        .train(limit > 0 ? data.train().limit(limit) : data.train()).test(data.test())
                        .optimizer(Optimizer.momentum(number(n, "lr", 0.02), number(n, "momentum", 0.9)))
                        .epochs((int) integer(n, "epochs", 1, 1, 10_000))
                        .batchSize((int) integer(n, "batch", 128, 1, 65_536))
                        .workers((int) integer(n, "workers", 0, 0, 64)).seed(seed);
                if (n.has("name")) {
                    plan.name(text(n, "name", null));
                }
                job = engine.submit(plan.build());
            } catch (IllegalArgumentException | DescentException e) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, e.getMessage());
            }
            return json(HttpResponseStatus.CREATED, describe(job));
        }

        private static String text(JsonNode n, String field, String dflt) {
            JsonNode v = n.get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "'" + field + "' must be a string");
            }
            return v.asText();
        }

        private static long integer(JsonNode n, String field, long dflt, long min, long max) {
            JsonNode v = n.get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "'" + field + "' must be an integer in [" + min
                        + ", " + max + "], was " + v);
            }
            return v.asLong();
        }

        private static double number(JsonNode n, String field, double dflt) {
            JsonNode v = n.get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber() || !Double.isFinite(v.asDouble()) || v.asDouble() < 0) {
                throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "'" + field + "' must be a finite number >= 0, was "
                        + v);
            }
            return v.asDouble();
        }

        private static ObjectNode describe(TrainingJob j) {
            ObjectNode o = JSON.createObjectNode();
            Progress p = j.progress();
            o.put("id", j.id()).put("name", j.name()).put("state", p.state().name()).put("step", p.step())
                    .put("totalSteps", p.totalSteps()).put("epoch", p.epoch()).put("epochs", p.epochs())
                    .put("retries", p.retries());
            putNumber(o, "lastLoss", p.lastLoss());
            putNumber(o, "examplesPerSecond", p.examplesPerSecond());
            putNumber(o, "testAccuracy", p.testAccuracy());
            Optional<TrainingResult> r = resultOf(j);
            r.ifPresent(x -> o.put("parametersSha256", x.parametersSha256()).put("steps", x.steps()));
            if (p.state() == dev.descent.sdk.JobState.FAILED || p.state() == dev.descent.sdk.JobState.CANCELLED) {
                try {
                    j.result().toCompletableFuture().getNow(null);
                } catch (CompletionException | java.util.concurrent.CancellationException e) {
                    o.put("error", String.valueOf(e.getCause() == null ? e : e.getCause()));
                }
            }
            return o;
        }

        private static Optional<TrainingResult> resultOf(TrainingJob j) {
            var f = j.result().toCompletableFuture();
            return f.isDone() && !f.isCompletedExceptionally() ? Optional.of(f.join()) : Optional.empty();
        }

        private static void putNumber(ObjectNode o, String k, double v) {
            if (Double.isFinite(v)) {
                o.put(k, v);
            } else {
                o.putNull(k);
            }
        }

        private static FullHttpResponse json(HttpResponseStatus status, JsonNode body) {
            byte[] bytes;
            try {
                bytes = JSON.writeValueAsBytes(body);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, Unpooled.wrappedBuffer(bytes));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
            return r;
        }

        private static FullHttpResponse error(HttpResponseStatus status, String message) {
            return json(status, JSON.createObjectNode().put("error", message));
        }
    }

    private static final class BadRequest extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient HttpResponseStatus status;

        BadRequest(HttpResponseStatus status, String message) {
            super(message);
            this.status = status;
        }
    }
}
