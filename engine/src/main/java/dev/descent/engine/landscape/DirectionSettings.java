package dev.descent.engine.landscape;

/**
 * How random directions are drawn: everything needed to recompute them exactly.
 *
 * @param seed          direction k is drawn from the k-th split of {@code SplittableRandom(seed)}
 * @param norm          filter, layer or no normalization
 * @param ignoreBiases  true: bias and normalization-layer tensors (1-D "bias-like" tensors) are zero in the
 *                      direction, so only weights move; false: they are kept (see {@link Directions#normalize})
 * @param orthogonalize true: the second direction is made orthogonal to the first (Gram-Schmidt, then rescaled to
 *                      its former norm)
 */
public record DirectionSettings(long seed, NormType norm, boolean ignoreBiases, boolean orthogonalize) {
    public DirectionSettings {
        if (norm == null) {
            throw new IllegalArgumentException("direction normalization must not be null");
        }
    }

    /** Li et al.'s defaults: filter normalization, biases and BatchNorm parameters ignored. */
    public static DirectionSettings defaults(long seed) {
        return new DirectionSettings(seed, NormType.FILTER, true, false);
    }
}
