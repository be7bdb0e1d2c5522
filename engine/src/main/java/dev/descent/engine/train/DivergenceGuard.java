package dev.descent.engine.train;

/**
 * Detects explosive loss growth that stays finite (a learning rate far too high drives a cross-entropy loss to
 * 1e20 and the model to chance long before it overflows): the loss of a step is explosive when it exceeds
 * {@link #FACTOR} times the mean loss of the first {@link #REFERENCE_STEPS} steps of this run (or of this
 * resumption). A loss that large has left every useful region: a diverged run, not noise. Allocation-free.
 */
public final class DivergenceGuard {
    /** How many times the starting loss counts as explosive. */
    public static final double FACTOR = 1e3;
    /** Steps whose mean loss is the reference. */
    public static final int REFERENCE_STEPS = 10;

    private double sum;
    private int count;

    /** Records {@code loss}; true when it is finite and explosive (non-finite losses are the caller's case). */
    public boolean explosive(double loss) {
        if (!Double.isFinite(loss)) {
            return false;
        }
        if (count < REFERENCE_STEPS) {
            sum += loss;
            count++;
            return false;
        }
        return loss > FACTOR * Math.max(reference(), 1e-6);
    }

    /** The mean loss of the first steps (NaN before the first). */
    public double reference() {
        return count == 0 ? Double.NaN : sum / count;
    }
}
