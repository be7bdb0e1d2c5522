package dev.descent.sdk;

/**
 * How sharp the minimum at a network is: the top Hessian eigenvalue (power iteration on finite-difference
 * Hessian-vector products) and Keskar et al.'s epsilon-sharpness, on the first {@code examples} training examples.
 *
 * @param loss                    the loss at the network on those examples
 * @param topHessianEigenvalue    estimate of the largest Hessian eigenvalue
 * @param powerIterations         power-iteration steps run
 * @param lastRelativeChange      relative change of the estimate at the last step (convergence indicator)
 * @param finiteDifferenceStep    step of the finite differences
 * @param epsilon                 box size of epsilon-sharpness
 * @param epsilonSharpnessPercent epsilon-sharpness in percent
 * @param seconds                 time the measurement took
 */
public record SharpnessReport(int examples, double loss, double topHessianEigenvalue, int powerIterations,
                              double lastRelativeChange, double finiteDifferenceStep, double epsilon,
                              double epsilonSharpnessPercent, double seconds) {
}
