package dev.descent.monitoring;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A small Netty HTTP server for scrapes and status: {@code GET /metrics} (Prometheus text 0.0.4, or OpenMetrics
 * 1.0 when the Accept header asks for {@code application/openmetrics-text}), {@code GET /health} and
 * {@code GET /api/jobs} (JSON). Unknown paths get 404, other methods 405 (see {@link HttpRoutes}).
 *
 * <p>Bounded: request line 4 KiB, headers 8 KiB, bodies {@link MonitoringConfig#maxRequestBytes()} (bigger:
 * 413); at most {@link MonitoringConfig#maxConnections()} connections at once, three quarters of them per client address; a
 * connection must complete its request within {@link MonitoringConfig#requestTimeoutMs()} and is closed when idle
 * for {@link MonitoringConfig#idleTimeoutMs()} after a response; a new connection beyond a bound takes the place of
 * the oldest idle or incomplete one, so trickling clients cannot lock out scrapes ({@link ConnectionGuard}). One I/O thread
 * (a scrape is a few kilobytes; training keeps the other cores). Binds 127.0.0.1 unless told otherwise.
 */
public final class MetricsServer implements AutoCloseable {
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 8192;

    private final EventLoopGroup group;
    private final Channel serverChannel;
    private final InetSocketAddress bound;
    private final ConnectionGuard guard;

    private MetricsServer(EventLoopGroup group, Channel serverChannel, ConnectionGuard guard) {
        this.group = group;
        this.serverChannel = serverChannel;
        this.bound = (InetSocketAddress) serverChannel.localAddress();
        this.guard = guard;
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
        ConnectionGuard guard = new ConnectionGuard(ConnectionGuard.Limits.of(c.maxConnections(),
                c.requestTimeoutMs(), c.idleTimeoutMs()));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel channel = new ServerBootstrap()
                    .group(group)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 64)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new Initializer(c, routes, guard))
                    .bind(c.host(), c.port())
                    .syncUninterruptibly()
                    .channel();
            return new MetricsServer(group, channel, guard);
        } catch (Exception e) { // Netty rethrows the checked BindException undeclared
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            String why = e instanceof java.net.BindException && e.getMessage() != null ? e.getMessage() : e.toString();
            throw new IllegalStateException("cannot serve metrics on " + c.host() + ":" + c.port() + ": " + why, e);
        }
    }

    /** Connections open right now (rejected ones excluded). */
    public int openConnections() {
        return guard.openConnections();
    }

    /** Connections answered 503 because {@link MonitoringConfig#maxConnections()} were open and all busy. */
    public int rejectedConnections() {
        return guard.rejectedConnections();
    }

    /** Idle or incomplete connections closed to make room for new ones (see {@link ConnectionGuard}). */
    public int evictedConnections() {
        return guard.evictedConnections();
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

    /** Sets up each accepted connection: the codec, the connection guard, the aggregator and the routes. */
    private static final class Initializer extends ChannelInitializer<SocketChannel> {
        private final MonitoringConfig config;
        private final HttpRoutes routes;
        private final ConnectionGuard guard;

        Initializer(MonitoringConfig config, HttpRoutes routes, ConnectionGuard guard) {
            this.config = config;
            this.routes = routes;
            this.guard = guard;
        }

        @Override
        protected void initChannel(SocketChannel ch) {
            ChannelPipeline p = ch.pipeline();
            p.addLast(new HttpServerCodec(new HttpDecoderConfig()
                    .setMaxInitialLineLength(MAX_INITIAL_LINE_BYTES)
                    .setMaxHeaderSize(MAX_HEADER_BYTES)));
            p.addLast(guard.handler());
            p.addLast(new HttpObjectAggregator(config.maxRequestBytes()));
            p.addLast(routes);
        }
    }
}
