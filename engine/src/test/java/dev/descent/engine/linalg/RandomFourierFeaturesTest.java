package dev.descent.engine.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RandomFourierFeaturesTest {
    @Test
    void shouldApproximateTheGaussianKernel() {
        int d = 7;
        float[] x = new float[2 * d];
        Random rng = new Random(3);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rng.nextGaussian() * 0.5);
        }
        double sigma = 1.3;
        int features = 20_000;
        double[] c = new RandomFourierFeatures(d, features, sigma, 7).cosines(x, 2);
        double dot = 0;
        double self = 0;
        for (int j = 0; j < features; j++) {
            dot += c[j] * c[features + j];
            self += c[j] * c[j];
        }
        double s = RandomFourierFeatures.scale(features);
        double dist2 = 0;
        for (int i = 0; i < d; i++) {
            dist2 += (x[i] - x[d + i]) * (x[i] - x[d + i]);
        }
        assertThat(dot * s * s).isCloseTo(Math.exp(-dist2 / (2 * sigma * sigma)), org.assertj.core.data.Offset.offset(0.03));
        assertThat(self * s * s).isCloseTo(1.0, org.assertj.core.data.Offset.offset(0.03));
    }

    @Test
    void shouldDrawNestedFeatures() {
        int d = 33;
        float[] x = new float[5 * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 11) / 11f;
        }
        double[] small = new RandomFourierFeatures(d, 17, 2.0, 9).cosines(x, 5);
        double[] large = new RandomFourierFeatures(d, 1500, 2.0, 9).cosines(x, 5);  // spans two GEMM chunks
        for (int r = 0; r < 5; r++) {
            for (int j = 0; j < 17; j++) {
                assertThat(large[r * 1500 + j]).isEqualTo(small[r * 17 + j]);
            }
        }
        double[] other = new RandomFourierFeatures(d, 17, 2.0, 10).cosines(x, 5);
        assertThat(other).isNotEqualTo(small);
    }

    @Test
    void shouldRejectBadArguments() {
        assertThatThrownBy(() -> new RandomFourierFeatures(4, 10, 0, 1)).hasMessageContaining("bandwidth");
        assertThatThrownBy(() -> new RandomFourierFeatures(4, 10, 1, 1).cosines(new float[7], 2))
                .hasMessageContaining("[2, 4]").hasMessageContaining("got 7");
    }

    @Test
    void shouldShowDoubleDescentOnASmallProblem() {
        // 40 noisy examples of a smooth 3-class problem; feature counts across n = 40
        int n = 40;
        int m = 200;
        int d = 4;
        Random rng = new Random(5);
        float[] x = new float[n * d];
        float[] xt = new float[m * d];
        int[] y = new int[n];
        int[] yt = new int[m];
        fill(rng, x, y, d);
        fill(rng, xt, yt, d);
        int[] counts = {5, 10, 20, 30, 36, 40, 44, 60, 120, 400};
        RandomFeatureSweep.Config cfg = new RandomFeatureSweep.Config(counts, new double[] {1e-1}, 1.0, 3, false);
        List<RandomFeatureSweep.Point> gram = RandomFeatureSweep.run(x, y, xt, yt, d, 3, cfg, null);
        List<RandomFeatureSweep.Point> svd = RandomFeatureSweep.run(x, y, xt, yt, d, 3,
                new RandomFeatureSweep.Config(counts, new double[] {1e-1}, 1.0, 3, true), null);
        assertThat(gram).hasSize(2 * counts.length);
        RandomFeatureSweep.Point peak = null;
        RandomFeatureSweep.Point normPeak = null;
        for (int i = 0; i < gram.size(); i++) {
            RandomFeatureSweep.Point g = gram.get(i);
            RandomFeatureSweep.Point s = svd.get(i);
            assertThat(g.features()).isEqualTo(s.features());
            assertThat(g.testMse()).isCloseTo(s.testMse(), org.assertj.core.data.Offset.offset(1e-6 * (1 + s.testMse())));
            assertThat(g.coefNorm()).isCloseTo(s.coefNorm(), org.assertj.core.data.Offset.offset(1e-6 * s.coefNorm()));
            if (g.ridge() == 0) {
                if (g.features() >= n) {
                    assertThat(g.trainMse()).as("interpolates at N=%d", g.features()).isLessThan(1e-12);
                } else {
                    assertThat(g.trainMse()).as("cannot interpolate at N=%d", g.features()).isGreaterThan(1e-6);
                }
                peak = peak == null || g.testMse() > peak.testMse() ? g : peak;
                normPeak = normPeak == null || g.coefNorm() > normPeak.coefNorm() ? g : normPeak;
            }
        }
        assertThat(peak.features()).isBetween(36, 44);
        assertThat(normPeak.features()).isBetween(36, 44);
        RandomFeatureSweep.Point ridgeAtN = gram.stream().filter(p -> p.ridge() > 0 && p.features() == n).findFirst().orElseThrow();
        assertThat(ridgeAtN.testMse()).as("ridge flattens the peak").isLessThan(peak.testMse() / 2);
    }

    private static void fill(Random rng, float[] x, int[] y, int d) {
        for (int i = 0; i < y.length; i++) {
            double s = 0;
            for (int k = 0; k < d; k++) {
                x[i * d + k] = (float) rng.nextGaussian();
                s += x[i * d + k] * (k + 1);
            }
            y[i] = (int) Math.floorMod((long) Math.floor(s + rng.nextGaussian() * 0.5), 3L);
        }
    }
}
