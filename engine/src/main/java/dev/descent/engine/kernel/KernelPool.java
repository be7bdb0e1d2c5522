package dev.descent.engine.kernel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon threads, sized once to the cores, that multi-threaded kernels split their work over. No
 * thread is created per call, and {@link #run} allocates nothing: each calling thread reuses one {@code Batch}
 * (task, countdown, first failure), pool threads are handed their part through a field and woken with
 * {@link LockSupport#unpark}, and the caller parks until the countdown reaches zero.
 *
 * <p>The calling thread always runs part 0 itself. Parts for which no pool thread is idle (several kernels running
 * at once, or a pool smaller than {@code parts}) also run on the caller, so a call never waits for a thread and
 * never deadlocks, even when a part itself calls {@code run}. After {@link #close()} every part runs on the caller.
 */
public final class KernelPool implements AutoCloseable {
    /** A part of a parallel kernel: runs slice {@code part} of {@code parts}. */
    @FunctionalInterface
    public interface Task {
        void run(int part, int parts);
    }

    /** Spins before parking while waiting for the pool threads (a GEMM part takes far longer than this). */
    private static final int SPINS = 200;

    private final int size;
    private final PoolThread[] threads;
    /** Idle pool threads (a stack), guarded by {@code this}. */
    private final PoolThread[] idle;
    private int idleCount;
    private volatile boolean closed;
    private final ThreadLocal<Batch> batches = ThreadLocal.withInitial(Batch::new);

    KernelPool(int size) {
        this(size, "descent-kernel-");
    }

    /** A pool whose threads are named {@code namePrefix + 1..size}. */
    KernelPool(int size, String namePrefix) {
        this.size = size;
        int n = Math.max(1, size);
        this.threads = new PoolThread[n];
        this.idle = new PoolThread[n];
        for (int i = 0; i < n; i++) {
            threads[i] = new PoolThread(this, namePrefix + (i + 1));
            idle[idleCount++] = threads[i];
        }
        for (PoolThread t : threads) {
            t.start();
        }
    }

    /** Number of threads a kernel may use at most (the cores). */
    public int size() {
        return size;
    }

    /**
     * Runs {@code task} as {@code parts} slices, part 0 on the caller, and waits for all of them. Exceptions from any
     * part are rethrown on the caller (the caller's own first, else the first a pool thread saw; checked ones wrapped
     * in an IllegalStateException) once every part has finished, so no part still runs when this returns or throws.
     * The wait is not interruptible: an interrupt is kept (the flag stays set) and the call returns normally.
     */
    public void run(int parts, Task task) {
        // Kept tiny so that it inlines into every kernel: a one-part call then lets the JIT scalar-replace a task
        // (e.g. a capturing lambda) that a caller creates per call.
        if (parts <= 1) {
            task.run(0, 1);
            return;
        }
        runParallel(parts, task);
    }

    private void runParallel(int parts, Task task) {
        Batch b = batches.get();
        if (b.busy) {
            b = new Batch(); // a part of this thread's batch calls run again: rare, and it must not share the batch
        }
        b.busy = true;
        try {
            int handed = handOut(b, parts, task);
            Throwable own = null;
            try {
                task.run(0, parts);
                for (int p = handed + 1; p < parts; p++) {
                    task.run(p, parts);
                }
            } catch (Throwable t) {
                own = t;
            } finally {
                b.await();
            }
            Throwable failure = own != null ? own : b.failure.get();
            if (failure != null) {
                rethrow(failure);
            }
        } finally {
            b.task = null;
            b.failure.set(null);
            b.busy = false;
        }
    }

    /** Hands parts 1..k to k idle pool threads (k as many as are idle, up to parts - 1); returns k. */
    private int handOut(Batch b, int parts, Task task) {
        b.task = task;
        b.parts = parts;
        b.owner = Thread.currentThread();
        int k;
        synchronized (this) {
            k = closed ? 0 : Math.min(parts - 1, idleCount);
            b.remaining.set(k);
            for (int p = 1; p <= k; p++) {
                PoolThread t = idle[--idleCount];
                idle[idleCount] = null;
                t.part = p;
                t.batch = b; // volatile write: publishes the part and the batch's fields
                LockSupport.unpark(t);
            }
        }
        return k;
    }

    private synchronized void release(PoolThread t) {
        idle[idleCount++] = t;
    }

    private static void rethrow(Throwable t) {
        if (t instanceof RuntimeException re) {
            throw re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("a kernel part failed: " + t, t);
    }

    /**
     * Stops the pool threads once they finish the parts they hold; runs after this execute every part on the
     * calling thread. Idempotent.
     */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        for (PoolThread t : threads) {
            LockSupport.unpark(t);
        }
    }

    /** True once {@link #close()} was called. */
    public boolean isClosed() {
        return closed;
    }

    /** One call's shared state, reused by its calling thread from call to call. */
    private static final class Batch {
        final AtomicInteger remaining = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile Task task;
        volatile int parts;
        volatile Thread owner;
        boolean busy;

        void fail(Throwable t) {
            failure.compareAndSet(null, t);
        }

        void done() {
            if (remaining.decrementAndGet() == 0) {
                LockSupport.unpark(owner);
            }
        }

        /** Waits (uninterruptibly) until every handed-out part has finished. */
        void await() {
            for (int i = 0; i < SPINS && remaining.get() > 0; i++) {
                Thread.onSpinWait();
            }
            boolean interrupted = false;
            while (remaining.get() > 0) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** A pool thread: parks until a part is handed to it, runs it, goes back to the idle stack. */
    private static final class PoolThread extends Thread {
        private final KernelPool pool;
        volatile Batch batch;
        int part;

        PoolThread(KernelPool pool, String name) {
            super(name);
            this.pool = pool;
            setDaemon(true);
        }

        @Override
        public void run() {
            while (true) {
                Batch b = batch;
                if (b == null) {
                    if (pool.closed) {
                        return;
                    }
                    LockSupport.park(this);
                    continue;
                }
                try {
                    b.task.run(part, b.parts);
                } catch (Throwable t) {
                    b.fail(t);
                }
                batch = null;
                pool.release(this);
                b.done();
            }
        }
    }
}
