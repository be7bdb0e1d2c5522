package dev.descent.sdk;

import java.util.Optional;

/**
 * The compute kernels this JVM runs on, chosen once at start-up: see {@link Descent#kernels()}.
 *
 * @param backend    kernel backend name: {@code simd} (Java Vector API) or {@code scalar}
 * @param maxThreads threads a kernel may use at most (the cores): the upper bound of
 *                   {@link TrainingPlan.Builder#threadsPerWorker} and of the benchmarks' thread counts
 * @param warning    null when the SIMD kernels run; otherwise what is slow and the JVM flag that fixes it
 */
public record KernelInfo(String backend, int maxThreads, String warning) {
    /** The warning, if the engine runs on the slow scalar fallback. */
    public Optional<String> slowPathWarning() {
        return Optional.ofNullable(warning);
    }
}
