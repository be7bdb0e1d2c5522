package dev.descent.sdk.toy;

/**
 * A smooth function of a point, with its gradient: the base landscape of a {@link Objective#shifted shifted}
 * finite-sum objective. Implementations must be thread-safe and allocation-free if they want fast runs.
 */
@FunctionalInterface
public interface Surface {
    /**
     * The value at {@code x}; when {@code grad} is non-null, also writes the gradient into it (same length as x).
     */
    double value(double[] x, double[] grad);
}
