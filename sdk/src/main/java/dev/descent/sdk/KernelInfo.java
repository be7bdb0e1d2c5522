package dev.descent.sdk;

import java.util.Optional;

/**
 * The compute kernels this JVM runs on, chosen once at start-up: see {@link Descent#kernels()}.
 *
 * @param backend    kernel backend name: {@code simd} (Java Vector API) or {@code scalar}
 * @param maxThreads threads a kernel may use at most (the cores): the upper bound of
 *                   {@link TrainingPlan.Builder#threadsPerWorker} and of the benchmarks' thread counts
 * @param warning    null when the SIMD kernels run; otherwise what is slow and the JVM flag that fixes it
 * @param gemmShape  the SIMD GEMM's register tile and blocking and where they came from, e.g.
 *                   {@code 512:8x2 (8x32 floats) kc=1024 mc=128 nc=1024 [built-in]}; {@code scalar} otherwise
 * @param cpu        the detected CPU and caches, e.g. {@code AMD EPYC (AuthenticAMD family 26 model 2), L2 1024 KiB
 *                   (caches: /proc/cpuinfo)}
 */
public record KernelInfo(String backend, int maxThreads, String warning, String gemmShape, String cpu) {
    /** The warning, if the engine runs on the slow scalar fallback. */
    public Optional<String> slowPathWarning() {
        return Optional.ofNullable(warning);
    }
}
