package dev.descent.engine.actor;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * When the updater ({@link GradientAggregator} or {@link ParameterServer}) must pause for the {@link JobSupervisor}'s
 * barrier work: at every epoch end, at the last step, at every checkpoint step, and once after {@link #request()}.
 * Read by the updater's thread; {@link #request()} may come from any thread.
 */
final class Barriers {
    private final int perEpoch;
    private final long endStep;
    private final long checkpointEvery;
    private final AtomicBoolean requested = new AtomicBoolean();

    /** Steps per epoch, the step count at which the job ends, a checkpoint every N steps (0 = none). */
    Barriers(int perEpoch, long endStep, long checkpointEvery) {
        this.perEpoch = perEpoch;
        this.endStep = endStep;
        this.checkpointEvery = checkpointEvery;
    }

    /** Whether the updater pauses once {@code applied} steps are done (consumes a pending request). */
    boolean isBarrier(long applied) {
        return applied % perEpoch == 0 || applied >= endStep
                || (checkpointEvery > 0 && applied % checkpointEvery == 0)
                || (requested.get() && requested.getAndSet(false));
    }

    /** Makes the next step a barrier (an on-demand checkpoint). */
    void request() {
        requested.set(true);
    }
}
