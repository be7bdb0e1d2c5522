package dev.descent.engine.actor;

/**
 * The barrier state machine of a job, without the actors: while the updater is paused, which pieces of barrier work
 * are out (test evaluation, keeping the model and its files, a checkpoint capture) and what comes next. The
 * {@link JobSupervisor} sends the work and reports the answers here, then asks {@link #next}: wait, capture a
 * checkpoint (at most once per barrier, when one is due or was requested), resume the updater, or finish the job
 * (only once every checkpoint write has been answered, so the last checkpoint's event comes before the end). Answers
 * that arrive outside a barrier (the start point's file, an earlier checkpoint's write) only update the counts.
 */
final class BarrierSequence {

    /** What the supervisor does next. */
    enum Next {
        /** Some work is still out (or no barrier is in progress). */
        WAIT,
        /** Capture a checkpoint now (already counted as out: answer with {@link #captured} and {@link #written}). */
        CHECKPOINT,
        /** The barrier is over: let the updater go on. */
        RESUME,
        /** The barrier after the last step is over: the job is done. */
        FINISH
    }

    private final long endStep;
    private final long checkpointEvery;
    private final boolean checkpoints;
    private boolean inBarrier;
    private boolean pendingEval;
    private int pendingKeeps;
    private boolean pendingCapture;
    private boolean checkpointCaptured;
    private boolean checkpointRequested;
    private int pendingWrites;

    /**
     * A job that ends after {@code endStep} steps, with a checkpoint every {@code checkpointEvery} steps (0 = none
     * due) if {@code checkpoints} (a checkpoint folder exists).
     */
    BarrierSequence(long endStep, long checkpointEvery, boolean checkpoints) {
        this.endStep = endStep;
        this.checkpointEvery = checkpointEvery;
        this.checkpoints = checkpoints;
    }

    /** The updater paused. */
    void begin() {
        inBarrier = true;
    }

    boolean inBarrier() {
        return inBarrier;
    }

    /** A test evaluation was sent. */
    void evaluationSent() {
        pendingEval = true;
    }

    /** The evaluation answered; false if none was out (a late or repeated answer, to ignore). */
    boolean evaluated() {
        boolean was = pendingEval;
        pendingEval = false;
        return was;
    }

    /** The model keeper was asked to keep the model or write a file. */
    void keepSent() {
        pendingKeeps++;
    }

    /** The model keeper answered one request. */
    void kept() {
        pendingKeeps--;
    }

    /** Capture a checkpoint at the next barrier, due or not; false (ignored) without a checkpoint folder. */
    boolean requestCheckpoint() {
        if (checkpoints) {
            checkpointRequested = true;
        }
        return checkpoints;
    }

    /** The checkpoint's state is copied; training may change the model again. */
    void captured() {
        pendingCapture = false;
    }

    /** A checkpoint write was answered (written or failed). */
    void written() {
        pendingWrites--;
    }

    /** What to do now that {@code applied} steps are done. */
    Next next(long applied) {
        if (!inBarrier || pendingEval || pendingKeeps > 0 || pendingCapture) {
            return Next.WAIT;
        }
        boolean due = checkpointEvery > 0 && applied % checkpointEvery == 0;
        if (checkpoints && (due || checkpointRequested) && !checkpointCaptured) {
            checkpointRequested = false;
            checkpointCaptured = true;
            pendingCapture = true;
            pendingWrites++;
            return Next.CHECKPOINT;
        }
        if (applied >= endStep && pendingWrites > 0) {
            return Next.WAIT; // the last checkpoint is still being written: its event comes before the end
        }
        checkpointCaptured = false;
        inBarrier = false;
        return applied >= endStep ? Next.FINISH : Next.RESUME;
    }
}
