package dev.descent.engine.kernel;

/**
 * Lets the synchronous workers of one job lend their core to each other's matrix products at the end of a step.
 *
 * <p>A sync step waits for its slowest worker: the workers' passes are equal work, but on a shared machine one of
 * them often ends 1-3 ms after the other (a 17 ms pass of the width-1024 MLP on 2 cores). A worker that has sent
 * its gradient calls {@link Group#helpOthers} and, while another worker of the job is still in its pass, takes
 * parts of that worker's current product: the product is published in units (a block of rows of C by a strip of
 * its columns, see the SIMD GEMM) that either thread claims through one atomic counter. Each unit computes whole
 * tiles of C with the same packed operands, the same kernel and the same depth order whoever runs it, so the
 * bits of a run do not depend on who helped (tested against products and runs without sharing).
 *
 * <p>Only products a worker runs on its own thread are shared (a worker with {@code threads > 1} splits its
 * products over the kernel pool instead). Sharing is on for sync jobs of several in-process workers of one thread
 * each, no more of them than cores ({@code JobSpec.shareProducts}; the system property {@code descent.share=false}
 * makes off the default, for comparisons).
 */
public final class ProductSharing {
    /** The default of {@code JobSpec.shareProducts} ({@code -Ddescent.share=false}: off). */
    public static final boolean ENABLED = !"false".equals(System.getProperty("descent.share"));

    /**
     * A helper that found nothing to take for this long stops waiting: a worker between two products finds the next
     * one within microseconds; one stopped for long (a fault injected before its pass, a slow loader) must not keep
     * the helper's dispatcher thread spinning.
     */
    private static final long IDLE_LIMIT_NANOS = 2_000_000L;

    private static final ThreadLocal<Slot> CURRENT = new ThreadLocal<>();

    private ProductSharing() {
    }

    /** Work a thread publishes so that other threads may take parts of it. */
    public interface Shareable {
        /** Claims and runs parts until none is left; the number of parts this call ran. */
        int help();
    }

    /** One per worker: whether it is in a pass, and the product it publishes. */
    public static final class Slot {
        private volatile boolean inPass;
        private volatile Shareable work;
        private long helped; // parts of others' products this worker ran (its own thread only)

        /** Publishes (or, with null, withdraws) the product this slot's thread is running. */
        public void publish(Shareable w) {
            work = w;
        }

        /** Parts of the other workers' products this worker has run so far. */
        public long helped() {
            return helped;
        }
    }

    /** The workers of one job. */
    public static final class Group {
        private final Slot[] slots;

        public Group(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be >= 1, was " + workers);
            }
            slots = new Slot[workers];
            for (int i = 0; i < workers; i++) {
                slots[i] = new Slot();
            }
        }

        public Slot slot(int worker) {
            return slots[worker];
        }

        /**
         * On worker {@code self}'s thread once its own pass is done: runs parts of the other workers' products while
         * any of them is in its pass; returns when none is (or when nothing could be taken for 2 ms). The number of
         * parts it ran.
         */
        public int helpOthers(int self) {
            int ran = 0;
            long idleSince = 0;
            while (true) {
                boolean busy = false;
                int did = 0;
                for (int w = 0; w < slots.length; w++) {
                    Slot o = slots[w];
                    if (w != self && o.inPass) {
                        busy = true;
                        Shareable x = o.work;
                        if (x != null) {
                            did += x.help();
                        }
                    }
                }
                if (!busy) {
                    break;
                }
                if (did > 0) {
                    ran += did;
                    idleSince = 0;
                } else {
                    long now = System.nanoTime();
                    if (idleSince == 0) {
                        idleSince = now;
                    } else if (now - idleSince > IDLE_LIMIT_NANOS) {
                        break;
                    }
                    Thread.yield(); // not a spin: on a busy machine the worker waited for may need this core
                }
            }
            slots[self].helped += ran;
            return ran;
        }
    }

    /** The calling thread runs a pass as {@code slot}'s worker: its products may be shared until {@link #exit}. */
    public static void enter(Slot slot) {
        CURRENT.set(slot);
        slot.inPass = true;
    }

    /** The calling thread's pass is over. */
    public static void exit(Slot slot) {
        slot.inPass = false;
        slot.work = null;
        CURRENT.set(null);
    }

    /** The slot of the pass the calling thread is running, or null. */
    public static Slot current() {
        return CURRENT.get();
    }
}
