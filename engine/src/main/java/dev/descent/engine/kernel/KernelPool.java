package dev.descent.engine.kernel;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed pool of daemon threads, sized once to the cores, that multi-threaded kernels split their work
 * over. No thread is created per call. The calling thread always runs part 0 itself, so a kernel asked for
 * T threads uses T-1 pool threads.
 */
public final class KernelPool {
    /** A part of a parallel kernel: runs slice {@code part} of {@code parts}. */
    @FunctionalInterface
    public interface Task {
        void run(int part, int parts);
    }

    private final ExecutorService executor;
    private final int size;

    KernelPool(int size) {
        this.size = size;
        AtomicInteger counter = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "descent-kernel-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        this.executor = Executors.newFixedThreadPool(Math.max(1, size), factory);
    }

    /** Number of threads a kernel may use at most (the cores). */
    public int size() {
        return size;
    }

    /**
     * Runs {@code task} as {@code parts} slices, part 0 on the caller, and waits for all. Exceptions from any
     * part are rethrown on the caller.
     */
    public void run(int parts, Task task) {
        if (parts <= 1) {
            task.run(0, 1);
            return;
        }
        CountDownLatch done = new CountDownLatch(parts - 1);
        Throwable[] failure = new Throwable[1];
        for (int p = 1; p < parts; p++) {
            final int part = p;
            executor.execute(() -> {
                try {
                    task.run(part, parts);
                } catch (Throwable t) {
                    synchronized (failure) {
                        failure[0] = t;
                    }
                } finally {
                    done.countDown();
                }
            });
        }
        try {
            task.run(0, parts);
        } finally {
            try {
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for kernel threads", e);
            }
        }
        synchronized (failure) {
            if (failure[0] instanceof RuntimeException re) {
                throw re;
            }
            if (failure[0] instanceof Error err) {
                throw err;
            }
            if (failure[0] != null) {
                throw new IllegalStateException(failure[0]);
            }
        }
    }
}
