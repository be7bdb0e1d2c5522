package dev.descent.engine.landscape;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.descent.engine.actor.LocalActorSystem;
import dev.descent.engine.actor.ProjectionEvaluator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * E {@link ProjectionEvaluator} actors, each with its own {@link PointEvaluator} (parameter slab and activation
 * workspace), driven by one coordinator actor:
 *
 * <pre>{@code
 * LandscapeResult r = LandscapeRun.run(projection, new ActorScheduler(factory, 2), partial, fingerprint, false,
 *         listener, () -> false);
 * }</pre>
 *
 * The coordinator hands each evaluator one point at a time (its index and coordinates, never parameters), so a slow
 * point never stalls the others, and passes each answer to the sink on its own thread, one at a time, before it
 * polls {@code cancelled} and hands that evaluator the next point. A point is evaluated whole by one evaluator (its
 * per-batch sums reduced in batch order), so the numbers do not depend on E or on which evaluator got which point.
 *
 * <p>Failure: an evaluator that throws, stops or cannot be built, or a sink that throws, ends the run: no new point is
 * dealt out, the points under way still finish and (unless the sink itself failed) reach the sink, so nothing computed
 * is lost from the partial results; then every evaluator is stopped and its memory closed, and {@link #run} throws
 * the first failure. {@code run} returns only after all
 * evaluators have stopped, so the caller may free the base point, directions and data at once.
 *
 * <p>Actor system: the one given to the constructor (evaluators on {@code dispatcher}, by default Pekko's blocking
 * dispatcher, coordinator included), or a private one per run with a dispatcher of E + 1 threads, terminated before
 * {@code run} returns.
 */
public final class ActorScheduler implements PointScheduler {
    /** Dispatcher of the evaluators in a private actor system (one thread per evaluator, one for the coordinator). */
    static final String DISPATCHER = "descent.landscape-dispatcher";
    /** How long {@link #run} waits for a private actor system to terminate after the run. */
    static final long TERMINATE_TIMEOUT_MS = 30_000;
    private static final AtomicLong RUNS = new AtomicLong();

    private final PointEvaluator.Factory factory;
    private final int evaluators;
    private final ActorSystem<?> system;
    private final DispatcherSelector dispatcher;

    /** E evaluators in a private actor system created for each run. */
    public ActorScheduler(PointEvaluator.Factory factory, int evaluators) {
        this(factory, evaluators, null, null);
    }

    /**
     * E evaluators in {@code system} (null: a private one per run) on {@code dispatcher} (null: the blocking
     * dispatcher of {@code system}; ignored for a private system).
     */
    public ActorScheduler(PointEvaluator.Factory factory, int evaluators, ActorSystem<?> system,
                          DispatcherSelector dispatcher) {
        if (evaluators < 1) {
            throw new IllegalArgumentException("need at least one evaluator, was " + evaluators);
        }
        if (factory == null) {
            throw new IllegalArgumentException("an evaluator factory is required");
        }
        this.factory = factory;
        this.evaluators = evaluators;
        this.system = system;
        this.dispatcher = dispatcher;
    }

    @Override
    public int evaluators() {
        return evaluators;
    }

    @Override
    public void run(Projection projection, int[] pending, Consumer<PointResult> sink, BooleanSupplier cancelled) {
        if (pending.length == 0 || cancelled.getAsBoolean()) {
            return;
        }
        int n = Math.min(evaluators, pending.length);
        ActorSystem<?> sys = system != null ? system : privateSystem(n);
        DispatcherSelector evals = system == null ? privateDispatcher()
                : dispatcher != null ? dispatcher : DispatcherSelector.blocking();
        try {
            CompletableFuture<Void> finished = new CompletableFuture<>();
            ActorRef<Coordinator.Command> coordinator = sys.systemActorOf(
                    Coordinator.create(factory, n, evals, projection, pending, sink, cancelled, finished),
                    "landscape-" + RUNS.incrementAndGet(), evals);
            await(finished, coordinator, sys);
        } finally {
            if (system == null) {
                terminate(sys);
            }
        }
    }

    /** Waits for the coordinator; an interrupt aborts the run (still waiting for the evaluators to stop). */
    private static void await(CompletableFuture<Void> finished, ActorRef<Coordinator.Command> coordinator,
                              ActorSystem<?> sys) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    finished.get(1, TimeUnit.SECONDS);
                    return;
                } catch (InterruptedException e) {
                    if (!interrupted) {
                        interrupted = true;
                        coordinator.tell(new Coordinator.Abort(e));
                    }
                } catch (TimeoutException e) {
                    if (sys.getWhenTerminated().toCompletableFuture().isDone() && !finished.isDone()) {
                        throw new IllegalStateException("actor system " + sys.name()
                                + " terminated before the landscape run finished");
                    }
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof RuntimeException re) {
                        throw re;
                    }
                    if (cause instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException("landscape evaluation failed: " + cause, cause);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A private actor system for landscape evaluators: a dispatcher ({@link #privateDispatcher()}) of
     * {@code evaluators + 1} threads (the coordinator never waits for a busy evaluator's thread), quiet logging, no
     * JVM shutdown hooks. The caller terminates it
     * ({@link #terminate}).
     */
    static ActorSystem<Void> privateSystem(int evaluators) {
        return ActorSystem.create(Behaviors.empty(), "descent-landscape", privateConfig(evaluators));
    }

    /** The evaluators' dispatcher in a {@link #privateSystem}. */
    static DispatcherSelector privateDispatcher() {
        return DispatcherSelector.fromConfig(DISPATCHER);
    }

    /** Terminates {@code sys} and waits up to {@value #TERMINATE_TIMEOUT_MS} ms for it. */
    static void terminate(ActorSystem<?> sys) {
        sys.terminate();
        try {
            sys.getWhenTerminated().toCompletableFuture().get(TERMINATE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("actor system " + sys.name() + " did not terminate within "
                    + TERMINATE_TIMEOUT_MS + " ms: " + e, e);
        }
    }

    private static Config privateConfig(int evaluators) {
        return ConfigFactory.parseString(String.format(Locale.ROOT, """
                %s {
                  type = Dispatcher
                  executor = "thread-pool-executor"
                  thread-pool-executor.fixed-pool-size = %d
                  throughput = 1
                }
                pekko.log-dead-letters-during-shutdown = off
                pekko.log-dead-letters = 0
                pekko.jvm-shutdown-hooks = off
                pekko.loglevel = WARNING
                pekko.coordinated-shutdown.log-info = off
                %s
                """, DISPATCHER, evaluators + 1, LocalActorSystem.LIBRARY_EXTENSIONS))
                .withFallback(ConfigFactory.load());
    }

    /**
     * Spawns and watches the evaluators, deals out points, delivers answers to the sink and completes
     * {@code finished} from its PostStop signal, which comes only after every evaluator has stopped (and closed its
     * memory).
     */
    static final class Coordinator extends AbstractBehavior<Coordinator.Command> {
        sealed interface Command {
        }

        private record Reply(ProjectionEvaluator.PointEvaluated reply) implements Command {
        }

        /** The waiting caller was interrupted. */
        record Abort(Exception cause) implements Command {
        }

        private final Projection projection;
        private final int[] pending;
        private final Consumer<PointResult> sink;
        private final BooleanSupplier cancelled;
        private final CompletableFuture<Void> finished;
        private final List<ActorRef<ProjectionEvaluator.Command>> evaluators; // an entry is null once it stopped
        /** Point (index into {@code pending}) each evaluator works on, or -1 when idle. */
        private final int[] working;
        private final ActorRef<ProjectionEvaluator.PointEvaluated> replies;
        private int next;
        private int busy;
        /** Whether the evaluators other than 0 have had their first point (after evaluator 0's first answer). */
        private boolean othersDealt;
        private boolean stopping;
        /** The sink threw: it gets nothing more. */
        private boolean sinkBroken;
        private Throwable failure;

        static Behavior<Command> create(PointEvaluator.Factory factory, int n, DispatcherSelector dispatcher,
                                        Projection projection, int[] pending, Consumer<PointResult> sink,
                                        BooleanSupplier cancelled, CompletableFuture<Void> finished) {
            return Behaviors.setup(ctx -> new Coordinator(ctx, factory, n, dispatcher, projection, pending, sink,
                    cancelled, finished));
        }

        @SuppressWarnings("unchecked")
        private Coordinator(ActorContext<Command> ctx, PointEvaluator.Factory factory, int n,
                            DispatcherSelector dispatcher, Projection projection, int[] pending,
                            Consumer<PointResult> sink, BooleanSupplier cancelled, CompletableFuture<Void> finished) {
            super(ctx);
            this.projection = projection;
            this.pending = pending;
            this.sink = sink;
            this.cancelled = cancelled;
            this.finished = finished;
            this.replies = ctx.messageAdapter(ProjectionEvaluator.PointEvaluated.class, Reply::new);
            this.evaluators = new ArrayList<>(n);
            this.working = new int[n];
            for (int e = 0; e < n; e++) {
                evaluators.add(ctx.spawn(ProjectionEvaluator.forLandscape(e, factory), "evaluator-" + e, dispatcher));
                ctx.watch(evaluators.get(e));
                working[e] = -1;
            }
            // The first point goes to one evaluator alone; the others start once it is back. Until C2 has compiled
            // the evaluation's kernels a point takes ~0.5 s instead of ~3 ms, and every evaluator evaluating at once
            // then only takes cores from the compiler: with two evaluators a 15x15 grid was slower than with one.
            dealTo(0);
            othersDealt = n == 1;
        }

        @Override
        public Receive<Command> createReceive() {
            return newReceiveBuilder()
                    .onMessage(Reply.class, this::onReply)
                    .onMessage(Abort.class, a -> fail(a.cause()))
                    .onSignal(ChildFailed.class, s -> onEvaluatorStopped(s.getRef(), s.getCause()))
                    .onSignal(Terminated.class, s -> onEvaluatorStopped(s.getRef(), null))
                    .onSignal(PostStop.class, s -> onPostStop())
                    .build();
        }

        /** Hands evaluator {@code e} the next point, unless the run is over or stopping. */
        private void dealTo(int e) {
            if (stopping || next >= pending.length) {
                return;
            }
            int k = next++;
            int point = pending[k];
            working[e] = k;
            busy++;
            evaluators.get(e).tell(new ProjectionEvaluator.EvaluatePoint(k, point, projection.a(point),
                    projection.b(point), replies));
        }

        private Behavior<Command> onReply(Reply m) {
            ProjectionEvaluator.PointEvaluated r = m.reply();
            int e = r.evaluator();
            if (working[e] != r.requestId()) {
                return this; // an answer that no longer counts (cannot happen with one point in flight)
            }
            working[e] = -1;
            busy--;
            if (r.error() != null) {
                return fail(new IllegalStateException("landscape evaluator " + e + " failed at point "
                        + pending[(int) r.requestId()] + ": " + r.error().getMessage(), r.error()));
            }
            if (sinkBroken) {
                return busy == 0 ? Behaviors.stopped() : this;
            }
            try {
                sink.accept(r.result());
                if (!stopping && cancelled.getAsBoolean()) {
                    stopping = true;
                }
            } catch (RuntimeException | Error t) {
                sinkBroken = true;
                return fail(t);
            }
            dealTo(e);
            if (!othersDealt) {
                othersDealt = true;
                for (int o = 0; o < working.length; o++) {
                    if (o != e && working[o] < 0 && evaluators.get(o) != null) {
                        dealTo(o);
                    }
                }
            }
            return busy == 0 ? Behaviors.stopped() : this;
        }

        private Behavior<Command> onEvaluatorStopped(ActorRef<Void> ref, Throwable cause) {
            for (int e = 0; e < evaluators.size(); e++) {
                if (evaluators.get(e) != null && evaluators.get(e).equals(ref)) {
                    if (working[e] >= 0) {
                        working[e] = -1;
                        busy--;
                    }
                    evaluators.set(e, null);
                    return fail(new IllegalStateException("landscape evaluator " + e + " stopped"
                            + (cause == null ? "" : ": " + cause), cause));
                }
            }
            return this;
        }

        /** Records the first failure and stops dealing; stops once the points under way are answered. */
        private Behavior<Command> fail(Throwable t) {
            if (failure == null) {
                failure = t;
            }
            stopping = true;
            return busy == 0 ? Behaviors.stopped() : this;
        }

        /** Every evaluator (a child) has stopped by now. */
        private Behavior<Command> onPostStop() {
            if (failure != null) {
                finished.completeExceptionally(failure);
            } else if (stopping || next >= pending.length) {
                finished.complete(null);
            } else {
                finished.completeExceptionally(new IllegalStateException("the landscape coordinator stopped after "
                        + next + " of " + pending.length + " points were dealt out"));
            }
            return this;
        }
    }
}
