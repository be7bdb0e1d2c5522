package dev.descent.engine.linalg;

import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Random Fourier features (Rahimi &amp; Recht 2007) for the Gaussian kernel
 * k(x, x') = exp(-|x - x'|² / (2σ²)): feature j of an input x is {@code cos(v_j·x + b_j)} with
 * {@code v_j ~ N(0, I/σ²)} and {@code b_j ~ U[0, 2π)}; scaled by {@code sqrt(2/N)} (see {@link #scale}) the inner
 * product of two feature vectors of N features tends to k(x, x') as N grows.
 *
 * <p>The draws are <b>nested</b>: feature j depends only on the seed and j (the directions are drawn feature by
 * feature from one seeded stream), so the first N features of a draw of {@code maxFeatures} are the features of
 * a draw of N. A sweep over N therefore draws once, at the largest N, and takes prefixes.
 *
 * <p>Precision: the projections {@code v_j·x} are computed in float32 by the engine's GEMM kernel (the bulk of
 * the work: rows · maxFeatures · inputSize multiply-adds), the cosines and everything after them in double. The
 * float rounding (relative ~1e-7 of |v·x|) is part of the feature map: the same function is applied to train and
 * test inputs.
 */
public final class RandomFourierFeatures {
    private static final int CHUNK = 1024; // features projected per GEMM call

    private final int inputSize;
    private final int maxFeatures;
    private final double bandwidth;
    private final float[] directions; // [maxFeatures, inputSize], N(0, 1/σ²)
    private final double[] phases;    // [maxFeatures], U[0, 2π)

    /**
     * Draws {@code maxFeatures} features for inputs of {@code inputSize} values.
     *
     * @param bandwidth σ of the Gaussian kernel, in the units of the inputs (> 0)
     */
    public RandomFourierFeatures(int inputSize, int maxFeatures, double bandwidth, long seed) {
        if (inputSize < 1 || maxFeatures < 1) {
            throw new IllegalArgumentException("inputSize and maxFeatures must be >= 1, were " + inputSize + " and "
                    + maxFeatures);
        }
        if (!(bandwidth > 0) || !Double.isFinite(bandwidth)) {
            throw new IllegalArgumentException("bandwidth must be a finite number > 0, was " + bandwidth);
        }
        this.inputSize = inputSize;
        this.maxFeatures = maxFeatures;
        this.bandwidth = bandwidth;
        this.directions = new float[Math.multiplyExact(maxFeatures, inputSize)];
        this.phases = new double[maxFeatures];
        SplittableRandom rng = new SplittableRandom(seed);
        double s = 1.0 / bandwidth;
        for (int j = 0; j < maxFeatures; j++) {
            for (int i = 0; i < inputSize; i++) {
                directions[j * inputSize + i] = (float) (rng.nextGaussian() * s);
            }
            phases[j] = rng.nextDouble() * 2 * Math.PI;
        }
    }

    public int inputSize() {
        return inputSize;
    }

    public int maxFeatures() {
        return maxFeatures;
    }

    public double bandwidth() {
        return bandwidth;
    }

    /** The factor {@code sqrt(2/N)} that makes N features approximate the kernel. */
    public static double scale(int features) {
        return Math.sqrt(2.0 / features);
    }

    /**
     * Unscaled features {@code cos(v_j·x_r + b_j)} of {@code rows} inputs for all {@link #maxFeatures} features.
     *
     * @param x inputs, [rows, inputSize] row-major
     * @return [rows, maxFeatures] row-major
     */
    public double[] cosines(float[] x, int rows) {
        if (rows < 1 || x.length != (long) rows * inputSize) {
            throw new IllegalArgumentException("inputs: expected [" + rows + ", " + inputSize + "] = "
                    + ((long) rows * inputSize) + " values, got " + x.length);
        }
        double[] out = new double[Math.multiplyExact(rows, maxFeatures)];
        int chunk = Math.min(CHUNK, maxFeatures);
        try (OffHeapBlock in = OffHeapBlock.allocateFloats((long) rows * inputSize, Purpose.WORKSPACE);
             OffHeapBlock w = OffHeapBlock.allocateFloats((long) chunk * inputSize, Purpose.WORKSPACE);
             OffHeapBlock p = OffHeapBlock.allocateFloats((long) rows * chunk, Purpose.WORKSPACE)) {
            in.copyFrom(x, 0);
            MemorySegment ps = p.segment();
            for (int from = 0; from < maxFeatures; from += chunk) {
                int c = Math.min(chunk, maxFeatures - from);
                MemorySegment.copy(directions, from * inputSize, w.segment(), ValueLayout.JAVA_FLOAT, 0,
                        c * inputSize);
                // p[rows, c] = x[rows, d] · w[c, d]ᵀ
                Kernels.backend().gemmNT(ps, 0, in.segment(), 0, w.segment(), 0, rows, c, inputSize, false, 1);
                for (int r = 0; r < rows; r++) {
                    long src = (long) r * c;
                    int dst = r * maxFeatures + from;
                    for (int j = 0; j < c; j++) {
                        out[dst + j] = Math.cos(ps.getAtIndex(ValueLayout.JAVA_FLOAT, src + j) + phases[from + j]);
                    }
                }
            }
        }
        return out;
    }
}
