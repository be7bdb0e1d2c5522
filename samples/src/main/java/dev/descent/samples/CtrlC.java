package dev.descent.samples;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.sdk.TrainingJob;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What Ctrl-C (SIGINT, or SIGTERM) does to a training run: the job writes a checkpoint at the next step boundary
 * when it has a checkpoint folder, then stops; the command says what was kept and where; the JVM exits with 130
 * (128 + SIGINT) as shells expect. Installed as a JVM shutdown hook for the duration of one job.
 */
public final class CtrlC implements AutoCloseable {
    private static final long CHECKPOINT_WAIT_MS = 30_000;
    private static final long STOP_WAIT_MS = 30_000;

    private final Thread hook;
    private volatile boolean requested;

    private CtrlC(TrainingJob job, boolean checkpoints, Path out) {
        CountDownLatch checkpointed = new CountDownLatch(1);
        if (checkpoints) {
            job.addListener(e -> {
                if (requested && e instanceof TrainingEvent.CheckpointWritten) {
                    checkpointed.countDown();
                }
            });
        }
        this.hook = new Thread(() -> {
            if (job.state().isFinal()) {
                return;
            }
            requested = true;
            long step = job.progress().step();
            System.err.printf("%ndescent: interrupted at step %d; %s%n", step,
                    checkpoints ? "writing a checkpoint at the end of the current step..." : "stopping after the current step...");
            try {
                if (checkpoints) {
                    job.checkpointNow();
                    checkpointed.await(CHECKPOINT_WAIT_MS, TimeUnit.MILLISECONDS);
                }
                job.cancel();
                job.result().toCompletableFuture().handle((r, t) -> null).get(STOP_WAIT_MS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                System.err.println("descent: the job did not stop in time: " + e);
            }
            System.err.printf("descent: stopped at step %d of %d. Kept in %s: metrics.csv and training-curves.png "
                            + "(completed epochs)%s%n", job.progress().step(), job.progress().totalSteps(), out,
                    checkpoints ? ", checkpoints/ (continue with --resume " + out + ")" : " (no checkpoints: "
                            + "pass --checkpoint-every N to make a run resumable)");
        }, "descent-ctrl-c");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Watches {@code job} until {@link #close()}; {@code checkpoints} says whether the job can write one. */
    public static CtrlC watch(TrainingJob job, boolean checkpoints, Path out) {
        return new CtrlC(job, checkpoints, out);
    }

    /** True once an interrupt has begun stopping the job (its failure is then not an error to report). */
    public boolean requested() {
        return requested;
    }

    /**
     * Called by the command's thread when the job ended because of the interrupt: the shutdown hook owns the
     * rest (its report, then the JVM's exit with 130), so this thread waits for the JVM to halt.
     */
    public void yieldToShutdown() throws InterruptedException {
        hook.join();
        Thread.sleep(Long.MAX_VALUE);
    }

    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is already exiting: the hook runs and reports
        }
    }
}
