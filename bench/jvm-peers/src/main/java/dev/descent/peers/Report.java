package dev.descent.peers;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** One JSON line in the shape of bench/peers/torch_train.py's, so compare-all.sh reads every peer the same way. */
final class Report {
    private Report() {
    }

    static String train(String library, String backend, Args a, List<Double> perEpoch, long examples,
                        double seconds, double accuracy) {
        return String.format(Locale.ROOT,
                "{\"library\":\"%s\",\"blas\":\"%s\",\"task\":\"%s\",\"threads\":%d,\"batch\":%d,\"widths\":\"%s\","
                        + "\"epochs\":%d,\"examples_per_second\":%.3f,\"epoch_examples_per_second\":[%s],"
                        + "\"test_accuracy\":%.4f}",
                library, backend, a.str("task", "mlp"), a.integer("threads", 1), a.integer("batch", 128),
                a.str("widths", "256,128"), perEpoch.size(), examples / seconds,
                perEpoch.stream().map(v -> String.format(Locale.ROOT, "%.3f", v)).collect(Collectors.joining(",")),
                accuracy);
    }

    static String gemm(String library, String backend, int threads, int m, int n, int k, double gflops) {
        return String.format(Locale.ROOT,
                "{\"library\":\"%s\",\"blas\":\"%s\",\"layout\":\"NN\",\"m\":%d,\"n\":%d,\"k\":%d,\"threads\":%d,"
                        + "\"gflops\":%.3f}", library, backend, m, n, k, threads, gflops);
    }
}
