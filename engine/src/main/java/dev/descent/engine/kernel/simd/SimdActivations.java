package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.scalar.ScalarOps;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector activations, forward and backward side by side, and the vector math they need (exp, σ, tanh).
 *
 * <p>Shape of the code, for the JIT (each rule was found by the no-allocation test, which fails when C2 leaves
 * vectors boxed, ~6-25 kB per call):
 * <ul>
 *   <li>no helper of ours takes or returns a vector: loop bodies call the Vector API only (force-inlined). A
 *       helper that C2 compiles on its own first is later refused for inlining ("already compiled into a big
 *       method", "low call site frequency"), and every vector crossing it is boxed: measured on the reductions
 *       in JMH as a 15x slowdown and 390 kB allocated per call once the benchmark stub was compiled;</li>
 *   <li>each activation has its own loop (own profile, own compiled code); a shared loop dispatching on the
 *       activation defeated escape analysis;</li>
 *   <li>loop bodies run whole unmasked vectors; the last partial vector is a separate masked tail method with
 *       the same per-lane math;</li>
 *   <li>backward writes {@code dIn (+)= dOut * f'} as two stores under {@code if (acc)}, not one store of a
 *       conditional vector (a phi of two vectors cost one box per iteration);</li>
 *   <li>no transcendental Vector API operation: {@code lanewise(EXP)} / {@code lanewise(TANH)} are computed by
 *       an SVML-style stub once C2 has compiled the loop and by per-lane {@code Math} calls before (interpreter,
 *       C1); the two differ in the last ulp, so results depended on when the JIT got there. exp is written out
 *       in each loop from IEEE-exact lanewise operations (see the EXP constants below): the same bits in every
 *       tier. The price is repetition: the exp block appears in each loop and in its masked tail.</li>
 * </ul>
 *
 * <p>Accuracy (measured by OpsTest's dense sweep against the double formulas): the exp is Cephes' expf with
 * fma range reduction, ~1 ulp; it flushes results below the smallest normal float (arguments < -87.3) to +0
 * and overflows to +inf from 88.37. tanh is x + x^3 P(x^2) below 0.625 and ±(1 - e)/(1 + e), e = e^-2|x|,
 * above (worst 1.3e-7 relative). σ, GELU and the derivatives are written without cancellation or overflow:
 * σ' = e/(1+e)², 1 - tanh² = 4e/(1+e)² with e = e^-|x| or e^-2|x| <= 1, and GELU = 0.5 x (1 + tanh u) = x σ(2u);
 * so their relative error stays a few ulp, plus |2u| ulp for GELU, whose argument is itself rounded in float
 * (its condition number). Speed against lanewise(EXP/TANH) (CPU time per call, 64 Ki floats): GELU backward
 * 1.4x and softmax-CE [128, 1000] 1.15x faster, σ forward and softmax-CE [128, 10] ~1.2x slower, the rest
 * within 5%.
 */
final class SimdActivations {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();

    // ---------------------------------------------------------------- exp from exact lanewise operations
    // e^a = 2^k e^r: k = round(a log2 e) by the 1.5 * 2^23 trick (the fma rounds to an integer in the low
    // mantissa bits of t), r = a - k ln2 by Cody-Waite in two fmas (the first exact: LN2_HI has 10 bits),
    // e^r on |r| <= ln2/2 by Cephes' expf polynomial, then times 2^k built in the exponent field from the bits
    // of t. k + 127 <= 0 (a < -87.3) gives +0: results below the smallest normal float are flushed to zero;
    // k = 128 (a > 88.37) gives +inf. Every step is IEEE-exact per lane, so the interpreter, C1 and C2 agree to
    // the bit, unlike lanewise(EXP), whose C2 stub and Java fallback differ in the last ulp.

    /** Clamp of the argument (keeps k in the range where t holds it): exp(-110) is +0, exp(89) is +inf. */
    static final float EXP_LO = -110f;
    static final float EXP_HI = 89f;
    static final float LOG2E = (float) (1 / Math.log(2));
    static final float ROUND = 0x1.8p23f;
    /** bits(t) + EXP_BIAS = k + 127, the biased exponent of 2^k (t = 1.5 * 2^23 + k). */
    static final int EXP_BIAS = 127 - Float.floatToRawIntBits(ROUND);
    static final float NEG_LN2_HI = -0.693359375f;
    static final float NEG_LN2_LO = 2.12194440e-4f;
    static final float E0 = 5.0000001201e-1f;
    static final float E1 = 1.6666665459e-1f;
    static final float E2 = 4.1665795894e-2f;
    static final float E3 = 8.3334519073e-3f;
    static final float E4 = 1.3981999507e-3f;
    static final float E5 = 1.9875691500e-4f;
    /** tanh below TANH_SMALL: x + x^3 P(x^2), Cephes' tanhf polynomial; above, ±(1 - e)/(1 + e), e = e^-2|x|. */
    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -3.33332819422e-1f;
    private static final float T1 = 1.33314422036e-1f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T3 = 2.06390887954e-2f;
    private static final float T4 = -5.70498872745e-3f;

    private SimdActivations() {
    }

    // ---------------------------------------------------------------- dispatch (once per call, outside the loops)

    static void forward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        switch (act) {
            case IDENTITY -> {
                if (out != in || outOff != inOff) {
                    MemorySegment.copy(in, inOff * Float.BYTES, out, outOff * Float.BYTES, n * Float.BYTES);
                }
            }
            case RELU -> reluForward(out, outOff, in, inOff, n);
            case LEAKY_RELU -> leakyForward(out, outOff, in, inOff, n);
            case SIGMOID -> sigmoidForward(out, outOff, in, inOff, n);
            case TANH -> tanhForward(out, outOff, in, inOff, n);
            case GELU -> geluForward(out, outOff, in, inOff, n);
        }
    }

    static void backward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                         MemorySegment in, long inOff, long n, boolean acc) {
        switch (act) {
            case IDENTITY -> {
                if (acc) {
                    SimdOps.add(dIn, dInOff, dIn, dInOff, dOut, dOutOff, n);
                } else if (dIn != dOut || dInOff != dOutOff) {
                    MemorySegment.copy(dOut, dOutOff * Float.BYTES, dIn, dInOff * Float.BYTES, n * Float.BYTES);
                }
            }
            case RELU -> reluBackward(dIn, dInOff, dOut, dOutOff, in, inOff, n, acc);
            case LEAKY_RELU -> leakyBackward(dIn, dInOff, dOut, dOutOff, in, inOff, n, acc);
            case SIGMOID -> sigmoidBackward(dIn, dInOff, dOut, dOutOff, in, inOff, n, acc);
            case TANH -> tanhBackward(dIn, dInOff, dOut, dOutOff, in, inOff, n, acc);
            case GELU -> geluBackward(dIn, dInOff, dOut, dOutOff, in, inOff, n, acc);
        }
    }

    // ---------------------------------------------------------------- RELU

    private static void reluForward(MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector.broadcast(S, 0f).blend(x, x.compare(VectorOperators.GT, 0f))
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
            FloatVector.zero(S).blend(x, x.compare(VectorOperators.GT, 0f))
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
        }
    }

    private static void reluBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                     MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.broadcast(S, 0f).blend(1f, FloatVector.fromMemorySegment(S, in,
                    (inOff + i) * Float.BYTES, O).compare(VectorOperators.GT, 0f));
            if (acc) {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O)
                        .fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O)).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            } else {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O).mul(d)
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            }
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector d = FloatVector.zero(S).blend(1f, FloatVector.fromMemorySegment(S, in,
                    (inOff + i) * Float.BYTES,
                    O, m).compare(VectorOperators.GT, 0f));
            FloatVector g = FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O, m);
            if (acc) {
                g.fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O, m))
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
            } else {
                g.mul(d).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
            }
        }
    }

    // ---------------------------------------------------------------- LEAKY_RELU: max(x, 0.01 x)

    private static void leakyForward(MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            x.mul(ScalarOps.LEAKY_SLOPE).blend(x, x.compare(VectorOperators.GT, 0f))
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
            x.mul(ScalarOps.LEAKY_SLOPE).blend(x, x.compare(VectorOperators.GT, 0f))
                    .intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
        }
    }

    private static void leakyBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                      MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.broadcast(S, ScalarOps.LEAKY_SLOPE).blend(1f,
                    FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O).compare(VectorOperators.GT, 0f));
            if (acc) {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O)
                        .fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O)).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            } else {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O).mul(d)
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            }
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector d = FloatVector.broadcast(S, ScalarOps.LEAKY_SLOPE).blend(1f,
                    FloatVector.fromMemorySegment(S, in,
                    (inOff + i) * Float.BYTES, O, m).compare(VectorOperators.GT, 0f));
            FloatVector g = FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O, m);
            if (acc) {
                g.fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O, m))
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
            } else {
                g.mul(d).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
            }
        }
    }

    // ---------------------------------------------------------------- SIGMOID: σ = 1/(1+e^-x)

    private static void sigmoidForward(MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector ea = x.neg().max(EXP_LO).min(EXP_HI);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector y = FloatVector.broadcast(S, 1f).div(e.add(1f));
            y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        if (i < n) {
            sigmoidForwardTail(out, outOff, in, inOff, i, n);
        }
    }

    private static void sigmoidForwardTail(MemorySegment out, long outOff, MemorySegment in, long inOff, long i,
                                           long n) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector ea = x.neg().max(EXP_LO).min(EXP_HI);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector y = FloatVector.broadcast(S, 1f).div(e.add(1f));
        y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
    }

    private static void sigmoidBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                        MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector ea = x.abs().neg().max(EXP_LO);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector q = FloatVector.broadcast(S, 1f).div(e.add(1f));
            FloatVector d = e.mul(q).mul(q);
            if (acc) {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O)
                        .fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O)).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            } else {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O).mul(d)
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            }
        }
        if (i < n) {
            sigmoidBackwardTail(dIn, dInOff, dOut, dOutOff, in, inOff, i, n, acc);
        }
    }

    private static void sigmoidBackwardTail(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                            MemorySegment in, long inOff, long i, long n, boolean acc) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector ea = x.abs().neg().max(EXP_LO);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector q = FloatVector.broadcast(S, 1f).div(e.add(1f));
        FloatVector d = e.mul(q).mul(q);
        FloatVector g = FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O, m);
        if (acc) {
            g.fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O, m))
                    .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        } else {
            g.mul(d).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        }
    }

    // ---------------------------------------------------------------- TANH

    private static void tanhForward(MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector ax = x.abs();
            FloatVector ea = ax.mul(-2f).max(EXP_LO);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector big = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
            FloatVector z = x.mul(x);
            FloatVector small = z.fma(T4, T3).fma(z, FloatVector.broadcast(S, T2)).fma(z, FloatVector.broadcast(S, T1))
                    .fma(z, FloatVector.broadcast(S, T0)).fma(z.mul(x), x);
            FloatVector y = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f))
                    .blend(small, ax.compare(VectorOperators.LT, TANH_SMALL));
            y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        if (i < n) {
            tanhForwardTail(out, outOff, in, inOff, i, n);
        }
    }

    private static void tanhForwardTail(MemorySegment out, long outOff, MemorySegment in, long inOff, long i,
                                           long n) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector ax = x.abs();
        FloatVector ea = ax.mul(-2f).max(EXP_LO);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector big = FloatVector.broadcast(S, 1f).sub(e).div(e.add(1f));
        FloatVector z = x.mul(x);
        FloatVector small = z.fma(T4, T3).fma(z, FloatVector.broadcast(S, T2)).fma(z, FloatVector.broadcast(S, T1))
                .fma(z, FloatVector.broadcast(S, T0)).fma(z.mul(x), x);
        FloatVector y = big.blend(big.neg(), x.compare(VectorOperators.LT, 0f))
                .blend(small, ax.compare(VectorOperators.LT, TANH_SMALL));
        y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
    }

    private static void tanhBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                     MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector ea = x.abs().mul(-2f).max(EXP_LO);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector q = e.add(1f);
            FloatVector d = e.mul(4f).div(q.mul(q));
            if (acc) {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O)
                        .fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O)).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            } else {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O).mul(d)
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            }
        }
        if (i < n) {
            tanhBackwardTail(dIn, dInOff, dOut, dOutOff, in, inOff, i, n, acc);
        }
    }

    private static void tanhBackwardTail(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                            MemorySegment in, long inOff, long i, long n, boolean acc) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector ea = x.abs().mul(-2f).max(EXP_LO);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector q = e.add(1f);
        FloatVector d = e.mul(4f).div(q.mul(q));
        FloatVector g = FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O, m);
        if (acc) {
            g.fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O, m))
                    .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        } else {
            g.mul(d).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        }
    }

    // ---------------------------------------------------------------- GELU (tanh approximation)

    private static final float GELU_K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_KC = (float) (Math.sqrt(2.0 / Math.PI) * 0.044715);

    private static void geluForward(MemorySegment out, long outOff, MemorySegment in, long inOff, long n) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector twoU = x.mul(x).fma(2f * GELU_KC, 2f * GELU_K).mul(x);
            FloatVector ea = twoU.neg().max(EXP_LO).min(EXP_HI);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector y = x.mul(FloatVector.broadcast(S, 1f).div(e.add(1f)));
            y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O);
        }
        if (i < n) {
            geluForwardTail(out, outOff, in, inOff, i, n);
        }
    }

    private static void geluForwardTail(MemorySegment out, long outOff, MemorySegment in, long inOff, long i,
                                           long n) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector twoU = x.mul(x).fma(2f * GELU_KC, 2f * GELU_K).mul(x);
        FloatVector ea = twoU.neg().max(EXP_LO).min(EXP_HI);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector y = x.mul(FloatVector.broadcast(S, 1f).div(e.add(1f)));
        y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
    }

    private static void geluBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                     MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector x2 = x.mul(x);
            FloatVector z = x2.fma(2f * GELU_KC, 2f * GELU_K).mul(x);
            FloatVector ea = z.abs().neg().max(EXP_LO);
            FloatVector et = ea.fma(LOG2E, ROUND);
            FloatVector ek = et.sub(ROUND);
            FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
            er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
            FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                    .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
            FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats());
            FloatVector q = FloatVector.broadcast(S, 1f).div(e.add(1f));
            FloatVector eq = e.mul(q);
            FloatVector s = q.blend(eq, z.compare(VectorOperators.LT, 0f));
            FloatVector d = eq.mul(q).mul(x).fma(x2.fma(6f * GELU_KC, 2f * GELU_K), s);
            if (acc) {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O)
                        .fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O)).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            } else {
                FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O).mul(d)
                        .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O);
            }
        }
        if (i < n) {
            geluBackwardTail(dIn, dInOff, dOut, dOutOff, in, inOff, i, n, acc);
        }
    }

    private static void geluBackwardTail(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                            MemorySegment in, long inOff, long i, long n, boolean acc) {
        VectorMask<Float> m = S.indexInRange(i, n);
        FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O, m);
        FloatVector x2 = x.mul(x);
        FloatVector z = x2.fma(2f * GELU_KC, 2f * GELU_K).mul(x);
        FloatVector ea = z.abs().neg().max(EXP_LO);
        FloatVector et = ea.fma(LOG2E, ROUND);
        FloatVector ek = et.sub(ROUND);
        FloatVector er = ek.fma(FloatVector.broadcast(S, NEG_LN2_HI), ea);
        er = ek.fma(FloatVector.broadcast(S, NEG_LN2_LO), er);
        FloatVector ep = er.fma(E5, E4).fma(er, FloatVector.broadcast(S, E3)).fma(er, FloatVector.broadcast(S, E2))
                .fma(er, FloatVector.broadcast(S, E1)).fma(er, FloatVector.broadcast(S, E0)).fma(er.mul(er), er).add(1f);
        FloatVector e = ep.mul(et.reinterpretAsInts().add(EXP_BIAS).max(0).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats());
        FloatVector q = FloatVector.broadcast(S, 1f).div(e.add(1f));
        FloatVector eq = e.mul(q);
        FloatVector s = q.blend(eq, z.compare(VectorOperators.LT, 0f));
        FloatVector d = eq.mul(q).mul(x).fma(x2.fma(6f * GELU_KC, 2f * GELU_K), s);
        FloatVector g = FloatVector.fromMemorySegment(S, dOut, (dOutOff + i) * Float.BYTES, O, m);
        if (acc) {
            g.fma(d, FloatVector.fromMemorySegment(S, dIn, (dInOff + i) * Float.BYTES, O, m))
                    .intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        } else {
            g.mul(d).intoMemorySegment(dIn, (dInOff + i) * Float.BYTES, O, m);
        }
    }
}
