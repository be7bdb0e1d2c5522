package dev.descent.sdk;

/**
 * One SGEMM throughput measurement ({@link Benchmarks#gemm}): {@code C[m,n] = op(A)·op(B)}.
 *
 * @param layout      {@code NN}, {@code NT} or {@code TN}
 * @param threads     kernel threads used
 * @param backend     kernel backend ({@code simd} or {@code scalar})
 * @param repetitions timed products
 * @param seconds     timed wall-clock seconds over all repetitions
 * @param gflops      mean throughput, 2·m·n·k·repetitions / seconds / 1e9
 * @param bestGflops  throughput of the fastest single product
 */
public record GemmMeasurement(int m, int n, int k, String layout, int threads, String backend, int repetitions,
                              double seconds, double gflops, double bestGflops) {
    /** Mean time of one product in milliseconds. */
    public double millisPerProduct() {
        return seconds * 1e3 / repetitions;
    }
}
