package dev.descent.engine.actor;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Test hook: the bytes the current thread allocated inside the per-step handler bodies of the job actors, per
 * handler, measured with {@link ThreadMXBean#getCurrentThreadAllocatedBytes()}. Off unless the JVM starts with
 * {@code -Ddescent.test.handlerProbe=true}; {@link #ENABLED} is a {@code static final} constant, so the JIT
 * removes the guarded calls from the handlers when it is off.
 *
 * <p>Recording itself allocates nothing (atomic adds into fixed arrays), so what it reports is the handlers' own
 * allocation: the messages they send (records by design) and anything else, which the per-step allocation test
 * requires to be nothing. Besides the totals it keeps, per handler, the running total after each of the first
 * {@link #HISTORY} calls since {@link #reset()}, so a test can cut windows of steps out of one handler's calls
 * (actors run ahead of each other, so one clock for all of them would mix steps).
 */
final class HandlerProbe {
    static final String ENABLED_PROP_NAME = "descent.test.handlerProbe";
    static final boolean ENABLED = Boolean.getBoolean(ENABLED_PROP_NAME);

    /** The per-step handlers that are measured. */
    enum Handler {
        LOADER_PULL, LOADER_RELEASE, WORKER_BATCH, WORKER_PROCEED, WORKER_RECOMPUTE, AGGREGATOR_GRADIENT,
        AGGREGATOR_RESUME, SERVER_GRADIENT, SUPERVISOR_STEP
    }

    private static final ThreadMXBean MX = ENABLED ? (ThreadMXBean) ManagementFactory.getThreadMXBean() : null;
    private static final int HANDLERS = Handler.values().length;
    private static final AtomicLongArray BYTES = new AtomicLongArray(HANDLERS);
    private static final AtomicLongArray CALLS = new AtomicLongArray(HANDLERS);
    static final int HISTORY = ENABLED ? 1 << 16 : 0;
    private static final long[][] RUNNING = new long[HANDLERS][HISTORY]; // [handler][call] bytes after the call

    private HandlerProbe() {
    }

    /** Allocated bytes of the current thread so far; pass to {@link #end}. Call only when {@link #ENABLED}. */
    static long begin() {
        return MX.getCurrentThreadAllocatedBytes();
    }

    /** Adds what the current thread allocated since {@code begin} to {@code handler}. */
    static void end(Handler handler, long begin) {
        long bytes = MX.getCurrentThreadAllocatedBytes() - begin;
        long running = BYTES.addAndGet(handler.ordinal(), bytes);
        long call = CALLS.getAndIncrement(handler.ordinal());
        if (call < HISTORY) {
            RUNNING[handler.ordinal()][(int) call] = running;
        }
    }

    /** Zeroes the totals and the history; call only while no job runs. */
    static void reset() {
        for (int i = 0; i < HANDLERS; i++) {
            BYTES.set(i, 0);
            CALLS.set(i, 0);
        }
    }

    /** Bytes allocated inside {@code handler} bodies in its calls {@code 0..call} since {@link #reset()}. */
    static long runningBytes(Handler handler, int call) {
        return RUNNING[handler.ordinal()][call];
    }

    /** Bytes allocated inside {@code handler} bodies since {@link #reset()}. */
    static long bytes(Handler handler) {
        return BYTES.get(handler.ordinal());
    }

    /** Completed calls of {@code handler} since {@link #reset()}. */
    static long calls(Handler handler) {
        return CALLS.get(handler.ordinal());
    }
}
