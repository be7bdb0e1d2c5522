package dev.descent.monitoring;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small Netty HTTP server for scrapes and status: {@code GET /metrics} (Prometheus text 0.0.4, or OpenMetrics
 * 1.0 when the Accept header asks for {@code application/openmetrics-text}), {@code GET /health} and
 * {@code GET /api/jobs} (JSON). Unknown paths get 404, other methods 405 (see {@link HttpRoutes}).
 *
 * <p>Bounded: request line 4 KiB, headers 8 KiB, bodies {@link MonitoringConfig#maxRequestBytes()} (bigger:
 * 413); at most {@link MonitoringConfig#maxConnections()} connections are served at once, and further ones get
 * 503 and are closed; idle connections are closed after {@link MonitoringConfig#idleTimeoutMs()}. One I/O thread
 * (a scrape is a few kilobytes; training keeps the other cores). Binds 127.0.0.1 unless told otherwise.
 */
public final class MetricsServer implements AutoCloseable {
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 8192;
    static final int REJECT_TIMEOUT_MS = 2_000;

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final InetSocketAddress bound;
    private final AtomicInteger openConnections;
    private final AtomicInteger rejectedConnections;

    private MetricsServer(EventLoopGroup group, Channel serverChannel, AtomicInteger openConnections,
                          AtomicInteger rejectedConnections) {
        this.group = group;
        this.serverChannel = serverChannel;
        this.bound = (InetSocketAddress) serverChannel.localAddress();
        this.openConnections = openConnections;
        this.rejectedConnections = rejectedConnections;
    }

    /**
     * Binds and starts serving. {@code config} is concluded here; with port 0 the system picks a free port,
     * which {@link #port()} returns.
     *
     * @throws IllegalStateException if the address cannot be bound (port in use, unknown host)
     */
    public static MetricsServer start(MonitoringConfig config, PrometheusMeterRegistry registry, JobBoard jobs) {
        MonitoringConfig c = Objects.requireNonNull(config, "config").conclude();
        Objects.requireNonNull(registry, "registry");
        Objects.requireNonNull(jobs, "jobs");
        HttpRoutes routes = new HttpRoutes(registry, jobs, BuildInfo.version());
        AtomicInteger open = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 64)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new Initializer(c, routes, open, rejected))
                    .bind(c.host(), c.port())
                    .syncUninterruptibly()
                    .channel();
            return new MetricsServer(group, channel, open, rejected);
        } catch (Exception e) { // Netty rethrows the checked BindException undeclared
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            throw new IllegalStateException("cannot serve metrics on " + c.host() + ":" + c.port() + ": " + e, e);
        }
    }

    /** Connections open right now (served and rejected ones). */
    public int openConnections() {
        return openConnections.get();
    }

    /** Connections answered 503 because {@link MonitoringConfig#maxConnections()} were already open. */
    public int rejectedConnections() {
        return rejectedConnections.get();
    }

    /** The bound port (the real one when the config said 0). */
    public int port() {
        return bound.getPort();
    }

    /** The bound address. */
    public String host() {
        return bound.getAddress().getHostAddress();
    }

    /** {@code http://host:port/metrics}. */
    public URI metricsUri() {
        String h = bound.getAddress().getHostAddress();
        return URI.create("http://" + (h.contains(":") ? "[" + h + "]" : h) + ":" + port() + HttpRoutes.METRICS);
    }

    /** Stops accepting, closes open connections and the I/O thread; waits up to a few seconds. */
    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Sets up each accepted connection: served, or (beyond the bound) answered 503 and closed. */
    private static final class Initializer extends ChannelInitializer<SocketChannel> {
        private final MonitoringConfig config;
        private final HttpRoutes routes;
        private final AtomicInteger open;
        private final AtomicInteger rejected;

        Initializer(MonitoringConfig config, HttpRoutes routes, AtomicInteger open, AtomicInteger rejected) {
            this.config = config;
            this.routes = routes;
            this.open = open;
            this.rejected = rejected;
        }

        @Override
        protected void initChannel(SocketChannel ch) {
            int now = open.incrementAndGet();
            ch.closeFuture().addListener(f -> open.decrementAndGet());
            ChannelPipeline p = ch.pipeline();
            p.addLast(new HttpServerCodec(new HttpDecoderConfig()
                    .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                    .setMaxHeaderSize(MAX_HEADER_BYTES)));
            if (now > config.maxConnections()) {
                rejected.incrementAndGet();
                p.addLast(new ReadTimeoutHandler(REJECT_TIMEOUT_MS, TimeUnit.MILLISECONDS));
                p.addLast(new Reject());
                return;
            }
            p.addLast(new ReadTimeoutHandler(config.idleTimeoutMs(), TimeUnit.MILLISECONDS));
            p.addLast(new HttpObjectAggregator(config.maxRequestBytes()));
            p.addLast(routes);
        }
    }

    /** Answers the first request of an over-the-bound connection with 503 and closes it. */
    private static final class Reject extends SimpleChannelInboundHandler<HttpObject> {
        private boolean answered;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
            if (answered || !(msg instanceof HttpRequest)) {
                return;
            }
            answered = true;
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.SERVICE_UNAVAILABLE,
                    Unpooled.copiedBuffer("too many connections\n", StandardCharsets.UTF_8));
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpRoutes.TEXT);
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
