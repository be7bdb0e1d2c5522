package dev.descent.sdk;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Handle of a landscape started with {@link Descent#startLandscape(LandscapePlan)}: progress, the result as a
 * {@link CompletionStage}, cancel. The run has its own thread and its own evaluator actors; the stage completes
 * after they stopped and the run's off-heap memory is freed: with the result, exceptionally with the failure
 * ({@link DescentException} for bad files or data, {@link LandscapeResumeException}), or with a
 * {@link java.util.concurrent.CancellationException} after {@link #cancel()} (finished points stay in the plan's
 * partial-results file, so a later run resumes from them).
 */
public final class LandscapeJob {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final LandscapePlan plan;
    private final CompletableFuture<LandscapeResult> result = new CompletableFuture<>();
    private final AtomicInteger done = new AtomicInteger();
    private volatile boolean cancelled;

    private LandscapeJob(LandscapePlan plan) {
        this.plan = plan;
    }

    static LandscapeJob start(LandscapePlan plan, ActorSystem<?> system) {
        LandscapeJob job = new LandscapeJob(plan);
        Thread.ofPlatform().daemon(true).name("descent-landscape-" + IDS.incrementAndGet()).start(() -> {
            try {
                job.result.complete(Landscapes.run(plan, () -> job.cancelled, (d, t, last) -> job.done.set(d),
                        system));
            } catch (Throwable e) {
                job.result.completeExceptionally(e);
            }
        });
        return job;
    }

    public LandscapePlan plan() {
        return plan;
    }

    /** Points finished so far (resumed ones included). */
    public int pointsDone() {
        return done.get();
    }

    /** Points of the plan. */
    public int points() {
        return plan.points();
    }

    /** True once the result stage has completed, in any way. */
    public boolean isDone() {
        return result.isDone();
    }

    /** Completes when the run has ended (see the class comment). */
    public CompletionStage<LandscapeResult> result() {
        return result.minimalCompletionStage();
    }

    /** Waits for the result; rethrows the run's failure (unchecked ones as they are). */
    public LandscapeResult await() throws InterruptedException {
        return Futures.await(result, "landscape");
    }

    /** Stops the run after the points in flight (no effect once it ended). */
    public void cancel() {
        cancelled = true;
    }

    @Override
    public String toString() {
        return "LandscapeJob[" + plan + ", " + done.get() + "/" + plan.points() + (isDone() ? ", done" : "") + "]";
    }
}
