package dev.descent.engine.train;

/**
 * The simple gradient noise scale B_simple = tr(Σ) / ‖G‖² of McCandlish et al. 2018 ("An Empirical Model of
 * Large-Batch Training", appendix A.1), estimated during training from gradients the step computes anyway: the
 * K ≥ 2 parts of one batch of B rows (per-worker shards and/or micro-batches of b_k rows, gradients g_k) and the
 * batch gradient g_B = Σ_k (b_k/B) g_k.
 *
 * <p>With S_small = Σ_k (b_k/B)‖g_k‖² and S_big = ‖g_B‖², E[‖g_k‖²] = ‖G‖² + tr(Σ)/b_k gives
 * E[S_small] = ‖G‖² + K·tr(Σ)/B and E[S_big] = ‖G‖² + tr(Σ)/B, hence the unbiased estimates
 * <pre>
 *   tr(Σ) ≈ B (S_small − S_big) / (K − 1)        ‖G‖² ≈ (K·S_big − S_small) / (K − 1)
 * </pre>
 * (the paper's two-batch-size formulas when all parts have B/K rows). Each is noisy, so, as the paper does, each
 * is smoothed by an exponential moving average before dividing. Plain numbers; allocation-free.
 */
public final class GradientNoiseScale {
    /** Smoothing of the two moving averages per measurement (the paper leaves it open; 0.9 ≈ the last 10). */
    public static final double DECAY_DEFAULT = 0.9;

    private final double decay;
    private double trace;
    private double squaredNorm;
    private double weight; // 1 − decay^n: bias correction of the zero-started averages
    private long measurements;

    public GradientNoiseScale() {
        this(DECAY_DEFAULT);
    }

    /** @param decay weight of the old average per measurement, in [0, 1) */
    public GradientNoiseScale(double decay) {
        if (!(decay >= 0 && decay < 1)) {
            throw new IllegalArgumentException("noise scale decay must be in [0, 1), was " + decay);
        }
        this.decay = decay;
    }

    /**
     * Adds one step's measurement.
     *
     * @param unitSquares Σ_k b_k·‖g_k‖² over the K parts (absolute, not yet divided by B)
     * @param units       K, the number of parts (at least 2 for an estimate; fewer is ignored)
     * @param batchSquares ‖g_B‖², the squared norm of the batch gradient (before clipping)
     * @param batch       B, rows of the batch
     * @return true when the measurement was used
     */
    public boolean add(double unitSquares, int units, double batchSquares, int batch) {
        if (units < 2 || batch < 2 || !Double.isFinite(unitSquares) || !Double.isFinite(batchSquares)) {
            return false;
        }
        double small = unitSquares / batch;
        double tr = batch * (small - batchSquares) / (units - 1);
        double g2 = (units * batchSquares - small) / (units - 1);
        trace = decay * trace + (1 - decay) * tr;
        squaredNorm = decay * squaredNorm + (1 - decay) * g2;
        weight = decay * weight + (1 - decay);
        measurements++;
        return true;
    }

    /** B_simple, in examples: NaN before the first measurement or while the smoothed ‖G‖² is not positive. */
    public double value() {
        return measurements == 0 || !(squaredNorm > 0) ? Double.NaN : trace / squaredNorm;
    }

    /** Smoothed tr(Σ), the trace of the per-example gradient covariance. */
    public double trace() {
        return measurements == 0 ? Double.NaN : trace / weight;
    }

    /** Smoothed ‖G‖², the squared norm of the true gradient. */
    public double squaredNorm() {
        return measurements == 0 ? Double.NaN : squaredNorm / weight;
    }

    public long measurements() {
        return measurements;
    }
}
