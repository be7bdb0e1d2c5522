package dev.descent.monitoring;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connection limits for a small Netty HTTP server, shared by the metrics server and the samples' job service, so
 * that idle or trickling clients (a "slowloris") cannot lock out complete requests.
 *
 * <ul>
 *   <li>A connection is <em>waiting</em> until it has sent a complete request (headers and body), and again after
 *   each response. A waiting connection that has not completed its request within {@link Limits#requestTimeoutMs()}
 *   is closed; the timer is not reset by trickled bytes. A connection idle after a response is closed after
 *   {@link Limits#idleTimeoutMs()}.</li>
 *   <li>A connection with a complete request is <em>busy</em> and never evicted.</li>
 *   <li>At most {@link Limits#maxConnections()} connections are open, at most {@link Limits#maxPerClient()} from one
 *   address. A connection beyond either bound takes the place of the oldest waiting one (of the same address when
 *   that address is over its share), which is closed: first one that has never completed a request, else the
 *   oldest idle keep-alive connection. Capacity goes to clients that send requests, not to those that hold
 *   sockets. Only when every connection is busy is the new one answered 503 and closed.</li>
 * </ul>
 * One guard per server; add {@link #handler()} to each connection right after the HTTP codec. Thread-safe.
 */
public final class ConnectionGuard {
    /**
     * The bounds.
     *
     * @param maxConnections   connections open at once (over all clients)
     * @param maxPerClient     connections open at once from one remote address
     * @param requestTimeoutMs time a connection has to send a complete request once it is waiting
     * @param idleTimeoutMs    time a connection may stay open after a response without starting a new request
     */
    public record Limits(int maxConnections, int maxPerClient, int requestTimeoutMs, int idleTimeoutMs) {
        public static final int REQUEST_TIMEOUT_MS_DEFAULT = 3_000;

        public Limits {
            if (maxConnections < 1) {
                throw new IllegalArgumentException("maxConnections must be >= 1, was " + maxConnections);
            }
            if (maxPerClient < 1 || maxPerClient > maxConnections) {
                throw new IllegalArgumentException("maxPerClient must be in [1, maxConnections=" + maxConnections
                        + "], was " + maxPerClient);
            }
            if (requestTimeoutMs < 1 || idleTimeoutMs < 1) {
                throw new IllegalArgumentException("timeouts must be >= 1 ms, were requestTimeoutMs="
                        + requestTimeoutMs + " idleTimeoutMs=" + idleTimeoutMs);
            }
        }

        /** {@code maxConnections}, three quarters of them per client, the given timeouts. */
        public static Limits of(int maxConnections, int requestTimeoutMs, int idleTimeoutMs) {
            return new Limits(maxConnections, Math.max(1, maxConnections - maxConnections / 4), requestTimeoutMs,
                    idleTimeoutMs);
        }
    }

    private final Limits limits;
    private final List<Tracker> open = new ArrayList<>(); // in order of the start of their wait, oldest first
    private final Map<InetAddress, Integer> perClient = new HashMap<>();
    private final AtomicInteger rejected = new AtomicInteger();
    private final AtomicInteger evicted = new AtomicInteger();
    private final AtomicInteger timedOut = new AtomicInteger();

    public ConnectionGuard(Limits limits) {
        this.limits = java.util.Objects.requireNonNull(limits, "limits");
    }

    public Limits limits() {
        return limits;
    }

    /** A new handler for one connection; put it right after the HTTP server codec. */
    public ChannelDuplexHandler handler() {
        return new Tracker();
    }

    /** Connections open right now. */
    public synchronized int openConnections() {
        return open.size();
    }

    /** Connections answered 503 because every slot was busy. */
    public int rejectedConnections() {
        return rejected.get();
    }

    /** Waiting connections closed to make room for a new one. */
    public int evictedConnections() {
        return evicted.get();
    }

    /** Connections closed because they did not complete a request, or stayed idle, in time. */
    public int timedOutConnections() {
        return timedOut.get();
    }

    /** Admits {@code t}; returns false when it must be rejected. Evicts a waiting connection when needed. */
    private boolean admit(Tracker t) {
        Tracker victim = null;
        synchronized (this) {
            int fromClient = perClient.getOrDefault(t.client, 0);
            boolean clientFull = fromClient >= limits.maxPerClient();
            boolean full = open.size() >= limits.maxConnections();
            if (clientFull || full) {
                victim = oldestWaiting(clientFull ? t.client : null, false);
                if (victim == null) {
                    victim = oldestWaiting(clientFull ? t.client : null, true);
                }
                if (victim == null) {
                    rejected.incrementAndGet();
                    return false;
                }
                remove(victim);
                evicted.incrementAndGet();
            }
            open.add(t);
            perClient.merge(t.client, 1, Integer::sum);
        }
        if (victim != null) {
            victim.channel.close();
        }
        return true;
    }

    /** The oldest waiting connection (of {@code client} unless null) that has, or has never, been served. */
    private Tracker oldestWaiting(InetAddress client, boolean served) {
        for (Tracker o : open) {
            if (!o.busy && o.served == served && (client == null || o.client.equals(client))) {
                return o;
            }
        }
        return null;
    }

    private synchronized void remove(Tracker t) {
        if (open.remove(t)) {
            perClient.computeIfPresent(t.client, (k, v) -> v == 1 ? null : v - 1);
        }
    }

    private synchronized void waiting(Tracker t) {
        t.busy = false;
        if (open.remove(t)) { // to the back: the newest waiter is evicted last
            open.add(t);
        }
    }

    private final class Tracker extends ChannelDuplexHandler {
        private Channel channel;
        private InetAddress client;
        private volatile boolean busy;
        private volatile boolean served;
        private boolean admitted;
        private ScheduledFuture<?> timer;

        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            channel = ctx.channel();
            client = channel.remoteAddress() instanceof InetSocketAddress a && a.getAddress() != null
                    ? a.getAddress() : InetAddress.getLoopbackAddress();
            admitted = admit(this);
            arm(ctx, limits.requestTimeoutMs());
            if (admitted) {
                super.channelActive(ctx);
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (!admitted) { // read the request, then answer 503: a client that is still writing sees no reset
                boolean last = msg instanceof LastHttpContent;
                io.netty.util.ReferenceCountUtil.release(msg);
                if (last) {
                    disarm();
                    reject(ctx);
                }
                return;
            }
            if (msg instanceof LastHttpContent) {
                busy = true;
                served = true;
                disarm();
            }
            super.channelRead(ctx, msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (msg instanceof LastHttpContent && admitted) {
                promise.addListener(f -> {
                    if (f.isSuccess() && ctx.channel().isActive()) {
                        waiting(this);
                        arm(ctx, limits.idleTimeoutMs());
                    }
                });
            }
            super.write(ctx, msg, promise);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            disarm();
            if (admitted) {
                remove(this);
            }
            super.channelInactive(ctx);
        }

        private void arm(ChannelHandlerContext ctx, int ms) {
            disarm();
            timer = ctx.executor().schedule(() -> {
                if (!busy && ctx.channel().isActive()) {
                    timedOut.incrementAndGet();
                    ctx.close();
                }
            }, ms, TimeUnit.MILLISECONDS);
        }

        private void disarm() {
            if (timer != null) {
                timer.cancel(false);
                timer = null;
            }
        }
    }

    /** Answers 503 at once (before the request: the client is told to come back) and closes. */
    private static void reject(ChannelHandlerContext ctx) {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SERVICE_UNAVAILABLE,
                Unpooled.copiedBuffer("too many connections\n", StandardCharsets.UTF_8));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        r.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
}
