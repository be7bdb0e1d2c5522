package dev.descent.engine.actor;

import com.sun.management.ThreadMXBean;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import java.lang.management.ManagementFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Child-JVM program of {@code HandlerAllocationTest} (run with {@code -Ddescent.test.handlerProbe=true}): trains
 * small real jobs (sync with 1 and 2 workers, async with 1) and compares the bytes allocated inside the per-step
 * handler bodies ({@link HandlerProbe}) with the bytes of the messages a step sends.
 *
 * <p>"The message" is counted exactly: per step the records sent ({@code DataLoader.Pull}, {@code Worker.BatchReady},
 * {@code DataLoader.Release}, the gradient-ready record, {@code Worker.Proceed} (one object told to every worker),
 * {@code JobSupervisor.StepApplied}) plus the {@code TrainingEvent.StepCompleted} handed to the listener, and for
 * every {@code tell} Pekko's delivery cost (its {@code Envelope} and mailbox queue node). Both are measured in
 * this JVM on the same (fork-join) dispatcher before the jobs run. Anything else a handler allocates per step
 * shows up as a difference of at least one object (16 bytes) per step; the tolerance is 4 bytes per step (a
 * handler whose sends vary call to call, like a worker's pull, can be cut mid-pattern at a window's ends).
 *
 * <p>The jobs repeat until one window of {@link #WINDOW} steps after the first {@link #WARMUP} of a job is within
 * the bound (JIT warm-up: interpreted and C1 code can allocate where C2 scalar-replaces), or for at most
 * {@link #DEADLINE_SECONDS} per configuration: the minimum over the windows is reported.
 */
public final class HandlerAllocationProbe {
    static final int STEPS = 4000;
    static final int WARMUP = 1000;
    static final int WINDOW = 500;
    static final int TOLERANCE_BYTES_PER_STEP = 4;
    static final long DEADLINE_SECONDS = 150;

    private HandlerAllocationProbe() {
    }

    /** Allocation cost of one kind of object or action, measured as the fewest bytes over many tries. */
    private static final class Costs {
        long tell;
        long pull;
        long batchReady;
        long release;
        long syncGradient;
        long asyncGradient;
        long proceed;
        long stepApplied;
        long stepCompleted;
    }

    static volatile Object sink;

    public static void main(String[] args) throws Exception {
        if (!HandlerProbe.ENABLED) {
            throw new IllegalStateException("run with -D" + HandlerProbe.ENABLED_PROP_NAME + "=true");
        }
        ActorTestKit kit = ActorTestKit.create();
        int failures = 0;
        int configs = 0;
        try {
            Costs c = calibrate(kit);
            System.out.println("per message (bytes): tell " + c.tell + ", Pull " + c.pull + ", BatchReady "
                    + c.batchReady + ", Release " + c.release + ", GradientReady " + c.syncGradient + "/"
                    + c.asyncGradient + ", Proceed " + c.proceed + ", StepApplied " + c.stepApplied
                    + ", StepCompleted " + c.stepCompleted);
            for (String config : new String[]{"sync-1", "sync-2", "async-1"}) {
                boolean sync = config.startsWith("sync");
                int w = config.charAt(config.length() - 1) - '0';
                long tells = 5L * w + 1;
                long expected = tells * c.tell + w * (c.pull + c.batchReady + c.release
                        + (sync ? c.syncGradient : c.asyncGradient)) + c.proceed + c.stepApplied + c.stepCompleted;
                double best = measure(kit, sync, w, expected);
                boolean ok = best <= expected + TOLERANCE_BYTES_PER_STEP;
                failures += ok ? 0 : 1;
                configs++;
                System.out.printf(java.util.Locale.ROOT, "%s: messages %d bytes/step, handlers %.1f bytes/step%s%n",
                        config, expected, best, ok ? "" : " ALLOCATES " + (best - expected) + " bytes/step more");
            }
            for (HandlerProbe.Handler h : HandlerProbe.Handler.values()) {
                System.out.println("last job, " + h + ": " + HandlerProbe.calls(h) + " calls, " + HandlerProbe.bytes(h) + " bytes");
            }
        } finally {
            kit.shutdownTestKit();
        }
        System.out.println("checked " + configs + " configurations");
        System.exit(failures == 0 ? 0 : 1);
    }

    /**
     * Trains jobs until a window is within the bound or the deadline passes; the fewest bytes per step seen. A
     * window of steps {@code [from, from + WINDOW)} is, for each handler called k times per step (k = 1 or the
     * worker count; 0 for handlers only barriers call), the bytes of its calls {@code [k*from, k*(from+WINDOW))}:
     * every actor is cut at its own step, whatever the others do meanwhile.
     */
    private static double measure(ActorTestKit kit, boolean sync, int workers, long expected) throws Exception {
        int batch = 4;
        Dataset train = Fixtures.blobs("train", STEPS * batch, 20, 3, 5);
        double best = Double.MAX_VALUE;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        do {
            HandlerProbe.reset();
            try (Model m = Fixtures.mlp(0.0)) {
                JobSpec spec = Fixtures.spec(m, train, null).batchSize(batch).epochs(1).workers(workers)
                        .mode(sync ? JobSpec.Mode.SYNC : JobSpec.Mode.ASYNC).maxStaleness(1_000_000)
                        .listener(e -> sink = e); // the event escapes, as it does to a real listener
                CompletableFuture<dev.descent.engine.train.TrainingResult> f = new CompletableFuture<>();
                kit.spawn(JobSupervisor.create(spec, new JobStatus(), f, DispatcherSelector.defaultDispatcher()));
                f.get(120, TimeUnit.SECONDS);
            }
            int[] perStep = new int[HandlerProbe.Handler.values().length];
            for (HandlerProbe.Handler h : HandlerProbe.Handler.values()) {
                perStep[h.ordinal()] = (int) Math.round(HandlerProbe.calls(h) / (double) STEPS);
            }
            for (int from = WARMUP; from + WINDOW < STEPS - 10; from += WINDOW) {
                long bytes = 0;
                for (HandlerProbe.Handler h : HandlerProbe.Handler.values()) {
                    int k = perStep[h.ordinal()];
                    if (k > 0) {
                        bytes += HandlerProbe.runningBytes(h, k * (from + WINDOW)) - HandlerProbe.runningBytes(h, k * from);
                    }
                }
                best = Math.min(best, bytes / (double) WINDOW);
            }
        } while (best > expected + TOLERANCE_BYTES_PER_STEP && System.nanoTime() < deadline);
        return best;
    }

    private record Calibrate(CompletableFuture<Costs> done) {
    }

    /** Measures message sizes and the cost of a tell on an actor of the default dispatcher, as the jobs do. */
    private static Costs calibrate(ActorTestKit kit) throws Exception {
        ActorRef<Worker.Command> worker = kit.spawn(Behaviors.ignore());
        ActorRef<DataLoader.Command> loader = kit.spawn(Behaviors.ignore());
        ActorRef<GradientAggregator.Command> aggregator = kit.spawn(Behaviors.ignore());
        ActorRef<JobSupervisor.Command> supervisor = kit.spawn(Behaviors.ignore());
        Behavior<Calibrate> b = Behaviors.receive((ctx, msg) -> {
            ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
            Costs c = new Costs();
            c.tell = c.pull = c.batchReady = c.release = c.syncGradient = c.asyncGradient = c.proceed =
                    c.stepApplied = c.stepCompleted = Long.MAX_VALUE;
            Worker.Proceed preallocated = new Worker.Proceed(1);
            for (int i = 0; i < 20_000; i++) {
                long t = mx.getCurrentThreadAllocatedBytes();
                worker.tell(preallocated);
                c.tell = Math.min(c.tell, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new DataLoader.Pull(i, worker);
                c.pull = Math.min(c.pull, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new Worker.BatchReady(i % 3, i, 0, i, 4);
                c.batchReady = Math.min(c.batchReady, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new DataLoader.Release(i % 3);
                c.release = Math.min(c.release, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new GradientAggregator.GradientReady(0, i, 0, i, 0.5, 3, 4, 0, 0, 0, worker);
                c.syncGradient = Math.min(c.syncGradient, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new ParameterServer.GradientReady(0, i, 0.5, 3, 4, 0, 0, 0, worker);
                c.asyncGradient = Math.min(c.asyncGradient, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new Worker.Proceed(i);
                c.proceed = Math.min(c.proceed, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new JobSupervisor.StepApplied(i, 0, i, 0.5, 3, 4, 0.1, 1.0, false);
                c.stepApplied = Math.min(c.stepApplied, mx.getCurrentThreadAllocatedBytes() - t);
                t = mx.getCurrentThreadAllocatedBytes();
                sink = new TrainingEvent.StepCompleted("test", i, 0, 0.5, 0.1, 4, 1e-4);
                c.stepCompleted = Math.min(c.stepCompleted, mx.getCurrentThreadAllocatedBytes() - t);
            }
            msg.done().complete(c);
            return Behaviors.same();
        });
        CompletableFuture<Costs> done = new CompletableFuture<>();
        kit.spawn(b).tell(new Calibrate(done));
        Costs c = done.get(60, TimeUnit.SECONDS);
        for (ActorRef<?> r : java.util.List.of(worker, loader, aggregator, supervisor)) {
            kit.stop(r);
        }
        return c;
    }
}
