package dev.descent.engine.init;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Fills one parameter tensor (knows nothing of layers: the model passes offset, count and fans). Deterministic: the model gives each tensor its own {@link SplittableRandom}
 * derived from (seed, tensor index), so the same seed gives the same weights whatever the order of filling.
 * See {@link Init} for the catalogue.
 */
public interface Initializer {

    /**
     * Fills {@code count} floats of {@code params} from float {@code offset}, a tensor whose units have
     * {@code fanIn} inputs and {@code fanOut} outputs.
     */
    void fill(MemorySegment params, long offset, int count, int fanIn, int fanOut, SplittableRandom rng);

    /** Human-readable description, e.g. {@code kaiming_normal(fan_in, gain=1.414)}. */
    String describe();

    /** Helper: fills a tensor with Gaussian samples of standard deviation {@code std}. */
    static void gaussian(MemorySegment params, long off, int count, SplittableRandom rng, double std) {
        for (int i = 0; i < count; i++) {
            params.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, (float) (rng.nextGaussian() * std));
        }
    }

    /** Helper: fills a tensor with samples of U(-a, a). */
    static void uniform(MemorySegment params, long off, int count, SplittableRandom rng, double a) {
        for (int i = 0; i < count; i++) {
            params.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, (float) ((rng.nextDouble() * 2.0 - 1.0) * a));
        }
    }

    /** Helper: fills a tensor with one value. */
    static void constant(MemorySegment params, long off, int count, float value) {
        for (int i = 0; i < count; i++) {
            params.setAtIndex(ValueLayout.JAVA_FLOAT, off + i, value);
        }
    }
}
