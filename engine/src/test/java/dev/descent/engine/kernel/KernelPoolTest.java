package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class KernelPoolTest {
    /** Sums a fixed array in parts; a reusable, non-capturing task (as the kernels hold theirs). */
    private static final class SumTask implements KernelPool.Task {
        final long[] data = new long[4096];
        final long[] partial = new long[64];

        SumTask() {
            for (int i = 0; i < data.length; i++) {
                data[i] = i;
            }
        }

        @Override
        public void run(int part, int parts) {
            int from = (int) ((long) data.length * part / parts);
            int to = (int) ((long) data.length * (part + 1) / parts);
            long s = 0;
            for (int i = from; i < to; i++) {
                s += data[i];
            }
            partial[part] = s;
        }

        long total(int parts) {
            long s = 0;
            for (int p = 0; p < parts; p++) {
                s += partial[p];
            }
            return s;
        }
    }

    private static final long EXPECTED = 4096L * 4095 / 2;

    @Test
    void shouldRunEveryPartExactlyOnceEvenWithMorePartsThanThreads() {
        try (KernelPool pool = new KernelPool(3, "kp-once-")) {
            for (int parts : new int[] {1, 2, 3, 4, 9, 17}) {
                AtomicIntegerArray runs = new AtomicIntegerArray(parts);
                for (int rep = 0; rep < 200; rep++) {
                    pool.run(parts, (p, n) -> {
                        assertThat(n).isEqualTo(parts);
                        runs.incrementAndGet(p);
                    });
                }
                for (int p = 0; p < parts; p++) {
                    assertThat(runs.get(p)).as("part %d of %d", p, parts).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void shouldRethrowAPartsExceptionOnlyAfterEveryPartFinishedAndStayUsable() {
        try (KernelPool pool = new KernelPool(4, "kp-fail-")) {
            IllegalArgumentException boom = new IllegalArgumentException("part 2 failed");
            AtomicBoolean slowPartDone = new AtomicBoolean();
            assertThatThrownBy(() -> pool.run(4, (p, n) -> {
                if (p == 2) {
                    throw boom;
                }
                if (p == 3) {
                    sleep(50);
                    slowPartDone.set(true);
                }
            })).isSameAs(boom);
            assertThat(slowPartDone).isTrue();
            // the caller's own part failing wins, a checked exception is wrapped and named
            AssertionError own = new AssertionError("part 0");
            assertThatThrownBy(() -> pool.run(3, (p, n) -> {
                if (p == 0) {
                    throw own;
                }
                throw new IllegalStateException("part " + p);
            })).isSameAs(own);
            assertThatThrownBy(() -> pool.run(2, (p, n) -> {
                if (p == 1) {
                    throw sneaky(new java.io.IOException("disk"));
                }
            })).isInstanceOf(IllegalStateException.class).hasMessageContaining("disk");
            SumTask sum = new SumTask();
            pool.run(4, sum);
            assertThat(sum.total(4)).isEqualTo(EXPECTED);
        }
    }

    @Test
    void shouldServeConcurrentAndNestedCallersWithoutMixingThemUp() throws Exception {
        try (KernelPool pool = new KernelPool(3, "kp-conc-")) {
            int callers = 4;
            CountDownLatch start = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> ts = new ArrayList<>();
            for (int c = 0; c < callers; c++) {
                Thread t = new Thread(() -> {
                    SumTask sum = new SumTask();
                    try {
                        start.await();
                        for (int rep = 0; rep < 500; rep++) {
                            int parts = 2 + rep % 5;
                            pool.run(parts, sum);
                            if (sum.total(parts) != EXPECTED) {
                                throw new AssertionError("sum " + sum.total(parts) + " with " + parts + " parts");
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                ts.add(t);
                t.start();
            }
            start.countDown();
            for (Thread t : ts) {
                t.join(60_000);
                assertThat(t.isAlive()).as("a caller hung").isFalse();
            }
            assertThat(failure.get()).isNull();
            // a part that itself runs a parallel kernel
            SumTask inner = new SumTask();
            long[] totals = new long[3];
            pool.run(3, (p, n) -> {
                SumTask own = p == 0 ? inner : new SumTask();
                pool.run(3, own);
                totals[p] = own.total(3);
            });
            assertThat(totals).containsOnly(EXPECTED);
        }
    }

    @Test
    void shouldRunEverythingOnTheCallerAfterClose() {
        KernelPool pool = new KernelPool(3, "kp-closed-");
        pool.close();
        pool.close();
        assertThat(pool.isClosed()).isTrue();
        Thread me = Thread.currentThread();
        ConcurrentHashMap<Integer, Thread> ran = new ConcurrentHashMap<>();
        pool.run(5, (p, n) -> ran.put(p, Thread.currentThread()));
        assertThat(ran).hasSize(5);
        assertThat(ran.values()).containsOnly(me);
    }

    /**
     * Allocation of {@code run} per call, measured with ThreadMXBean on the calling thread and on every pool thread:
     * the best of several windows of calls after a warm-up. The old implementation (a CountDownLatch, an array and a
     * capturing lambda plus an executor queue node per part) allocated well over 100 bytes per call; a window of
     * 5,000 calls must now allocate under 1 byte per call in total.
     */
    @Test
    void shouldNotAllocatePerCall() {
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(mx.isThreadAllocatedMemorySupported()).isTrue();
        mx.setThreadAllocatedMemoryEnabled(true);
        try (KernelPool pool = new KernelPool(3, "kp-alloc-")) {
            SumTask sum = new SumTask();
            long[] ids = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("kp-alloc-")).mapToLong(Thread::threadId).toArray();
            assertThat(ids).hasSize(3);
            int calls = 5_000;
            for (int i = 0; i < 4 * calls; i++) {
                pool.run(3, sum);
            }
            long best = Long.MAX_VALUE;
            for (int window = 0; window < 6; window++) {
                long before = allocated(mx, ids);
                for (int i = 0; i < calls; i++) {
                    pool.run(3, sum);
                }
                long bytes = allocated(mx, ids) - before;
                best = Math.min(best, bytes);
            }
            assertThat(sum.total(3)).isEqualTo(EXPECTED);
            assertThat(best).as("bytes allocated by %d calls (caller + pool threads), best window", calls)
                    .isLessThan(calls);
        }
    }

    private static long allocated(com.sun.management.ThreadMXBean mx, long[] ids) {
        long sum = mx.getCurrentThreadAllocatedBytes();
        for (long id : ids) {
            sum += mx.getThreadAllocatedBytes(id);
        }
        return sum;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
        throw (T) t;
    }
}
