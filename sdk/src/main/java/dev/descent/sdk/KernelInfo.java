package dev.descent.sdk;

/**
 * The compute kernels this JVM runs on, chosen once at start-up: see {@link Descent#kernels()}.
 *
 * @param backend    kernel backend name: {@code simd} (Java Vector API) or {@code scalar}
 * @param maxThreads threads a kernel may use at most (the cores): the upper bound of
 *                   {@link TrainingPlan.Builder#threadsPerWorker} and of the benchmarks' thread counts
 */
public record KernelInfo(String backend, int maxThreads) {
}
