package dev.descent.sdk;

/**
 * A job stopped because its loss became NaN or infinite. The step's update was not applied; the model file (if the
 * plan saves one) holds the parameters of the last epoch that finished.
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

    /** The 0-based optimizer step whose loss was not finite. */
    public long step() {
        return step;
    }

    /** The 0-based epoch of that step. */
    public int epoch() {
        return epoch;
    }

    /** The non-finite loss (NaN or an infinity). */
    public double loss() {
        return loss;
    }
}
