package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.scalar.ScalarOps;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
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
 *   <li>exp and tanh are single intrinsics ({@code lanewise(EXP)}, {@code lanewise(TANH)}), not ~30-operation
 *       polynomials: those pushed composite kernels past C2's inlining node cutoff. The price of these rules is
 *       some repetition: each activation's formula appears in its loop and in its tail.</li>
 * </ul>
 *
 * <p>Accuracy: exp and tanh are the JDK's vector intrinsics (SVML on x86-64; the tests measure them at ~0.5 ulp;
 * in a quick probe {@code lanewise(EXP)} ran as fast as a Cephes polynomial with Cody-Waite range reduction, which
 * was tried first; without SVML, on other platforms, the JDK falls back to per-lane Math.exp: correct, slower).
 * σ, GELU and the derivatives are written without cancellation or overflow: σ' = e/(1+e)², 1 - tanh² =
 * 4e/(1+e)² with e = e^-|x| or e^-2|x| <= 1, and GELU = 0.5 x (1 + tanh u) = x σ(2u); so their relative error
 * stays a few ulp, plus |2u| ulp for GELU, whose argument is itself rounded in float (its condition number).
 */
final class SimdActivations {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();

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
            FloatVector y = FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
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
        FloatVector y = FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
        y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
    }

    private static void sigmoidBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                        MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
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
        FloatVector e = x.abs().neg().lanewise(VectorOperators.EXP);
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
            FloatVector y = x.lanewise(VectorOperators.TANH);
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
        FloatVector y = x.lanewise(VectorOperators.TANH);
        y.intoMemorySegment(out, (outOff + i) * Float.BYTES, O, m);
    }

    private static void tanhBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff,
                                     MemorySegment in, long inOff, long n, boolean acc) {
        long bound = S.loopBound(n);
        long i = 0;
        for (; i < bound; i += L) {
            FloatVector x = FloatVector.fromMemorySegment(S, in, (inOff + i) * Float.BYTES, O);
            FloatVector e = x.abs().mul(-2f).lanewise(VectorOperators.EXP);
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
        FloatVector e = x.abs().mul(-2f).lanewise(VectorOperators.EXP);
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
            FloatVector y = x.mul(FloatVector.broadcast(S, 1f).div(twoU.neg().lanewise(VectorOperators.EXP).add(1f)));
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
        FloatVector y = x.mul(FloatVector.broadcast(S, 1f).div(twoU.neg().lanewise(VectorOperators.EXP).add(1f)));
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
            FloatVector e = z.abs().neg().lanewise(VectorOperators.EXP);
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
        FloatVector e = z.abs().neg().lanewise(VectorOperators.EXP);
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
