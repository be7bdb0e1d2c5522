package dev.descent.samples.service;

import dev.descent.monitoring.ConnectionGuard;
import dev.descent.sdk.Descent;
import dev.descent.sdk.DescentConfig;
import dev.descent.sdk.DescentEngine;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The embedded-service sample: a JVM service that runs training jobs on an embedded Descent engine and exposes a
 * small JSON API over HTTP, bound to 127.0.0.1.
 * <pre>
 *   POST /jobs                 {"model":"mlp","dataset":"fashion-mnist","epochs":2,"batch":128,"lr":0.02,
 *                               "workers":2,"seed":1,"name":"run-1"}   -> 201 {"id":"1",...}
 *   GET  /jobs[?limit=N&amp;after=ID] -> 200 [{"id":"1","state":"RUNNING","step":..},...] (oldest first, a page)
 *   GET  /jobs/{id}            -> 200 {...progress, result or error...}
 *   POST /jobs/{id}/cancel     -> 202 (409 when the job has already finished)
 * </pre>
 * Safe by default: every request needs {@code Authorization: Bearer <token>} (the token is generated at start and
 * printed, or taken from {@code $DESCENT_SERVICE_TOKEN}), a {@code Host} naming this loopback server, no foreign
 * {@code Origin}, and {@code Content-Type: application/json} on a body ({@link RequestGuard}). Submits are validated
 * strictly ({@link JobRequest}), admitted against a memory budget and a bound on running jobs ({@link Admission}),
 * and run off the I/O thread; finished jobs beyond {@link ServiceConfig#maxFinishedJobs()} are forgotten.
 * Connections are bounded as the metrics server's ({@link ConnectionGuard}). Errors are JSON
 * {@code {"error": "..."}}: 400 bad body, 401 token, 403 host/origin, 404, 405, 409, 413 body over
 * {@link #MAX_BODY_BYTES}, 415 content type, 422 over budget, 429 too many jobs, 503 busy; a 500 logs the failure
 * and returns only an incident id.
 */
public final class JobService implements AutoCloseable {
    /** Largest request body accepted. */
    public static final int MAX_BODY_BYTES = 16 * 1024;

    private final DescentEngine engine;
    private final JobCatalog catalog;
    private final ServiceConfig config;
    private final EventLoopGroup group;
    private final Channel channel;
    private final ThreadPoolExecutor submitter;
    private final JobRoutes routes;

    private JobService(DescentEngine engine, JobCatalog catalog, ServiceConfig config, EventLoopGroup group,
                       Channel channel, ThreadPoolExecutor submitter, JobRoutes routes) {
        this.engine = engine;
        this.catalog = catalog;
        this.config = config;
        this.group = group;
        this.channel = channel;
        this.submitter = submitter;
        this.routes = routes;
    }

    /** As {@link #start(DescentEngine, JobCatalog, int, ServiceConfig)} with the default (safe) configuration. */
    public static JobService start(DescentEngine engine, JobCatalog catalog, int port) {
        return start(engine, catalog, port, new ServiceConfig());
    }

    /** Starts the service on 127.0.0.1:{@code port} (0: any free port) over {@code engine} (not owned). */
    public static JobService start(DescentEngine engine, JobCatalog catalog, int port, ServiceConfig config) {
        ServiceConfig c = config.conclude();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        // submits load data and build models: two threads, a short queue, and 503 beyond it
        ThreadPoolExecutor submitter = new ThreadPoolExecutor(2, 2, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(8),
                Thread.ofPlatform().name("descent-service-submit-", 0).daemon(true).factory());
        submitter.allowCoreThreadTimeOut(true);
        ConnectionGuard guard = new ConnectionGuard(ConnectionGuard.Limits.of(c.maxConnections(), c.requestTimeoutMs(),
                c.idleTimeoutMs()));
        JobRoutes[] routes = new JobRoutes[1];
        try {
            Channel ch = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel s) {
                            s.pipeline().addLast(new HttpServerCodec(new HttpDecoderConfig()
                                    .setMaxInitialLineLength(4096).setMaxHeaderSize(8192)), guard.handler(),
                                    new HttpObjectAggregator(MAX_BODY_BYTES), routes[0]);
                        }
                    }).bind("127.0.0.1", port).syncUninterruptibly().channel();
            int bound = ((InetSocketAddress) ch.localAddress()).getPort();
            routes[0] = new JobRoutes(engine, catalog, c, new RequestGuard(c.token(), bound), submitter);
            return new JobService(engine, catalog, c, group, ch, submitter, routes[0]);
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            submitter.shutdownNow();
            String why = e instanceof java.net.BindException && e.getMessage() != null ? e.getMessage() : e.toString();
            throw new IllegalStateException("cannot bind 127.0.0.1:" + port + ": " + why, e);
        }
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** The bearer token clients must send. */
    public String token() {
        return config.token();
    }

    public ServiceConfig config() {
        return config;
    }

    public DescentEngine engine() {
        return engine;
    }

    public JobCatalog catalog() {
        return catalog;
    }

    /** Off-heap bytes reserved by the jobs admitted now (and their datasets). */
    public long reservedBytes() {
        return routes.admission().reservedBytes();
    }

    @Override
    public void close() {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        submitter.shutdownNow();
    }

    /**
     * {@code java ... dev.descent.samples.service.JobService [port]}: runs until killed; prints the URL and, unless
     * {@code $DESCENT_SERVICE_TOKEN} set one, the generated token.
     */
    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8088;
        DescentEngine engine = Descent.start(new DescentConfig());
        ServiceConfig config = new ServiceConfig().conclude();
        JobService s = start(engine, JobCatalog.standard(), port, config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            s.close();
            engine.close();
        }));
        System.out.println("descent job service on http://127.0.0.1:" + s.port() + "/jobs");
        System.out.println(config.generatedToken
                ? "token (send 'Authorization: Bearer <token>'; set $" + ServiceConfig.TOKEN_ENV_NAME
                        + " to choose one): " + s.token()
                : "token: from $" + ServiceConfig.TOKEN_ENV_NAME);
        Thread.currentThread().join();
    }

    /** A refusal with its HTTP status; the message is the reason the client reads. */
    static final class HttpError extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final transient HttpResponseStatus status;

        HttpError(HttpResponseStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }
}
