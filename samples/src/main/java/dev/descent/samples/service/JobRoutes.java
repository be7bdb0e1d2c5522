package dev.descent.samples.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.descent.sdk.DescentEngine;
import dev.descent.sdk.DescentException;
import dev.descent.sdk.JobState;
import dev.descent.sdk.MemoryEstimate;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Progress;
import dev.descent.sdk.TrainingJob;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.TrainingResult;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routes of {@link JobService}: guard, then {@code /jobs} and {@code /jobs/{id}[/cancel]}. Reads answer on the
 * I/O thread (they only copy progress); a submit is validated there and then admitted, built and started on the
 * submit executor, which writes the response when done.
 */
@ChannelHandler.Sharable
final class JobRoutes extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(JobRoutes.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final int PAGE_DEFAULT = 100;
    static final int PAGE_MAX = 1000;

    private final DescentEngine engine;
    private final JobCatalog catalog;
    private final ServiceConfig config;
    private final RequestGuard guard;
    private final Executor submitter;
    private final Admission admission;
    private final Map<String, TrainingJob> jobs = new LinkedHashMap<>(); // this service's jobs, in submission order
    private final AtomicLong incidents = new AtomicLong();

    JobRoutes(DescentEngine engine, JobCatalog catalog, ServiceConfig config, RequestGuard guard, Executor submitter) {
        this.engine = engine;
        this.catalog = catalog;
        this.config = config;
        this.guard = guard;
        this.submitter = submitter;
        this.admission = new Admission(config.memoryBudgetBytes(), config.maxConcurrentJobs());
    }

    Admission admission() {
        return admission;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        try {
            if (!req.decoderResult().isSuccess()) {
                throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, "malformed HTTP request");
            }
            guard.check(req.method(), req.headers(), req.content().readableBytes());
            FullHttpResponse res = route(ctx, req, keepAlive);
            if (res != null) {
                send(ctx, res, keepAlive);
            }
        } catch (RuntimeException | Error e) {
            send(ctx, failure(e), keepAlive);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    /** The response, or null when a submit will answer later from the executor. */
    private FullHttpResponse route(ChannelHandlerContext ctx, FullHttpRequest req, boolean keepAlive) {
        QueryStringDecoder q = new QueryStringDecoder(req.uri());
        String path = q.rawPath();
        String[] parts = path.replaceAll("^/+|/+$", "").split("/");
        HttpMethod m = req.method();
        if (parts.length == 1 && parts[0].equals("jobs")) {
            if (m.equals(HttpMethod.GET)) {
                return json(HttpResponseStatus.OK, list(q));
            }
            if (m.equals(HttpMethod.POST)) {
                JobRequest r = JobRequest.parse(req.content().toString(StandardCharsets.UTF_8), config);
                try {
                    submitter.execute(() -> {
                        FullHttpResponse res;
                        try {
                            res = submit(r);
                        } catch (RuntimeException | Error e) { // the client always gets an answer
                            res = failure(e);
                        }
                        send(ctx, res, keepAlive);
                    });
                } catch (RejectedExecutionException e) {
                    throw new JobService.HttpError(HttpResponseStatus.SERVICE_UNAVAILABLE,
                            "too many submits in progress; retry in a moment");
                }
                return null;
            }
            throw new JobService.HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET or POST on /jobs");
        }
        if (parts.length >= 2 && parts[0].equals("jobs")) {
            TrainingJob job;
            synchronized (jobs) {
                job = jobs.get(parts[1]);
            }
            if (job == null) {
                throw new JobService.HttpError(HttpResponseStatus.NOT_FOUND, "no job '" + abbreviate(parts[1]) + "'");
            }
            if (parts.length == 2) {
                if (!m.equals(HttpMethod.GET)) {
                    throw new JobService.HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED, "use GET on /jobs/{id}");
                }
                return json(HttpResponseStatus.OK, describe(job));
            }
            if (parts.length == 3 && parts[2].equals("cancel")) {
                if (!m.equals(HttpMethod.POST)) {
                    throw new JobService.HttpError(HttpResponseStatus.METHOD_NOT_ALLOWED,
                            "use POST on /jobs/{id}/cancel");
                }
                if (done(job)) {
                    throw new JobService.HttpError(HttpResponseStatus.CONFLICT, "job " + job.id() + " has already "
                            + "finished (" + job.state() + ")");
                }
                job.cancel();
                return json(HttpResponseStatus.ACCEPTED, describe(job));
            }
        }
        throw new JobService.HttpError(HttpResponseStatus.NOT_FOUND, "no route " + m + " " + abbreviate(path));
    }

    /** A page of jobs, oldest first: {@code limit} (default 100, at most 1000) after the job id {@code after}. */
    private JsonNode list(QueryStringDecoder q) {
        int limit = PAGE_DEFAULT;
        long after = 0;
        try {
            if (q.parameters().containsKey("limit")) {
                limit = Integer.parseInt(q.parameters().get("limit").getFirst());
            }
            if (q.parameters().containsKey("after")) {
                after = Long.parseLong(q.parameters().get("after").getFirst());
            }
        } catch (NumberFormatException e) {
            throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, "'limit' and 'after' must be integers");
        }
        if (limit < 1 || limit > PAGE_MAX) {
            throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, "'limit' must be in [1, " + PAGE_MAX
                    + "], was " + limit);
        }
        List<TrainingJob> page = new ArrayList<>();
        synchronized (jobs) {
            for (TrainingJob j : jobs.values()) {
                if (Long.parseLong(j.id()) > after && page.size() < limit) {
                    page.add(j);
                }
            }
        }
        var list = JSON.createArrayNode();
        page.forEach(j -> list.add(describe(j)));
        return list;
    }

    /** Runs on the submit executor: estimate, admit, build and start the job. */
    private FullHttpResponse submit(JobRequest r) {
        JobCatalog.DatasetEntry data;
        JobCatalog.ModelFactory model;
        try {
            data = catalog.dataset(r.dataset());
            model = catalog.model(r.model());
        } catch (IllegalArgumentException e) {
            throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        TrainingPlan.Builder b = TrainingPlan.builder()
                .model(model.build(data.inputShape(), data.classes(), r.seed()))
                .train(r.limit() > 0 ? data.train().limit(r.limit()) : data.train()).test(data.test())
                .optimizer(Optimizer.momentum(r.lr(), r.momentum())).epochs(r.epochs()).batchSize(r.batch())
                .workers(r.workers()).seed(r.seed());
        if (r.name() != null) {
            b.name(r.name());
        }
        TrainingPlan plan;
        MemoryEstimate estimate;
        try {
            plan = b.build();
            estimate = MemoryEstimate.of(plan, engine.config().workers());
        } catch (IllegalArgumentException | DescentException e) {
            throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        }
        Admission.Ticket ticket = admission.reserve(estimate.totalBytes() + data.limitBytes(r.limit()), r.dataset(),
                data.bytes());
        TrainingJob job;
        try {
            job = engine.submit(plan);
        } catch (DescentException e) {
            admission.release(ticket);
            throw new JobService.HttpError(HttpResponseStatus.BAD_REQUEST, e.getMessage());
        } catch (RuntimeException | Error e) {
            admission.release(ticket);
            throw e;
        }
        synchronized (jobs) {
            jobs.put(job.id(), job);
        }
        job.result().whenComplete((res, err) -> {
            prune();
            admission.release(ticket);
        });
        return json(HttpResponseStatus.CREATED, describe(job));
    }

    /** Forgets the oldest finished jobs beyond {@link ServiceConfig#maxFinishedJobs()}. */
    private void prune() {
        List<TrainingJob> forget = new ArrayList<>();
        synchronized (jobs) {
            long finished = jobs.values().stream().filter(JobRoutes::done).count();
            var it = jobs.values().iterator();
            while (finished > config.maxFinishedJobs() && it.hasNext()) {
                TrainingJob j = it.next();
                if (done(j)) {
                    it.remove();
                    forget.add(j);
                    finished--;
                }
            }
        }
        forget.forEach(engine::forget);
    }

    /** A refusal with its status, or a 500 that is logged under an incident id and shows only that id. */
    private FullHttpResponse failure(Throwable e) {
        if (e instanceof JobService.HttpError h) {
            FullHttpResponse r = json(h.status, JSON.createObjectNode().put("error", h.getMessage()));
            if (h.status.equals(HttpResponseStatus.UNAUTHORIZED)) {
                r.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            }
            return r;
        }
        String incident = Long.toString(System.currentTimeMillis(), 36) + "-" + incidents.incrementAndGet();
        LOG.error("descent job service: internal error, incident {}", incident, e);
        return json(HttpResponseStatus.INTERNAL_SERVER_ERROR, JSON.createObjectNode()
                .put("error", "internal error; the service log has the details under incident " + incident)
                .put("incident", incident));
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
        if (p.state() == JobState.FAILED || p.state() == JobState.CANCELLED) {
            try {
                j.result().toCompletableFuture().getNow(null);
            } catch (CompletionException | CancellationException e) {
                Throwable cause = e.getCause() == null ? e : e.getCause();
                o.put("error", cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage());
            }
        }
        return o;
    }

    private static boolean done(TrainingJob j) {
        return j.result().toCompletableFuture().isDone();
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

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
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
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        return r;
    }

    private static void send(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
        HttpUtil.setKeepAlive(res, keepAlive);
        var f = ctx.writeAndFlush(res);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
