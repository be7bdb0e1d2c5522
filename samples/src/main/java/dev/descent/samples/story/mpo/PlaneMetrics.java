package dev.descent.samples.story.mpo;

import java.util.Arrays;

/** How well a loss map draws its icon: intersection over union of cell sets, quantile thresholds, masked means. */
public final class PlaneMetrics {
    private PlaneMetrics() {
    }

    /** |a ∩ b| / |a ∪ b| of two cell sets of one shape (1 when both are empty). */
    public static double iou(boolean[][] a, boolean[][] b) {
        int both = 0;
        int any = 0;
        for (int j = 0; j < a.length; j++) {
            for (int i = 0; i < a[j].length; i++) {
                both += a[j][i] && b[j][i] ? 1 : 0;
                any += a[j][i] || b[j][i] ? 1 : 0;
            }
        }
        return any == 0 ? 1 : (double) both / any;
    }

    /**
     * The cells whose value is at most the {@code q}-quantile of all values (the k-th smallest, k = ceil(q·n)):
     * {@code q = 0.5} thresholds at the median. NaN cells are never below.
     */
    public static boolean[][] belowQuantile(double[][] z, double q) {
        double[] all = Arrays.stream(z).flatMapToDouble(Arrays::stream).filter(v -> !Double.isNaN(v)).sorted()
                .toArray();
        boolean[][] out = new boolean[z.length][z[0].length];
        if (all.length == 0) {
            return out;
        }
        int k = Math.max(1, Math.min(all.length, (int) Math.ceil(q * all.length)));
        double t = all[k - 1];
        for (int j = 0; j < z.length; j++) {
            for (int i = 0; i < z[j].length; i++) {
                out[j][i] = z[j][i] <= t;
            }
        }
        return out;
    }

    /** Expected IoU of two independent random cell sets covering fractions p and q: pq / (p + q − pq). */
    public static double chanceIou(double p, double q) {
        return p * q / (p + q - p * q);
    }

    /** Mean of {@code z} over the cells where {@code mask} equals {@code inside} (NaN when there are none). */
    public static double mean(double[][] z, boolean[][] mask, boolean inside) {
        double s = 0;
        int n = 0;
        for (int j = 0; j < z.length; j++) {
            for (int i = 0; i < z[j].length; i++) {
                if (mask[j][i] == inside) {
                    s += z[j][i];
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : s / n;
    }
}
