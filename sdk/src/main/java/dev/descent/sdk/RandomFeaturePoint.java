package dev.descent.sdk;

/**
 * One solution of a {@link RandomFeatures#sweep random-feature sweep}: {@code features} random Fourier features,
 * {@code ridge} λ (0 for the minimum-norm least-squares solution). Squared losses are the mean over examples of
 * Σ_classes (f_c(x) - y_c)² against one-hot targets (the engine's MSE loss); errors are zero-one error rates;
 * {@code coefNorm} is the Frobenius (ℓ2) norm of the coefficients [features, classes]; {@code rank} the numerical
 * rank of the train feature matrix and {@code minSingular} its smallest singular value.
 */
public record RandomFeaturePoint(int features, double ridge, double trainMse, double testMse, double trainError,
                                 double testError, double coefNorm, int rank, double minSingular) {
    /** True for the minimum-norm (λ = 0) solution. */
    public boolean minNorm() {
        return ridge == 0;
    }
}
