package dev.descent.sdk;

/**
 * A job stopped because its loss became NaN or infinite, or grew explosively: more than 1000 times the mean loss of
 * its first 10 steps (a learning rate far too high drives the loss to 1e20 and the model to chance long before it
 * overflows). The model (and its file, if the plan saves one) holds the parameters of the start of the epoch.
 */
public final class DivergedException extends DescentException {
    private static final long serialVersionUID = 1L;

    private final long step;
    private final int epoch;
    private final double loss;

    DivergedException(String message, long step, int epoch, double loss, Throwable cause) {
        super(message, cause);
        this.step = step;
        this.epoch = epoch;
        this.loss = loss;
    }

    /** The 0-based optimizer step whose loss stopped the job (the message counts from 1). */
    public long step() {
        return step;
    }

    /** The 0-based epoch of that step. */
    public int epoch() {
        return epoch;
    }

    /** The loss that stopped the job (NaN, an infinity, or an explosive finite value). */
    public double loss() {
        return loss;
    }
}
