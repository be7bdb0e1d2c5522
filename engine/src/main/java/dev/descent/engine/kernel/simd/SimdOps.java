package dev.descent.engine.kernel.simd;

import static dev.descent.engine.kernel.simd.SimdActivations.E0;
import static dev.descent.engine.kernel.simd.SimdActivations.E1;
import static dev.descent.engine.kernel.simd.SimdActivations.E2;
import static dev.descent.engine.kernel.simd.SimdActivations.E3;
import static dev.descent.engine.kernel.simd.SimdActivations.E4;
import static dev.descent.engine.kernel.simd.SimdActivations.E5;
import static dev.descent.engine.kernel.simd.SimdActivations.EXP_BIAS;
import static dev.descent.engine.kernel.simd.SimdActivations.EXP_LO;
import static dev.descent.engine.kernel.simd.SimdActivations.LOG2E;
import static dev.descent.engine.kernel.simd.SimdActivations.NEG_LN2_HI;
import static dev.descent.engine.kernel.simd.SimdActivations.NEG_LN2_LO;
import static dev.descent.engine.kernel.simd.SimdActivations.ROUND;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.scalar.ScalarOps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.Vector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels other than GEMM (activations and the vector exp live in {@link SimdActivations}). Same
 * contract as {@link ScalarOps}, the oracle they are tested against.
 *
 * <p>Loops run whole unmasked vectors of {@link #S}, then finish either with a scalar tail doing the same IEEE
 * operations (bit-identical per element) or with one masked vector. Masked operations are kept out of the loop
 * bodies: they inflate C2's graph, and a body that hits the inlining node cutoff leaves vectors boxed (measured:
 * ~9 kB allocated per Adam call). Nothing here allocates once C2 has compiled it (see the no-allocation test).
 *
 * <p>Reductions accumulate in double lanes as the contract says: each float is widened exactly, products of two
 * widened floats are exact, so the only rounding is the double accumulation, as in the scalar loop.
 */
public final class SimdOps {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Doubles of the preferred shape, and the float species with as many lanes (half the bits). */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> H =
            VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int HL = H.length();
    private static final long HB = (long) HL * Float.BYTES;
    private static final VectorOperators.Conversion<Float, Double> F2D = VectorOperators.F2D;
    private static final ByteOrder O = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;
    private static final int DL = D.length();

    /*
     * Lane sums in a fixed order: reduceLanes(ADD) on floating-point lanes has an unspecified order, and the
     * Java fallback (interpreter, C1) and the C2 intrinsic do use different orders, so a result would depend on
     * when the JIT compiled the method. Instead each site folds the vector in halves, v + v.rearrange(i -> i ^ h)
     * for h = lanes/2 .. 1 (exact per-lane adds and a data move), and takes lane 0: the same tree in every tier.
     * Written out at each site (no helper may take a vector, see SimdActivations); the guards on the lane count
     * are constants, so the JIT keeps only the log2(lanes) steps of this machine's shape.
     */
    static final VectorShuffle<Float> FX1 = swap(S, 1);
    static final VectorShuffle<Float> FX2 = swap(S, 2);
    static final VectorShuffle<Float> FX4 = swap(S, 4);
    static final VectorShuffle<Float> FX8 = swap(S, 8);
    static final VectorShuffle<Float> FX16 = swap(S, 16);
    static final VectorShuffle<Float> FX32 = swap(S, 32);
    private static final VectorShuffle<Double> DX1 = swap(D, 1);
    private static final VectorShuffle<Double> DX2 = swap(D, 2);
    private static final VectorShuffle<Double> DX4 = swap(D, 4);
    private static final VectorShuffle<Double> DX8 = swap(D, 8);
    private static final VectorShuffle<Double> DX16 = swap(D, 16);

    private SimdOps() {
    }

    /** The shuffle i -> i ^ h (the identity when h is not below the lane count: that step is never used). */
    static <E> VectorShuffle<E> swap(VectorSpecies<E> species, int h) {
        int lanes = species.length();
        return VectorShuffle.fromOp(species, i -> h < lanes ? i ^ h : i);
    }

    // ---------------------------------------------------------------- loads and stores (offsets in floats)

    private static float get(MemorySegment s, long i) {
        return s.getAtIndex(F, i);
    }

    private static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F, i, v);
    }

    // ---------------------------------------------------------------- bias

    /** out[rows, cols] += bias[cols]. */
    public static void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            long row = outOff + (long) r * cols;
            int c = 0;
            for (; c < bound; c += L) {
                FloatVector.fromMemorySegment(S, out, (row + c) * Float.BYTES, O)
                        .add(FloatVector.fromMemorySegment(S, bias, (biasOff + c) * Float.BYTES, O)).intoMemorySegment(out, (row + c) * Float.BYTES, O);
            }
            for (; c < cols; c++) {
                set(out, row + c, get(out, row + c) + get(bias, biasOff + c));
            }
        }
    }

    /**
     * dBias[cols] (+)= Σ_r dOut[rows, cols]: a vector of columns at a time, summed over the rows in float in two
     * chains (even and odd rows); the tail columns repeat the same float sums in the same order.
     */
    public static void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows,
            int cols,
                                boolean accumulate) {
        int bound = S.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            int r = 0;
            for (; r + 1 < rows; r += 2) {
                a0 = a0.add(FloatVector.fromMemorySegment(S, dOut, (dOutOff + (long) r * cols + c) * Float.BYTES, O));
                a1 = a1.add(FloatVector.fromMemorySegment(S, dOut,
                        (dOutOff + (long) (r + 1) * cols + c) * Float.BYTES, O));
            }
            if (r < rows) {
                a0 = a0.add(FloatVector.fromMemorySegment(S, dOut, (dOutOff + (long) r * cols + c) * Float.BYTES, O));
            }
            FloatVector s = a0.add(a1);
            if (accumulate) {
                s = s.add(FloatVector.fromMemorySegment(S, dBias, (dBiasOff + c) * Float.BYTES, O));
            }
            s.intoMemorySegment(dBias, (dBiasOff + c) * Float.BYTES, O);
        }
        for (; c < cols; c++) {
            float a0 = 0f;
            float a1 = 0f;
            int r = 0;
            for (; r + 1 < rows; r += 2) {
                a0 += get(dOut, dOutOff + (long) r * cols + c);
                a1 += get(dOut, dOutOff + (long) (r + 1) * cols + c);
            }
            if (r < rows) {
                a0 += get(dOut, dOutOff + (long) r * cols + c);
            }
            float s = a0 + a1;
            set(dBias, dBiasOff + c, accumulate ? s + get(dBias, dBiasOff + c) : s);
        }
    }

    // ---------------------------------------------------------------- activations (see SimdActivations)

    /** out[n] = f(in[n]); out may alias in. */
    public static void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff,
                                         long n) {
        SimdActivations.forward(act, out, outOff, in, inOff, n);
    }

    /** dIn[n] (+)= dOut[n] * f'(in[n]); dIn may alias dOut when accumulate is false. */
    public static void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut,
                                          long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        SimdActivations.backward(act, dIn, dInOff, dOut, dOutOff, in, inOff, n, accumulate);
    }

    // ---------------------------------------------------------------- elementwise, BLAS-1
    // Whole vectors, then a scalar tail doing the same IEEE operations (Math.fma for the fused ones), so every
    // element gets bit-identical results whatever its position.

    /** y[n] += alpha * x[n] (fused: one rounding). */
    public static void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        long bound = S.loopBound(n);
        FloatVector a = FloatVector.broadcast(S, alpha);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O)
                    .fma(a, FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O)).intoMemorySegment(y, (yOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(y, yOff + i, Math.fma(get(x, xOff + i), alpha, get(y, yOff + i)));
        }
    }

    /** out[n] = fma(z, b, fma(y, a, x)) (z null: fma(y, a, x)): the rounding of a copy and two {@link #axpy}s. */
    public static void combine(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y,
                               long yOff, float b, MemorySegment z, long zOff, long n) {
        if (z == null) {
            combine1(out, outOff, x, xOff, a, y, yOff, n);
            return;
        }
        long bound = S.loopBound(n);
        FloatVector av = FloatVector.broadcast(S, a);
        FloatVector bv = FloatVector.broadcast(S, b);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector t = FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O)
                    .fma(av, FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O));
            FloatVector.fromMemorySegment(S, z, (zOff + i) * Float.BYTES, O).fma(bv, t)
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            float t = Math.fma(get(y, yOff + i), a, get(x, xOff + i));
            set(out, outOff + i, Math.fma(get(z, zOff + i), b, t));
        }
    }

    private static void combine1(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y,
                                 long yOff, long n) {
        long bound = S.loopBound(n);
        FloatVector av = FloatVector.broadcast(S, a);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O)
                    .fma(av, FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O))
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(out, outOff + i, Math.fma(get(y, yOff + i), a, get(x, xOff + i)));
        }
    }

    /** x[n] *= alpha. */
    public static void scale(MemorySegment x, long xOff, float alpha, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O).mul(alpha)
                    .intoMemorySegment(x, (xOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(x, xOff + i, get(x, xOff + i) * alpha);
        }
    }

    /** out[n] = a[n] * b[n]. */
    public static void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                           long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, a, (aOff + i) * Float.BYTES, O)
                    .mul(FloatVector.fromMemorySegment(S, b, (bOff + i) * Float.BYTES, O)).intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(out, outOff + i, get(a, aOff + i) * get(b, bOff + i));
        }
    }

    /** out[n] = a[n] + b[n]. */
    public static void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                           long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector.fromMemorySegment(S, a, (aOff + i) * Float.BYTES, O)
                    .add(FloatVector.fromMemorySegment(S, b, (bOff + i) * Float.BYTES, O)).intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(out, outOff + i, get(a, aOff + i) + get(b, bOff + i));
        }
    }

    // ---------------------------------------------------------------- reductions
    // Each float is widened exactly to double and accumulated in double lanes (4 independent accumulators);
    // products of two widened floats are exact in double (24 + 24 bits < 53), so mul-then-add rounds only once. So the only rounding is the
    // double accumulation, as in the scalar loop, merely in another order: |simd - scalar| <= ~2 n 2^-53 Σ|term|.

    public static double sum(MemorySegment x, long xOff, long n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = DoubleVector.zero(D);
        DoubleVector a2 = DoubleVector.zero(D);
        DoubleVector a3 = DoubleVector.zero(D);
        long i = 0;
        for (; i + 4L * HL <= n; i += 4L * HL) {
            long p = (xOff + i) * Float.BYTES;
            a0 = a0.add(FloatVector.fromMemorySegment(H, x, p, O).convertShape(F2D, D, 0));
            a1 = a1.add(FloatVector.fromMemorySegment(H, x, p + HB, O).convertShape(F2D, D, 0));
            a2 = a2.add(FloatVector.fromMemorySegment(H, x, p + 2 * HB, O).convertShape(F2D, D, 0));
            a3 = a3.add(FloatVector.fromMemorySegment(H, x, p + 3 * HB, O).convertShape(F2D, D, 0));
        }
        DoubleVector v = a0.add(a1).add(a2.add(a3));
        if (DL > 16) {
            v = v.add(v.rearrange(DX16));
        }
        if (DL > 8) {
            v = v.add(v.rearrange(DX8));
        }
        if (DL > 4) {
            v = v.add(v.rearrange(DX4));
        }
        if (DL > 2) {
            v = v.add(v.rearrange(DX2));
        }
        v = v.add(v.rearrange(DX1));
        double s = v.lane(0);
        for (; i < n; i++) {
            s += get(x, xOff + i);
        }
        return s;
    }

    public static double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = DoubleVector.zero(D);
        DoubleVector a2 = DoubleVector.zero(D);
        DoubleVector a3 = DoubleVector.zero(D);
        long i = 0;
        for (; i + 4L * HL <= n; i += 4L * HL) {
            long p = (xOff + i) * Float.BYTES;
            long q = (yOff + i) * Float.BYTES;
            a0 = a0.add(FloatVector.fromMemorySegment(H, x, p, O).convertShape(F2D, D, 0)
                    .mul(FloatVector.fromMemorySegment(H, y, q, O).convertShape(F2D, D, 0)));
            a1 = a1.add(FloatVector.fromMemorySegment(H, x, p + HB, O).convertShape(F2D, D, 0)
                    .mul(FloatVector.fromMemorySegment(H, y, q + HB, O).convertShape(F2D, D, 0)));
            a2 = a2.add(FloatVector.fromMemorySegment(H, x, p + 2 * HB, O).convertShape(F2D, D, 0)
                    .mul(FloatVector.fromMemorySegment(H, y, q + 2 * HB, O).convertShape(F2D, D, 0)));
            a3 = a3.add(FloatVector.fromMemorySegment(H, x, p + 3 * HB, O).convertShape(F2D, D, 0)
                    .mul(FloatVector.fromMemorySegment(H, y, q + 3 * HB, O).convertShape(F2D, D, 0)));
        }
        DoubleVector v = a0.add(a1).add(a2.add(a3));
        if (DL > 16) {
            v = v.add(v.rearrange(DX16));
        }
        if (DL > 8) {
            v = v.add(v.rearrange(DX8));
        }
        if (DL > 4) {
            v = v.add(v.rearrange(DX4));
        }
        if (DL > 2) {
            v = v.add(v.rearrange(DX2));
        }
        v = v.add(v.rearrange(DX1));
        double s = v.lane(0);
        for (; i < n; i++) {
            s += (double) get(x, xOff + i) * (double) get(y, yOff + i);
        }
        return s;
    }

    /** The bytes of one float vector's lanes; byte vectors start at 64 bits (8 lanes): 4-lane machines go scalar. */
    private static final VectorSpecies<Byte> BYTES_OF_S = L >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    private static final VectorSpecies<Integer> INTS_OF_S = VectorSpecies.of(int.class, S.vectorShape());

    /**
     * Unsigned bytes to floats in [0, 1] ({@code byte / 255}): zero-extended to ints, converted exactly, divided per
     * lane; the scalar tail computes the same IEEE operations. ~17 us for a batch of 128 Fashion-MNIST rows.
     */
    public static void unitBytesToFloats(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        long i = 0;
        if (BYTES_OF_S != null) {
            long bound = n - L + 1;
            for (; i < bound; i += L) {
                FloatVector f = (FloatVector) ByteVector.fromMemorySegment(BYTES_OF_S, src, srcOff + i, O)
                        .convertShape(VectorOperators.ZERO_EXTEND_B2I, INTS_OF_S, 0).convert(VectorOperators.I2F, 0);
                f.div(255f).intoMemorySegment(dst, (dstOff + i) * Float.BYTES, O);
            }
        }
        for (; i < n; i++) {
            dst.setAtIndex(ValueLayout.JAVA_FLOAT, dstOff + i, (src.get(ValueLayout.JAVA_BYTE, srcOff + i) & 0xFF) / 255f);
        }
    }

    public static double sumSquares(MemorySegment x, long xOff, long n) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = DoubleVector.zero(D);
        DoubleVector a2 = DoubleVector.zero(D);
        DoubleVector a3 = DoubleVector.zero(D);
        long i = 0;
        for (; i + 4L * HL <= n; i += 4L * HL) {
            long p = (xOff + i) * Float.BYTES;
            Vector<Double> v0 = FloatVector.fromMemorySegment(H, x, p, O).convertShape(F2D, D, 0);
            Vector<Double> v1 = FloatVector.fromMemorySegment(H, x, p + HB, O).convertShape(F2D, D, 0);
            Vector<Double> v2 = FloatVector.fromMemorySegment(H, x, p + 2 * HB, O).convertShape(F2D, D, 0);
            Vector<Double> v3 = FloatVector.fromMemorySegment(H, x, p + 3 * HB, O).convertShape(F2D, D, 0);
            a0 = a0.add(v0.mul(v0));
            a1 = a1.add(v1.mul(v1));
            a2 = a2.add(v2.mul(v2));
            a3 = a3.add(v3.mul(v3));
        }
        DoubleVector v = a0.add(a1).add(a2.add(a3));
        if (DL > 16) {
            v = v.add(v.rearrange(DX16));
        }
        if (DL > 8) {
            v = v.add(v.rearrange(DX8));
        }
        if (DL > 4) {
            v = v.add(v.rearrange(DX4));
        }
        if (DL > 2) {
            v = v.add(v.rearrange(DX2));
        }
        v = v.add(v.rearrange(DX1));
        double s = v.lane(0);
        for (; i < n; i++) {
            double xi = get(x, xOff + i);
            s += xi * xi;
        }
        return s;
    }

    // ---------------------------------------------------------------- softmax + cross-entropy

    /**
     * Row by row: max (vector), e = exp(x - max) stored into probs while summed in a float vector accumulator,
     * then probs *= 1/sum; loss = log(sum) - (x_label - max) in double (finite even when p underflows).
     * The float sum of cols positive terms has relative error {@literal <=} (cols/L + log2 L + 2) ulp; the probs add
     * the exp error (~2 ulp) and |x - max| ulp from the float subtraction.
     */
    public static double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses,
                                                    long lossesOff, MemorySegment logits, long logitsOff,
                                                    MemorySegment labels, long labelsOff, int rows, int cols) {
        double total = 0.0;
        for (int r = 0; r < rows; r++) {
            int label = labels.getAtIndex(I, labelsOff + r);
            ScalarOps.checkLabel(label, r, cols);
            long in = logitsOff + (long) r * cols;
            long out = probsOff + (long) r * cols;
            float max = rowMax(logits, in, cols);
            float sum = expAndSum(out, probs, logits, in, cols, max);
            scale(probs, out, 1f / sum, cols);
            double loss = Math.log(sum) - ((double) logits.getAtIndex(F, in + label) - max);
            losses.setAtIndex(F, lossesOff + r, (float) loss);
            total += loss;
        }
        return total;
    }

    private static float rowMax(MemorySegment x, long off, int cols) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int bound = S.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) {
            mx = mx.max(FloatVector.fromMemorySegment(S, x, (off + c) * Float.BYTES, O));
        }
        if (c < cols) {
            VectorMask<Float> m = S.indexInRange(c, cols);
            mx = mx.lanewise(VectorOperators.MAX, FloatVector.fromMemorySegment(S, x, (off + c) * Float.BYTES, O, m),
                    m);
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    private static float expAndSum(long out, MemorySegment probs, MemorySegment x, long in, int cols, float max) {
        FloatVector acc = FloatVector.zero(S);
        int bound = S.loopBound(cols);
        int c = 0;
        for (; c < bound; c += L) {
            FloatVector ea = FloatVector.fromMemorySegment(S, x, (in + c) * Float.BYTES, O).sub(max).max(EXP_LO);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            e.intoMemorySegment(probs, (out + c) * Float.BYTES, O);
            acc = acc.add(e);
        }
        if (L > 32) {
            acc = acc.add(acc.rearrange(FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(FX4));
        }
        acc = acc.add(acc.rearrange(FX2));
        acc = acc.add(acc.rearrange(FX1));
        float sum = acc.lane(0);
        return c < cols ? sum + expAndSumTail(out, probs, x, in, c, cols, max) : sum;
    }

    /** Masked tail: Vector API calls only (no helper C2 might leave uninlined at this cold site). */
    private static float expAndSumTail(long out, MemorySegment probs, MemorySegment x, long in, int c, int cols,
                                       float max) {
        VectorMask<Float> m = S.indexInRange(c, cols);
        FloatVector ea = FloatVector.fromMemorySegment(S, x, (in + c) * Float.BYTES, O, m).sub(max).max(EXP_LO);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        e.intoMemorySegment(probs, (out + c) * Float.BYTES, O, m);
        FloatVector t = FloatVector.zero(S).add(e, m);
        if (L > 32) {
            t = t.add(t.rearrange(FX32));
        }
        if (L > 16) {
            t = t.add(t.rearrange(FX16));
        }
        if (L > 8) {
            t = t.add(t.rearrange(FX8));
        }
        if (L > 4) {
            t = t.add(t.rearrange(FX4));
        }
        t = t.add(t.rearrange(FX2));
        t = t.add(t.rearrange(FX1));
        return t.lane(0);
    }

    /** dLogits[rows, cols] = (probs - onehot(labels)) * scale, bit-identical to the scalar reference. */
    public static void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs,
                                                   long probsOff, MemorySegment labels, long labelsOff, int rows,
                                                   int cols, float scale) {
        for (int r = 0; r < rows; r++) {
            int label = labels.getAtIndex(I, labelsOff + r);
            ScalarOps.checkLabel(label, r, cols);
            long in = probsOff + (long) r * cols;
            long out = dLogitsOff + (long) r * cols;
            float pLabel = probs.getAtIndex(F, in + label);          // read before an aliased write
            int bound = S.loopBound(cols);
            int c = 0;
            for (; c < bound; c += L) {
                FloatVector.fromMemorySegment(S, probs, (in + c) * Float.BYTES, O).mul(scale)
                        .intoMemorySegment(dLogits, (out + c) * Float.BYTES, O);
            }
            for (; c < cols; c++) {
                set(dLogits, out + c, get(probs, in + c) * scale);
            }
            dLogits.setAtIndex(F, out + label, (pLabel - 1f) * scale);
        }
    }

    // ---------------------------------------------------------------- optimizer updates (one fused pass each)
    // Whole vectors, then a scalar tail with the same float operations (Math.fma, a correctly rounded sqrt and
    // division), so the tail elements are bit-identical to what a lane would compute.

    /** p -= lr * (g + wd * p). */
    public static void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr,
                                 float weightDecay, long n) {
        long bound = S.loopBound(n);
        FloatVector wd = FloatVector.broadcast(S, weightDecay);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector p = FloatVector.fromMemorySegment(S, params, (pOff + i) * Float.BYTES, O);
            FloatVector g = p.fma(wd, FloatVector.fromMemorySegment(S, grads, (gOff + i) * Float.BYTES, O));
            g.fma(negLr, p).intoMemorySegment(params, (pOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            float p = get(params, pOff + i);
            float g = Math.fma(p, weightDecay, get(grads, gOff + i));
            set(params, pOff + i, Math.fma(g, -lr, p));
        }
    }

    /** g' = g + wd p; v = mu v + g'; p -= lr (nesterov ? g' + mu v : v). */
    public static void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff,
                                      MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay,
                                      boolean nesterov, long n) {
        long bound = S.loopBound(n);
        FloatVector wd = FloatVector.broadcast(S, weightDecay);
        FloatVector mu = FloatVector.broadcast(S, momentum);
        FloatVector negLr = FloatVector.broadcast(S, -lr);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector p = FloatVector.fromMemorySegment(S, params, (pOff + i) * Float.BYTES, O);
            FloatVector g = p.fma(wd, FloatVector.fromMemorySegment(S, grads, (gOff + i) * Float.BYTES, O));
            FloatVector v = FloatVector.fromMemorySegment(S, velocity, (vOff + i) * Float.BYTES, O).fma(mu, g);
            FloatVector d = nesterov ? v.fma(mu, g) : v;
            v.intoMemorySegment(velocity, (vOff + i) * Float.BYTES, O);
            d.fma(negLr, p).intoMemorySegment(params, (pOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            float p = get(params, pOff + i);
            float g = Math.fma(p, weightDecay, get(grads, gOff + i));
            float v = Math.fma(get(velocity, vOff + i), momentum, g);
            float d = nesterov ? Math.fma(v, momentum, g) : v;
            set(velocity, vOff + i, v);
            set(params, pOff + i, Math.fma(d, -lr, p));
        }
    }

    /**
     * Adam / AdamW in PyTorch's arrangement: p -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps), with the bias
     * corrections bc = 1 - beta^t computed once in double; AdamW scales p by (1 - lr wd) first.
     */
    public static void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m,
                                  long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps,
                                  float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        if (step < 1) {
            throw new IllegalArgumentException("adam step must be >= 1, was " + step);
        }
        float stepSize = (float) (lr / (1.0 - Math.pow(beta1, step)));
        float invSqrtBc2 = (float) (1.0 / Math.sqrt(1.0 - Math.pow(beta2, step)));
        float decay = decoupledWeightDecay ? (float) (1.0 - (double) lr * weightDecay) : 1f;
        float l2 = decoupledWeightDecay ? 0f : weightDecay;
        float omb1 = (float) (1.0 - beta1);
        float omb2 = (float) (1.0 - beta2);
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector p = FloatVector.fromMemorySegment(S, params, (pOff + i) * Float.BYTES, O);
            FloatVector g = p
                    .fma(FloatVector.broadcast(S, l2), FloatVector.fromMemorySegment(S, grads, (gOff + i) * Float.BYTES, O));
            FloatVector mi = FloatVector.fromMemorySegment(S, m, (mOff + i) * Float.BYTES, O)
                    .fma(FloatVector.broadcast(S, beta1), g.mul(omb1));
            FloatVector vi = FloatVector.fromMemorySegment(S, v, (vOff + i) * Float.BYTES, O)
                    .fma(FloatVector.broadcast(S, beta2), g.mul(g).mul(omb2));
            mi.intoMemorySegment(m, (mOff + i) * Float.BYTES, O);
            vi.intoMemorySegment(v, (vOff + i) * Float.BYTES, O);
            FloatVector denom = vi.sqrt().fma(invSqrtBc2, eps);
            p.mul(decay).sub(mi.mul(stepSize).div(denom)).intoMemorySegment(params, (pOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            float p = get(params, pOff + i);
            float g = Math.fma(p, l2, get(grads, gOff + i));
            float mi = Math.fma(get(m, mOff + i), beta1, g * omb1);
            float vi = Math.fma(get(v, vOff + i), beta2, g * g * omb2);
            set(m, mOff + i, mi);
            set(v, vOff + i, vi);
            float denom = Math.fma((float) Math.sqrt(vi), invSqrtBc2, eps);
            set(params, pOff + i, p * decay - mi * stepSize / denom);
        }
    }
}
