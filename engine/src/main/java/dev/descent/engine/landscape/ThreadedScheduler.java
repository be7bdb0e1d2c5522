package dev.descent.engine.landscape;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * E evaluators on E platform threads, each created and closed on its own thread, pulling the next point from a
 * shared counter (so a slow point never stalls the others). With E = the number of cores and one GEMM thread per
 * evaluator, points are evaluated in parallel without any shared mutable state but the counter.
 */
public final class ThreadedScheduler implements PointScheduler {
    private final PointEvaluator.Factory factory;
    private final int evaluators;

    public ThreadedScheduler(PointEvaluator.Factory factory, int evaluators) {
        if (evaluators < 1) {
            throw new IllegalArgumentException("need at least one evaluator, was " + evaluators);
        }
        this.factory = factory;
        this.evaluators = evaluators;
    }

    @Override
    public int evaluators() {
        return evaluators;
    }

    @Override
    public void run(Projection projection, int[] pending, Consumer<PointResult> sink, BooleanSupplier cancelled) {
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Object sinkLock = new Object();
        int n = Math.min(evaluators, Math.max(1, pending.length));
        List<Thread> threads = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            int id = e;
            Thread t = Thread.ofPlatform().name("landscape-evaluator-" + e).unstarted(() -> {
                try (PointEvaluator ev = factory.create(id)) {
                    while (failure.get() == null && !cancelled.getAsBoolean()) {
                        int k = next.getAndIncrement();
                        if (k >= pending.length) {
                            break;
                        }
                        int index = pending[k];
                        PointResult r = ev.evaluate(index, projection.a(index), projection.b(index));
                        synchronized (sinkLock) {
                            sink.accept(r);
                        }
                    }
                } catch (Throwable t1) {
                    failure.compareAndSet(null, t1);
                }
            });
            threads.add(t);
        }
        threads.forEach(Thread::start);
        boolean interrupted = false;
        for (Thread t : threads) {
            while (true) {
                try {
                    t.join();
                    break;
                } catch (InterruptedException ie) {
                    interrupted = true;
                    failure.compareAndSet(null, ie);
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable f = failure.get();
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        if (f != null) {
            throw new IllegalStateException("landscape evaluation failed: " + f, f);
        }
    }
}
