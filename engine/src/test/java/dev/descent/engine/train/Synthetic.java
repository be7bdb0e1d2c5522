package dev.descent.engine.train;

import dev.descent.engine.data.Dataset;
import java.util.SplittableRandom;

/** Small generated datasets for tests. */
final class Synthetic {
    private Synthetic() {
    }

    /** Gaussian blobs: class c centred at a random point with spread 0.5 around it (separable). */
    static Dataset blobs(String name, int count, int features, int classes, long seed) {
        SplittableRandom centres = new SplittableRandom(1234);
        float[][] mu = new float[classes][features];
        for (int c = 0; c < classes; c++) {
            for (int f = 0; f < features; f++) {
                mu[c][f] = (float) (centres.nextGaussian() * 2.0);
            }
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * features];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int c = r.nextInt(classes);
            y[i] = c;
            for (int f = 0; f < features; f++) {
                x[i * features + f] = mu[c][f] + (float) (r.nextGaussian() * 0.5);
            }
        }
        return Dataset.of(name, x, y, new int[]{features}, classes);
    }
}
