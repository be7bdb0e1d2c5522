package dev.descent.sdk;

import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.train.TrainingStep;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the exact kernels of a plan's model while its datasets load. Vector API code runs far below speed until C2
 * has compiled it, and on two cores C2 compiles one method at a time: the first epoch of the default MLP ran ~5x
 * slower than the next (21k against 117k examples/s on a Zen 5 core). Loading Fashion-MNIST takes about a second on
 * the calling thread, so a daemon thread meanwhile trains a private copy of the model (same architecture, loss,
 * optimizer, backprop strategy and batch size; random inputs and labels) and C2 compiles what the real run will call.
 * {@link #close()} stops it and waits for its current step before training starts, so the run never shares a core
 * with it; the job's model, data and random streams are never touched, so results are unchanged bit for bit.
 * {@code -Ddescent.warmup=false} turns it off.
 */
final class KernelWarmup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KernelWarmup.class);
    /** An upper bound: the warm-up normally ends when the datasets are open. */
    private static final int MAX_STEPS = 3000;

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong steps = new AtomicLong();
    private final Thread thread;

    private KernelWarmup(TrainingPlan plan, boolean computesHere) {
        thread = computesHere && enabled() ? Thread.ofPlatform().daemon().name("descent-kernel-warmup").unstarted(() -> run(plan))
                : null;
    }

    /**
     * Starts warming {@code plan}'s kernels unless warm-up is off or the steps run elsewhere ({@code computesHere}
     * false: a cluster job's submitter); close it before training starts.
     */
    static KernelWarmup start(TrainingPlan plan, boolean computesHere) {
        KernelWarmup w = new KernelWarmup(plan, computesHere);
        if (w.thread != null) {
            w.thread.start();
        }
        return w;
    }

    static boolean enabled() {
        return !"false".equalsIgnoreCase(System.getProperty("descent.warmup", "true"));
    }

    /** Steps the warm-up ran (0 when off or when the datasets were open before its first step ended). */
    long steps() {
        return steps.get();
    }

    private void run(TrainingPlan plan) {
        int batch = Math.max(1, plan.batchSize);
        try (Model model = plan.model.instantiate();
             TrainingStep step = new TrainingStep(model, Kernels.backend(), plan.loss.engine(),
                     plan.optimizer.engine(), LrSchedule.constant(1e-6), plan.backprop.engine(), batch, 0, 1,
                     plan.seed, plan.microBatch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * model.inputSize(), Purpose.WORKSPACE);
             OffHeapBlock y = OffHeapBlock.allocate((long) batch * Integer.BYTES, Purpose.WORKSPACE)) {
            SplittableRandom random = new SplittableRandom(plan.seed);
            MemorySegment xs = x.segment();
            for (long i = 0; i < (long) batch * model.inputSize(); i++) {
                xs.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble());
            }
            for (int i = 0; i < batch; i++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, i, random.nextInt(model.outputSize()));
            }
            while (!stop.get() && steps.get() < MAX_STEPS) {
                step.run(xs, 0, y.segment(), 0, batch, 0);
                steps.incrementAndGet();
            }
        } catch (RuntimeException | Error e) { // a warm-up never fails a run: the real step reports real problems
            LOG.debug("kernel warm-up stopped: {}", e.toString());
        }
    }

    @Override
    public void close() {
        stop.set(true);
        if (thread == null) {
            return;
        }
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOG.debug("kernel warm-up: {} step(s)", steps.get());
    }
}
