package dev.descent.sdk;

/**
 * How sharp the minimum at a network is: the top Hessian eigenvalue (power iteration on Hessian-vector products:
 * exact, in double precision, for MLPs of Linear/activation/Flatten/Dropout layers; central finite differences of
 * float32 gradients for other models) and Keskar et al.'s epsilon-sharpness, on the first {@code examples}
 * training examples.
 *
 * @param loss                    the loss at the network on those examples
 * @param topHessianEigenvalue    estimate of the largest Hessian eigenvalue
 * @param powerIterations         power-iteration steps run
 * @param lastRelativeChange      relative change of the estimate at the last step (convergence indicator)
 * @param finiteDifferenceStep    step of the finite differences (unused when {@code exactHessianVectorProducts})
 * @param epsilon                 box size of epsilon-sharpness
 * @param epsilonSharpnessPercent epsilon-sharpness in percent
 * @param seconds                 time the measurement took
 * @param converged               the power iteration's relative change fell to its tolerance (1e-3) within the
 *                                allowed iterations; false: {@code topHessianEigenvalue} is a rough estimate
 * @param exactHessianVectorProducts true: exact double-precision products (R-operator); false: finite differences
 */
public record SharpnessReport(int examples, double loss, double topHessianEigenvalue, int powerIterations,
                              double lastRelativeChange, double finiteDifferenceStep, double epsilon,
                              double epsilonSharpnessPercent, double seconds, boolean converged,
                              boolean exactHessianVectorProducts) {

    /** The report without convergence information (as before those fields existed): finite differences, and
     * converged when the last relative change is at most 1e-3. */
    public SharpnessReport(int examples, double loss, double topHessianEigenvalue, int powerIterations,
                           double lastRelativeChange, double finiteDifferenceStep, double epsilon,
                           double epsilonSharpnessPercent, double seconds) {
        this(examples, loss, topHessianEigenvalue, powerIterations, lastRelativeChange, finiteDifferenceStep, epsilon,
                epsilonSharpnessPercent, seconds, lastRelativeChange <= 1e-3, false);
    }

    /** {@code exact-double} or {@code finite-difference-float32}. */
    public String hessianVectorProducts() {
        return exactHessianVectorProducts ? "exact-double" : "finite-difference-float32";
    }
}
