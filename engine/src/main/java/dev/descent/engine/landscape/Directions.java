package dev.descent.engine.landscape;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ParameterLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * Directions in parameter space: blocks with exactly the parameter slab's layout (same tensors at the same offsets,
 * zero padding), so {@code w + a·d} is one flat loop.
 *
 * <pre>{@code
 * try (OffHeapBlock d = Directions.random(model.layout(), model.params().segment(), settings, 0)) { ... }
 * }</pre>
 *
 * A random direction is a function of (layout, weights, settings, index) only: drawing it twice gives the same
 * bits.
 */
public final class Directions {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private Directions() {
    }

    /** A zeroed block with room for one direction of this layout (caller owns it). */
    public static OffHeapBlock allocate(ParameterLayout layout) {
        return OffHeapBlock.allocateFloats(layout.totalFloats(), Purpose.WORKSPACE);
    }

    /**
     * Random direction number {@code index} (0 = first) for weights {@code w}: Gaussian, normalized and masked as
     * {@code settings} say. Orthogonalization is a property of a pair: see {@link #randomPair}.
     */
    public static OffHeapBlock random(ParameterLayout layout, MemorySegment w, DirectionSettings settings, int index) {
        OffHeapBlock d = allocate(layout);
        try {
            gaussian(d.segment(), layout, settings.seed(), index);
            normalize(d.segment(), w, layout, settings.norm(), settings.ignoreBiases());
            return d;
        } catch (RuntimeException | Error e) {
            d.close();
            throw e;
        }
    }

    /** The two directions of a plane (orthogonalized when the settings ask for it). Caller closes both. */
    public static OffHeapBlock[] randomPair(ParameterLayout layout, MemorySegment w, DirectionSettings settings) {
        OffHeapBlock d1 = random(layout, w, settings, 0);
        OffHeapBlock d2;
        try {
            d2 = random(layout, w, settings, 1);
        } catch (RuntimeException | Error e) {
            d1.close();
            throw e;
        }
        if (settings.orthogonalize()) {
            orthogonalize(d2.segment(), d1.segment(), layout);
        }
        return new OffHeapBlock[] {d1, d2};
    }

    /**
     * Fills {@code d} with N(0, 1) entries in every tensor (padding zero). Tensor t of direction k draws from
     * {@code SplittableRandom(seed)}.split() (k + 1 times) .split() (t + 1 times).
     */
    public static void gaussian(MemorySegment d, ParameterLayout layout, long seed, int index) {
        if (index < 0) {
            throw new IllegalArgumentException("direction index must be >= 0, was " + index);
        }
        d.asSlice(0, layout.totalFloats() * Float.BYTES).fill((byte) 0);
        SplittableRandom root = new SplittableRandom(seed);
        SplittableRandom dir = root.split();
        for (int k = 0; k < index; k++) {
            dir = root.split();
        }
        for (ParameterLayout.Entry e : layout.entries()) {
            SplittableRandom rng = dir.split();
            for (int i = 0; i < e.count(); i++) {
                d.setAtIndex(F, e.offset() + i, (float) rng.nextGaussian());
            }
        }
    }

    /**
     * Scales {@code d} in place to the weights {@code w} (same layout).
     * <ul>
     *   <li>Weight tensors ({@code bias() == false}), shape {@code [out, ...]}: FILTER scales each row to
     *       ‖row of w‖; LAYER scales the tensor to ‖w‖; NONE leaves it.</li>
     *   <li>Bias-like tensors (biases, BatchNorm/LayerNorm parameters): zero when {@code ignoreBiases}; otherwise
     *       FILTER copies the weights (d = w, as Li et al.'s code does for 1-D tensors, whose "filters" are single
     *       numbers), LAYER scales the tensor to ‖w‖, NONE leaves it.</li>
     * </ul>
     * A filter or tensor whose weights are all zero gets a zero direction.
     */
    public static void normalize(MemorySegment d, MemorySegment w, ParameterLayout layout, NormType norm,
                                 boolean ignoreBiases) {
        for (ParameterLayout.Entry e : layout.entries()) {
            long off = e.offset();
            int n = e.count();
            if (e.bias()) {
                if (ignoreBiases) {
                    d.asSlice(off * Float.BYTES, (long) n * Float.BYTES).fill((byte) 0);
                } else if (norm == NormType.FILTER) {
                    MemorySegment.copy(w, off * Float.BYTES, d, off * Float.BYTES, (long) n * Float.BYTES);
                } else if (norm == NormType.LAYER) {
                    scaleTo(d, w, off, n);
                }
                continue;
            }
            switch (norm) {
                case FILTER -> {
                    int filters = e.shape()[0];
                    int per = n / filters;
                    for (int f = 0; f < filters; f++) {
                        scaleTo(d, w, off + (long) f * per, per);
                    }
                }
                case LAYER -> scaleTo(d, w, off, n);
                case NONE -> {
                }
            }
        }
    }

    /** d[off, off+n) *= ‖w[off, off+n)‖ / ‖d[off, off+n)‖ (zero when either norm is zero). */
    private static void scaleTo(MemorySegment d, MemorySegment w, long off, int n) {
        double wn = Math.sqrt(sumSquares(w, off, n));
        double dn = Math.sqrt(sumSquares(d, off, n));
        double s = dn == 0 ? 0 : wn / dn;
        for (int i = 0; i < n; i++) {
            d.setAtIndex(F, off + i, (float) (d.getAtIndex(F, off + i) * s));
        }
    }

    /**
     * Makes {@code d2} orthogonal to {@code d1} (d2 -= (d1·d2 / d1·d1) d1) and rescales it to its former global
     * norm, so its overall scale stays comparable with d1's. Filter norms of d2 change slightly; in the millions of
     * dimensions of a network two random directions are nearly orthogonal already, so the change is small.
     */
    public static void orthogonalize(MemorySegment d2, MemorySegment d1, ParameterLayout layout) {
        long n = layout.totalFloats();
        double d11 = sumSquares(d1, 0, n);
        if (d11 == 0) {
            return;
        }
        double before = Math.sqrt(sumSquares(d2, 0, n));
        double c = dot(d1, d2, n) / d11;
        for (long i = 0; i < n; i++) {
            d2.setAtIndex(F, i, (float) (d2.getAtIndex(F, i) - c * d1.getAtIndex(F, i)));
        }
        double after = Math.sqrt(sumSquares(d2, 0, n));
        if (after > 0) {
            double s = before / after;
            for (long i = 0; i < n; i++) {
                d2.setAtIndex(F, i, (float) (d2.getAtIndex(F, i) * s));
            }
        }
    }

    /** Σ x² over [off, off + n), in double. */
    public static double sumSquares(MemorySegment x, long off, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            double v = x.getAtIndex(F, off + i);
            s += v * v;
        }
        return s;
    }

    /** Σ a·b over the first n floats, in double. */
    public static double dot(MemorySegment a, MemorySegment b, long n) {
        double s = 0;
        for (long i = 0; i < n; i++) {
            s += (double) a.getAtIndex(F, i) * b.getAtIndex(F, i);
        }
        return s;
    }

    /** out = a - b over the first n floats (out may alias a or b). */
    public static void difference(MemorySegment out, MemorySegment a, MemorySegment b, long n) {
        for (long i = 0; i < n; i++) {
            out.setAtIndex(F, i, a.getAtIndex(F, i) - b.getAtIndex(F, i));
        }
    }
}
