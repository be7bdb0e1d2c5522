package dev.descent.sdk;

/**
 * One backprop strategy measured by {@link Benchmarks#backprop}: the exact activation ledger of a training step and
 * its mean wall time.
 *
 * @param strategy            {@code vanilla}, {@code recompute} or {@code checkpointed}
 * @param modules             modules in the chain (n = 2·depth + 1)
 * @param interval            checkpoint interval used (vanilla 1, recompute n)
 * @param peakActivationBytes exact peak of live forward values in a step (the input included)
 * @param forwardEvaluations  module forward evaluations per step (recomputations included)
 * @param secondsPerStep      mean wall seconds of forward + loss + backward
 * @param gradientBufferBytes activation-gradient buffers (the same for every strategy, not in the peak)
 */
public record BackpropMeasurement(String strategy, int depth, int width, int batch, int modules, int interval,
                                  long peakActivationBytes, long forwardEvaluations, double secondsPerStep,
                                  long gradientBufferBytes) {
}
