package dev.descent.engine.train;

/**
 * The loss became NaN or infinite, or grew explosively (see {@link DivergenceGuard}). The message counts steps and
 * epochs from 1, the accessors from 0. Thrown before the bad step's update is applied; the trainer restores the
 * parameters it saved at the start of the epoch (see {@link #restoredEpoch()}).
 */
public final class NonFiniteLossException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final long step;
    private final int epoch;
    private final double loss;
    private final int restoredEpoch;
    private final String hint;

    public NonFiniteLossException(long step, int epoch, double loss, int restoredEpoch, String hint) {
        super("loss is " + loss + " at step " + (step + 1) + " (epoch " + (epoch + 1) + "); " + hint
                + (restoredEpoch >= 0 ? "; parameters restored to the start of epoch " + (restoredEpoch + 1) : ""));
        this.step = step;
        this.epoch = epoch;
        this.loss = loss;
        this.restoredEpoch = restoredEpoch;
        this.hint = hint;
    }

    /** The 0-based optimizer step whose loss was not finite. */
    public long step() {
        return step;
    }

    public int epoch() {
        return epoch;
    }

    public double loss() {
        return loss;
    }

    /** What to try instead. */
    public String hint() {
        return hint;
    }

    /** Epoch whose starting parameters the model now holds, or -1 if nothing was restored. */
    public int restoredEpoch() {
        return restoredEpoch;
    }
}
