package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.kernel.scalar.ScalarOps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The non-GEMM kernels: exact values of the scalar reference against hand-computed numbers, then (further
 * below) the SIMD backend against the scalar reference on random inputs.
 */
class OpsTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    private final Arena arena = Arena.ofConfined();
    private final KernelBackend scalar = Kernels.scalar();

    @AfterEach
    void close() {
        arena.close();
    }

    private MemorySegment floats(float... values) {
        MemorySegment s = arena.allocate((long) Math.max(values.length, 1) * Float.BYTES, 64);
        for (int i = 0; i < values.length; i++) {
            s.setAtIndex(F, i, values[i]);
        }
        return s;
    }

    private MemorySegment ints(int... values) {
        MemorySegment s = arena.allocate((long) Math.max(values.length, 1) * Integer.BYTES, 64);
        for (int i = 0; i < values.length; i++) {
            s.setAtIndex(I, i, values[i]);
        }
        return s;
    }

    private static float at(MemorySegment s, long i) {
        return s.getAtIndex(F, i);
    }

    // ================================================================ scalar reference: exact values

    @Test
    void scalarSoftmaxOfZeroAndLn2ShouldBeOneThirdTwoThirds() {
        MemorySegment logits = floats(0f, (float) Math.log(2), 5f, 5f);
        MemorySegment probs = floats(0, 0, 0, 0);
        MemorySegment losses = floats(0, 0);
        double total = scalar.softmaxCrossEntropyForward(probs, 0, losses, 0, logits, 0, ints(1, 0), 0, 2, 2);
        assertThat(at(probs, 0)).isCloseTo(1f / 3, within(1e-7f));
        assertThat(at(probs, 1)).isCloseTo(2f / 3, within(1e-7f));
        assertThat(at(probs, 2)).isEqualTo(0.5f);
        assertThat(at(probs, 3)).isEqualTo(0.5f);
        assertThat(at(losses, 0)).isCloseTo((float) Math.log(1.5), within(1e-7f));
        assertThat(at(losses, 1)).isCloseTo((float) Math.log(2), within(1e-7f));
        assertThat(total).isCloseTo(Math.log(1.5) + Math.log(2), within(1e-6));
    }

    @Test
    void scalarSoftmaxShouldStayFiniteForHugeLogits() {
        MemorySegment logits = floats(1000f, 0f, -1000f);
        MemorySegment probs = floats(0, 0, 0);
        MemorySegment losses = floats(0);
        scalar.softmaxCrossEntropyForward(probs, 0, losses, 0, logits, 0, ints(2), 0, 1, 3);
        assertThat(at(probs, 0)).isEqualTo(1f);
        assertThat(at(probs, 2)).isEqualTo(0f);
        // -log p[2] = 2000 exactly, not +inf, because the loss is computed from the log-sum-exp.
        assertThat(at(losses, 0)).isEqualTo(2000f);
    }

    @Test
    void scalarSoftmaxBackwardShouldBeProbsMinusOneHotTimesScaleAndMayAlias() {
        MemorySegment probs = floats(0.25f, 0.75f, 0.5f, 0.5f);
        scalar.softmaxCrossEntropyBackward(probs, 0, probs, 0, ints(1, 0), 0, 2, 2, 0.5f);
        assertThat(new float[] {at(probs, 0), at(probs, 1), at(probs, 2), at(probs, 3)})
                .containsExactly(0.125f, -0.125f, -0.25f, 0.25f);
    }

    @Test
    void shouldRejectOutOfRangeLabel() {
        MemorySegment logits = floats(1f, 2f);
        assertThatThrownBy(() -> scalar.softmaxCrossEntropyForward(floats(0, 0), 0, floats(0), 0, logits, 0,
                ints(2), 0, 1, 2)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels[0]=2");
    }

    @Test
    void scalarActivationsShouldMatchHandComputedValues() {
        MemorySegment in = floats(1f, 0f, -2f);
        MemorySegment out = floats(0, 0, 0);
        scalar.activationForward(Activation.GELU, out, 0, in, 0, 3);
        assertThat(at(out, 0)).isCloseTo(0.841192f, within(1e-6f));
        assertThat(at(out, 1)).isEqualTo(0f);
        // 0.5 * -2 * (1 + tanh(sqrt(2/pi) * (-2 - 0.35772))) = -0.04540230591
        assertThat(at(out, 2)).isCloseTo(-0.0454023f, within(1e-6f));
        scalar.activationForward(Activation.LEAKY_RELU, out, 0, in, 0, 3);
        assertThat(at(out, 2)).isEqualTo(-0.02f);
        scalar.activationForward(Activation.SIGMOID, out, 0, in, 0, 3);
        assertThat(at(out, 1)).isEqualTo(0.5f);
        assertThat(at(out, 0)).isCloseTo(0.7310586f, within(1e-7f));
        scalar.activationForward(Activation.TANH, out, 0, in, 0, 3);
        assertThat(at(out, 0)).isCloseTo(0.7615942f, within(1e-7f));

        MemorySegment ones = floats(1f, 1f, 1f);
        scalar.activationBackward(Activation.SIGMOID, out, 0, ones, 0, in, 0, 3, false);
        assertThat(at(out, 1)).isEqualTo(0.25f);
        scalar.activationBackward(Activation.TANH, out, 0, ones, 0, in, 0, 3, false);
        assertThat(at(out, 1)).isEqualTo(1f);
        assertThat(at(out, 0)).isCloseTo(0.4199743f, within(1e-7f)); // sech²(1)
        scalar.activationBackward(Activation.RELU, out, 0, ones, 0, in, 0, 3, false);
        assertThat(new float[] {at(out, 0), at(out, 1), at(out, 2)}).containsExactly(1f, 0f, 0f);
        scalar.activationBackward(Activation.GELU, out, 0, ones, 0, in, 0, 3, false);
        assertThat(at(out, 1)).isEqualTo(0.5f);
        // d/dx GELU_tanh at 1: 0.5(1+t) + 0.5 x (1-t²) k (1+3c x²), t = tanh(0.8335704) = 0.6823835
        assertThat(at(out, 0)).isCloseTo(1.0829640f, within(1e-6f));
        // accumulate adds onto what is there: LEAKY' = [1, 0.01, 0.01]
        scalar.activationBackward(Activation.LEAKY_RELU, out, 0, ones, 0, in, 0, 3, true);
        assertThat(at(out, 1)).isEqualTo(0.51f);
    }

    @Test
    void scalarBiasShouldBroadcastAndReduceOverRows() {
        MemorySegment x = floats(1, 2, 3, 4, 5, 6); // [2, 3]
        scalar.biasAdd(x, 0, floats(10, 20, 30), 0, 2, 3);
        assertThat(new float[] {at(x, 0), at(x, 1), at(x, 2), at(x, 3), at(x, 4), at(x, 5)})
                .containsExactly(11, 22, 33, 14, 25, 36);
        MemorySegment db = floats(100, 100, 100);
        scalar.biasGrad(db, 0, x, 0, 2, 3, false);
        assertThat(new float[] {at(db, 0), at(db, 1), at(db, 2)}).containsExactly(25, 47, 69);
        scalar.biasGrad(db, 0, x, 0, 2, 3, true);
        assertThat(new float[] {at(db, 0), at(db, 1), at(db, 2)}).containsExactly(50, 94, 138);
    }

    @Test
    void scalarReductionsShouldMatchHandComputedValues() {
        MemorySegment x = floats(1, 2, 3, 4);
        MemorySegment y = floats(-1, 0.5f, 2, 0);
        assertThat(scalar.sum(x, 1, 3)).isEqualTo(9.0);
        assertThat(scalar.dot(x, 0, y, 0, 4)).isEqualTo(6.0);
        assertThat(scalar.sumSquares(x, 0, 4)).isEqualTo(30.0);
        assertThat(scalar.sum(x, 0, 0)).isEqualTo(0.0);
    }

    @Test
    void scalarSgdShouldApplyCoupledWeightDecay() {
        MemorySegment p = floats(2f);
        scalar.sgdUpdate(p, 0, floats(1f), 0, 0.1f, 0.5f, 1);
        assertThat(at(p, 0)).isCloseTo(1.8f, within(1e-7f)); // 2 - 0.1 * (1 + 0.5 * 2)
    }

    @Test
    void scalarMomentumShouldFollowThePyTorchFormula() {
        // torch.optim.SGD(lr=0.1, momentum=0.9, weight_decay=0.1), p=1, g=0.5 twice:
        // step 1: g'=0.6, v=0.6, p=1-0.06=0.94; step 2: g'=0.5+0.094=0.594, v=0.54+0.594=1.134, p=0.94-0.1134
        MemorySegment p = floats(1f);
        MemorySegment v = floats(0f);
        MemorySegment g = floats(0.5f);
        scalar.momentumUpdate(p, 0, g, 0, v, 0, 0.1f, 0.9f, 0.1f, false, 1);
        assertThat(at(p, 0)).isCloseTo(0.94f, within(1e-7f));
        scalar.momentumUpdate(p, 0, g, 0, v, 0, 0.1f, 0.9f, 0.1f, false, 1);
        assertThat(at(v, 0)).isCloseTo(1.134f, within(1e-6f));
        assertThat(at(p, 0)).isCloseTo(0.8266f, within(1e-6f));
        // nesterov=True, no decay: v=0.5, p -= 0.1 * (0.5 + 0.9 * 0.5) = 0.095
        MemorySegment q = floats(1f);
        MemorySegment w = floats(0f);
        scalar.momentumUpdate(q, 0, g, 0, w, 0, 0.1f, 0.9f, 0f, true, 1);
        assertThat(at(q, 0)).isCloseTo(0.905f, within(1e-7f));
    }

    @Test
    void scalarAdamFirstStepShouldMoveEachParameterByLrTimesSignOfGradient() {
        MemorySegment p = floats(1f, 1f, 1f, 1f);
        MemorySegment g = floats(3f, -0.02f, 1e-3f, -50f);
        MemorySegment m = floats(0, 0, 0, 0);
        MemorySegment v = floats(0, 0, 0, 0);
        scalar.adamUpdate(p, 0, g, 0, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, 0f, false, 1, 4);
        // bias-corrected m̂ = g, v̂ = g², so the step is lr * g / (|g| + eps) = lr * sign(g) (up to eps/|g|)
        assertThat(at(p, 0)).isCloseTo(0.99f, within(1e-6f));
        assertThat(at(p, 1)).isCloseTo(1.01f, within(1e-6f));
        assertThat(at(p, 2)).isCloseTo(0.99f, within(1e-6f));
        assertThat(at(p, 3)).isCloseTo(1.01f, within(1e-6f));
        assertThat(at(m, 0)).isCloseTo(0.3f, within(1e-6f));
        // v = (1 - b2) g² with b2 the float 0.999f (= 0.99900001287...), hence not exactly 0.009
        assertThat(at(v, 0)).isEqualTo((float) ((1.0 - 0.999f) * 9.0));
    }

    @Test
    void scalarAdamWShouldDecayDecoupledFromTheGradient() {
        // zero gradient: the Adam step is 0 / (0 + eps) = 0, so only the decoupled decay acts: p *= 1 - lr*wd
        MemorySegment p = floats(2f);
        scalar.adamUpdate(p, 0, floats(0f), 0, floats(0f), 0, floats(0f), 0, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f,
                true, 1, 1);
        assertThat(at(p, 0)).isCloseTo(1.9f, within(1e-7f));
        // coupled (Adam + L2): g' = wd * p = 1, first step moves by lr * sign(g') = 0.1
        MemorySegment q = floats(2f);
        scalar.adamUpdate(q, 0, floats(0f), 0, floats(0f), 0, floats(0f), 0, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f,
                false, 1, 1);
        assertThat(at(q, 0)).isCloseTo(1.9f, within(1e-6f));
    }

    @Test
    void scalarBlasOneShouldMatchHandComputedValuesAndHonourOffsets() {
        MemorySegment y = floats(1, 2, 3);
        scalar.axpy(y, 1, 2f, floats(9, 10, 20), 1, 2);
        assertThat(new float[] {at(y, 0), at(y, 1), at(y, 2)}).containsExactly(1, 22, 43);
        scalar.scale(y, 0, 0.5f, 2);
        assertThat(new float[] {at(y, 0), at(y, 1), at(y, 2)}).containsExactly(0.5f, 11, 43);
        scalar.mul(y, 0, y, 0, floats(2, 3, 4), 0, 3);
        assertThat(new float[] {at(y, 0), at(y, 1), at(y, 2)}).containsExactly(1, 33, 172);
        scalar.add(y, 0, floats(1, 1, 1), 0, y, 0, 3);
        assertThat(new float[] {at(y, 0), at(y, 1), at(y, 2)}).containsExactly(2, 34, 173);
    }

    // ================================================================ SIMD against the scalar reference

    /** Sizes with every tail length class: < 1 vector, odd, > 1 vector, 2^k - 1, 2^k + 1. */
    private static final int[] SIZES = {1, 7, 17, 31, 1023, 4097};
    /** Offsets (in floats) that misalign every operand differently. */
    private static final long OFF_A = 3;
    private static final long OFF_B = 5;
    private static final long OFF_OUT = 7;
    /** One float ulp at 1.0 is 2^-23; the unit roundoff u = 2^-24. */
    private static final double U = 0x1p-24;

    private final KernelBackend simd = Kernels.simd();
    private final Random rnd = new Random(42);

    /** off + n floats (plus a guard word either side that must stay untouched), uniform in [lo, hi). */
    private MemorySegment random(long off, long n, double lo, double hi) {
        MemorySegment s = arena.allocate((off + n + 1) * Float.BYTES, 64);
        for (long i = 0; i < off + n + 1; i++) {
            s.setAtIndex(F, i, (float) (lo + (hi - lo) * rnd.nextDouble()));
        }
        return s;
    }

    private MemorySegment copy(MemorySegment s) {
        return arena.allocate(s.byteSize(), 64).copyFrom(s);
    }

    /** Asserts |actual - expected| <= rel |expected| + abs element by element, and untouched guard words. */
    private static void assertClose(String what, MemorySegment actual, MemorySegment expected, long off, long n,
                                    double rel, double abs) {
        for (long i = 0; i < off + n + 1; i++) {
            float a = actual.getAtIndex(F, i);
            float e = expected.getAtIndex(F, i);
            if (i < off || i >= off + n) {
                assertThat(a).as("%s: guard word [%d] was written", what, i).isEqualTo(e);
                continue;
            }
            double tol = rel * Math.abs(e) + abs;
            if (!(Math.abs((double) a - e) <= tol)) {
                throw new AssertionError(what + ": at [" + (i - off) + "] of " + n + " simd=" + a + " scalar=" + e
                        + " diff=" + Math.abs((double) a - e) + " > tol=" + tol);
            }
        }
    }

    private static void assertExact(String what, MemorySegment actual, MemorySegment expected) {
        assertThat(actual.mismatch(expected)).as("%s: first differing byte", what).isEqualTo(-1L);
    }

    @Test
    void combineShouldRoundExactlyLikeACopyAndTwoAxpysOnEachBackend() {
        for (KernelBackend k : new KernelBackend[] {scalar, simd}) {
            for (int n : SIZES) {
                MemorySegment x = random(OFF_A, n, -2, 2);
                MemorySegment y = random(OFF_B, n, -1, 1);
                MemorySegment z = random(OFF_A, n, -1, 1);
                MemorySegment expected = copy(x);
                k.axpy(expected, OFF_A, -0.73f, y, OFF_B, n);
                k.axpy(expected, OFF_A, 0.31f, z, OFF_A, n);
                MemorySegment out = random(OFF_B, n, -9, 9);
                k.combine(out, OFF_B, x, OFF_A, -0.73f, y, OFF_B, 0.31f, z, OFF_A, n);
                long bytes = (long) n * Float.BYTES;
                assertThat(out.asSlice(OFF_B * Float.BYTES, bytes).mismatch(expected.asSlice(OFF_A * Float.BYTES,
                        bytes))).as("%s combine n=%d", k.name(), n).isEqualTo(-1L);

                MemorySegment one = copy(x);
                k.axpy(one, OFF_A, 1.7f, y, OFF_B, n);
                MemorySegment aliased = copy(x);
                k.combine(aliased, OFF_A, aliased, OFF_A, 1.7f, y, OFF_B, 5f, null, 0, n);
                assertExact(k.name() + " combine without z, in place, n=" + n, aliased, one);
            }
        }
    }

    @Test
    void simdElementwiseShouldMatchScalarIncludingAliasing() {
        for (int n : SIZES) {
            MemorySegment x = random(OFF_A, n, -1, 1);
            MemorySegment y = random(OFF_B, n, -1, 1);
            MemorySegment ySimd = copy(y);
            scalar.axpy(y, OFF_B, 0.37f, x, OFF_A, n);
            simd.axpy(ySimd, OFF_B, 0.37f, x, OFF_A, n);
            // scalar rounds alpha*x then the sum, simd rounds once (fma): <= 1 ulp of |y| + |alpha x| <= 2
            assertClose("axpy n=" + n, ySimd, y, OFF_B, n, 0, 2 * 2 * U * 2);

            // one IEEE operation per element in both: bit-identical
            MemorySegment a = random(OFF_A, n, -3, 3);
            MemorySegment b = random(OFF_A, n, -3, 3);
            MemorySegment aS = copy(a);
            scalar.scale(a, OFF_A, -1.7f, n);
            simd.scale(aS, OFF_A, -1.7f, n);
            assertExact("scale n=" + n, aS, a);
            MemorySegment out = random(OFF_OUT, n, 0, 1);
            MemorySegment outS = copy(out);
            scalar.mul(out, OFF_OUT, a, OFF_A, b, OFF_A, n);
            simd.mul(outS, OFF_OUT, a, OFF_A, b, OFF_A, n);
            assertExact("mul n=" + n, outS, out);
            scalar.add(out, OFF_OUT, a, OFF_A, b, OFF_A, n);
            simd.add(outS, OFF_OUT, a, OFF_A, b, OFF_A, n);
            assertExact("add n=" + n, outS, out);
            // aliasing: out == a, then out == b
            aS = copy(a);
            MemorySegment bS = copy(b);
            scalar.mul(a, OFF_A, a, OFF_A, b, OFF_A, n);
            simd.mul(aS, OFF_A, aS, OFF_A, bS, OFF_A, n);
            assertExact("mul aliased n=" + n, aS, a);
            scalar.add(b, OFF_A, a, OFF_A, b, OFF_A, n);
            simd.add(bS, OFF_A, aS, OFF_A, bS, OFF_A, n);
            assertExact("add aliased n=" + n, bS, b);
        }
    }

    @Test
    void simdBiasShouldMatchScalar() {
        for (int cols : SIZES) {
            for (int rows : new int[] {1, 2, 17}) {
                MemorySegment x = random(OFF_A, (long) rows * cols, -1, 1);
                MemorySegment bias = random(OFF_B, cols, -1, 1);
                MemorySegment xS = copy(x);
                scalar.biasAdd(x, OFF_A, bias, OFF_B, rows, cols);
                simd.biasAdd(xS, OFF_A, bias, OFF_B, rows, cols);
                assertExact("biasAdd " + rows + "x" + cols, xS, x);

                for (boolean acc : new boolean[] {false, true}) {
                    MemorySegment db = random(OFF_OUT, cols, -1, 1);
                    MemorySegment dbS = copy(db);
                    scalar.biasGrad(db, OFF_OUT, x, OFF_A, rows, cols, acc);
                    simd.biasGrad(dbS, OFF_OUT, x, OFF_A, rows, cols, acc);
                    // simd sums the rows in float: error <= (rows + 1) u Σ|terms|, |terms| <= 2, plus the
                    // final rounding of the double reference (u |result|)
                    double bound = (rows + 2) * U * 2 * (rows + 1);
                    assertClose("biasGrad " + rows + "x" + cols + " acc=" + acc, dbS, db, OFF_OUT, cols, U, bound);
                }
            }
        }
    }

    /**
     * Tolerances of the transcendental activations: the vector exp has relative error <= ~2.4e-7 (measured by
     * {@link #simdActivationsShouldBeAccurateOverADenseSweep}); sigmoid, tanh, GELU and the derivatives add a
     * few roundings in cancellation-free forms, so 2e-6 relative is ~8x the measured worst case; the absolute
     * 2e-7 (about 2 ulp of 1) covers values that the float evaluation of GELU's argument makes ill-conditioned
     * (x < -3, where the result itself is < 4e-3 and its relative error grows like |2u| ulp).
     */
    private static final double ACT_REL = 2e-6;
    private static final double ACT_ABS = 2e-7;

    @Test
    void simdActivationsShouldMatchScalarForwardBackwardAliasedAndAccumulating() {
        for (Activation act : Activation.values()) {
            boolean exact = act == Activation.IDENTITY || act == Activation.RELU || act == Activation.LEAKY_RELU;
            double rel = exact ? 0 : ACT_REL;
            double abs = exact ? 0 : ACT_ABS;
            for (int n : SIZES) {
                MemorySegment in = random(OFF_A, n, -6, 6);
                MemorySegment out = random(OFF_OUT, n, 0, 1);
                MemorySegment outS = copy(out);
                scalar.activationForward(act, out, OFF_OUT, in, OFF_A, n);
                simd.activationForward(act, outS, OFF_OUT, in, OFF_A, n);
                assertClose(act + " forward n=" + n, outS, out, OFF_OUT, n, rel, abs);

                MemorySegment inPlace = copy(in);
                simd.activationForward(act, inPlace, OFF_A, inPlace, OFF_A, n);
                assertClose(act + " forward in place n=" + n, inPlace, shifted(in, outS, OFF_OUT, OFF_A, n),
                        OFF_A, n, 0, 0);

                MemorySegment dOut = random(OFF_B, n, -1, 1);
                for (boolean acc : new boolean[] {false, true}) {
                    MemorySegment dIn = random(OFF_OUT, n, -1, 1);
                    MemorySegment dInS = copy(dIn);
                    scalar.activationBackward(act, dIn, OFF_OUT, dOut, OFF_B, in, OFF_A, n, acc);
                    simd.activationBackward(act, dInS, OFF_OUT, dOut, OFF_B, in, OFF_A, n, acc);
                    // accumulate: simd fuses dOut*f' + dIn into one rounding, the reference rounds the double
                    // sum once: <= 1 ulp of |dIn| + |dOut f'| <= 2 apart even for the exact activations
                    assertClose(act + " backward acc=" + acc + " n=" + n, dInS, dIn, OFF_OUT, n, rel,
                            abs + (acc ? 2 * 2 * U * 2 : 0));
                }
                // dIn aliasing dOut (accumulate false)
                MemorySegment expected = random(OFF_OUT, n, 0, 1);
                simd.activationBackward(act, expected, OFF_OUT, dOut, OFF_B, in, OFF_A, n, false);
                MemorySegment alias = copy(dOut);
                simd.activationBackward(act, alias, OFF_B, alias, OFF_B, in, OFF_A, n, false);
                assertClose(act + " backward aliased n=" + n, alias, shifted(dOut, expected, OFF_OUT, OFF_B, n),
                        OFF_B, n, 0, 0);
            }
        }
    }

    /** A copy of base with values[from, from+n) written over [to, to+n): what an in-place call must produce. */
    private MemorySegment shifted(MemorySegment base, MemorySegment values, long from, long to, long n) {
        MemorySegment t = copy(base);
        MemorySegment.copy(values, from * Float.BYTES, t, to * Float.BYTES, n * Float.BYTES);
        return t;
    }

    @Test
    void simdActivationsShouldBeAccurateOverADenseSweep() {
        // 400,001 points in [-100, 100] step 5e-4: covers exp's under- and overflow, tiny tanh arguments,
        // denormal and saturated outputs. Relative error against the double formula wherever the result is
        // not tiny (|f| > 1e-30; below that, flushing to 0 is an absolute error < 1e-30).
        int n = 400_001;
        MemorySegment in = arena.allocate((long) n * Float.BYTES, 64);
        for (int i = 0; i < n; i++) {
            in.setAtIndex(F, i, (float) (-100 + i * 5e-4));
        }
        MemorySegment out = arena.allocate((long) n * Float.BYTES, 64);
        MemorySegment ones = arena.allocate((long) n * Float.BYTES, 64);
        for (int i = 0; i < n; i++) {
            ones.setAtIndex(F, i, 1f);
        }
        Map<String, Double> worst = new LinkedHashMap<>();
        for (Activation act : new Activation[] {Activation.SIGMOID, Activation.TANH, Activation.GELU}) {
            simd.activationForward(act, out, 0, in, 0, n);
            double maxRel = 0;
            for (int i = 0; i < n; i++) {
                double x = in.getAtIndex(F, i);
                double ref = ScalarOps.forward(act, x);
                if (act == Activation.GELU) {
                    ref = x / (1 + Math.exp(-2 * 0.7978845608028654 * (x + 0.044715 * x * x * x))); // no cancellation
                }
                double got = out.getAtIndex(F, i);
                if (Math.abs(ref) > 1e-30) {
                    // GELU's argument 2u is itself rounded in float: allow |2u| ulp on top
                    double cond = act == Activation.GELU ? 1 + Math.abs(1.6 * (x + 0.044715 * x * x * x)) : 1;
                    maxRel = Math.max(maxRel, Math.abs(got - ref) / Math.abs(ref) / cond);
                } else {
                    assertThat(Math.abs(got)).as("%s(%s)", act, x).isLessThan(1e-30);
                }
            }
            worst.put(act + " forward", maxRel);
            simd.activationBackward(act, out, 0, ones, 0, in, 0, n, false);
            double maxRelD = 0;
            for (int i = 0; i < n; i++) {
                double x = in.getAtIndex(F, i);
                // GELU' from σ(2u) in double: the 0.5 (1 + tanh u) of the reference cancels for x < -5 even in double
                double ref = act == Activation.GELU ? geluGradStable(x) : ScalarOps.derivative(act, x);
                double got = out.getAtIndex(F, i);
                if (Math.abs(ref) > 1e-30) {
                    // relative to the magnitude of the terms (GELU' = σ + x σ(1-σ) 2u' crosses 0 near x = -0.75,
                    // where float rounding of two O(0.1) terms leaves an absolute, not relative, error), per unit
                    // of the argument's condition (e^-x, e^-2|x|, e^-2u are rounded arguments: |arg| ulp)
                    double terms = act == Activation.GELU ? geluTerms(x) : Math.abs(ref);
                    double cond = act == Activation.SIGMOID ? 1 + Math.abs(x)
                            : act == Activation.TANH ? 1 + 2 * Math.abs(x) : 1 + 2 * Math.abs(x) * (1 + x * x);
                    maxRelD = Math.max(maxRelD, Math.abs(got - ref) / terms / cond);
                } else {
                    assertThat(Math.abs(got)).as("%s'(%s)", act, x).isLessThan(1e-30);
                }
            }
            worst.put(act + " backward", maxRelD);
        }
        System.out.println("simd activation worst relative error (in units of the argument's condition): " + worst);
        // a few ulp (2^-23 each) per unit of condition: exp and tanh ~0.5 ulp, then 1-3 more roundings
        assertThat(worst.get("SIGMOID forward")).isLessThan(4 * 2 * U);
        assertThat(worst.get("TANH forward")).isLessThan(2 * 2 * U);
        assertThat(worst.get("GELU forward")).isLessThan(6 * 2 * U);
        assertThat(worst.values()).allSatisfy(e -> assertThat(e).isLessThan(ACT_REL));
    }

    private static double geluGradStable(double x) {
        double k = Math.sqrt(2 / Math.PI);
        double z = 2 * k * (x + 0.044715 * x * x * x);
        double e = Math.exp(-Math.abs(z));
        double q = 1 / (1 + e);
        double s = z >= 0 ? q : e * q;
        return s + x * e * q * q * 2 * k * (1 + 3 * 0.044715 * x * x);
    }

    /** |σ(2u)| + |x σ(2u)(1-σ(2u)) 2u'|: the two terms of GELU'. */
    private static double geluTerms(double x) {
        double k = Math.sqrt(2 / Math.PI);
        double e = Math.exp(-2 * k * (x + 0.044715 * x * x * x));
        double s = 1 / (1 + e);
        double ds = Double.isInfinite(e) ? 0 : e / ((1 + e) * (1 + e));
        return s + Math.abs(x * ds * 2 * k * (1 + 3 * 0.044715 * x * x));
    }

    @Test
    void simdReductionsShouldMatchScalarToDoubleRounding() {
        for (int n : SIZES) {
            MemorySegment x = random(OFF_A, n, -1, 1);
            MemorySegment y = random(OFF_B, n, -1, 1);
            double absSum = 0;
            for (long i = 0; i < n; i++) {
                absSum += Math.abs(x.getAtIndex(F, OFF_A + i));
            }
            // both accumulate exact terms in double, in different orders: |Δ| <= 2 n 2^-53 Σ|term|
            double tol = 2.0 * n * 0x1p-53 * Math.max(absSum, 1);
            assertThat(simd.sum(x, OFF_A, n)).as("sum n=%d", n).isCloseTo(scalar.sum(x, OFF_A, n), within(tol));
            assertThat(simd.dot(x, OFF_A, y, OFF_B, n)).as("dot n=%d", n)
                    .isCloseTo(scalar.dot(x, OFF_A, y, OFF_B, n), within(tol));
            assertThat(simd.sumSquares(x, OFF_A, n)).as("sumSquares n=%d", n)
                    .isCloseTo(scalar.sumSquares(x, OFF_A, n), within(tol));
        }
        // a sum float accumulation would get wrong: 2^24 followed by many ones
        int n = 4097;
        MemorySegment x = arena.allocate((long) n * Float.BYTES, 64);
        x.setAtIndex(F, 0, 0x1p24f);
        for (int i = 1; i < n; i++) {
            x.setAtIndex(F, i, 1f);
        }
        assertThat(simd.sum(x, 0, n)).isEqualTo(0x1p24 + n - 1);
        assertThat(simd.sum(x, 0, 0)).isEqualTo(0.0);
    }

    @Test
    void simdSoftmaxCrossEntropyShouldMatchScalar() {
        for (int cols : SIZES) {
            for (int rows : new int[] {1, 3, 17}) {
                if ((long) rows * cols > 20_000) {
                    continue;
                }
                MemorySegment logits = random(OFF_A, (long) rows * cols, -8, 8);
                int[] lab = new int[rows + 2];
                for (int r = 0; r < rows; r++) {
                    lab[r + 2] = rnd.nextInt(cols);
                }
                MemorySegment labels = ints(lab);
                MemorySegment probs = random(OFF_OUT, (long) rows * cols, 0, 1);
                MemorySegment probsS = copy(probs);
                MemorySegment losses = random(OFF_B, rows, 0, 1);
                MemorySegment lossesS = copy(losses);
                double total = scalar.softmaxCrossEntropyForward(probs, OFF_OUT, losses, OFF_B, logits, OFF_A,
                        labels, 2, rows, cols);
                double totalS = simd.softmaxCrossEntropyForward(probsS, OFF_OUT, lossesS, OFF_B, logits, OFF_A,
                        labels, 2, rows, cols);
                // float sum of cols positive terms: <= (cols/8 + 8) u relative (for any vector width >= 4 lanes),
                // exp ~2 ulp, x - max rounded in float: |x - max| <= 16 ulp of exp's argument
                double sumRel = (cols / 8.0 + 8) * U;
                double probRel = sumRel + (4 + 16) * 2 * U;
                assertClose("probs " + rows + "x" + cols, probsS, probs, OFF_OUT, (long) rows * cols, probRel, 1e-30);
                // loss = log(sum) - (x_l - max): |Δ| <= relative error of the sum, plus rounding to float
                assertClose("losses " + rows + "x" + cols, lossesS, losses, OFF_B, rows, 2 * U, sumRel + U);
                assertThat(totalS).isCloseTo(total, within(rows * (sumRel + 2 * U * 30)));

                MemorySegment d = random(OFF_B, (long) rows * cols, 0, 1);
                MemorySegment dS = copy(d);
                scalar.softmaxCrossEntropyBackward(d, OFF_B, probs, OFF_OUT, labels, 2, rows, cols, 1f / rows);
                simd.softmaxCrossEntropyBackward(dS, OFF_B, probs, OFF_OUT, labels, 2, rows, cols, 1f / rows);
                assertExact("softmax backward " + rows + "x" + cols, dS, d);
                // aliased: dLogits == probs
                MemorySegment pS = copy(probs);
                scalar.softmaxCrossEntropyBackward(probs, OFF_OUT, probs, OFF_OUT, labels, 2, rows, cols, 0.5f);
                simd.softmaxCrossEntropyBackward(pS, OFF_OUT, pS, OFF_OUT, labels, 2, rows, cols, 0.5f);
                assertExact("softmax backward aliased " + rows + "x" + cols, pS, probs);
            }
        }
    }

    @Test
    void simdSoftmaxShouldStayFiniteForHugeLogitsAndRejectBadLabels() {
        MemorySegment logits = floats(1000f, 0f, -1000f, 3f);
        MemorySegment probs = floats(0, 0, 0, 0);
        MemorySegment losses = floats(0);
        double total = simd.softmaxCrossEntropyForward(probs, 0, losses, 0, logits, 0, ints(2), 0, 1, 3);
        assertThat(at(probs, 0)).isEqualTo(1f);
        assertThat(at(probs, 2)).isEqualTo(0f);
        assertThat(total).isEqualTo(2000.0);
        assertThat(at(probs, 3)).as("next row untouched").isEqualTo(0f);
        assertThatThrownBy(() -> simd.softmaxCrossEntropyForward(probs, 0, losses, 0, logits, 0, ints(-1), 0, 1, 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("labels[0]=-1");
    }

    @Test
    void simdOptimizersShouldMatchScalar() {
        for (int n : SIZES) {
            for (boolean flag : new boolean[] {false, true}) {
                // Inputs in [-1, 1] (v in [0, 1)); each simd value carries <= ~6 float roundings of quantities
                // <= 2 in magnitude, so 8 ulp of the magnitude bounds it: see each comment
                MemorySegment p = random(OFF_A, n, -1, 1);
                MemorySegment g = random(OFF_B, n, -1, 1);
                MemorySegment pS = copy(p);
                scalar.sgdUpdate(p, OFF_A, g, OFF_B, 0.1f, flag ? 0.01f : 0f, n);
                simd.sgdUpdate(pS, OFF_A, g, OFF_B, 0.1f, flag ? 0.01f : 0f, n);
                // two fmas: u |g'| lr + u |p| <= 2u
                assertClose("sgd n=" + n, pS, p, OFF_A, n, 0, 2 * U);

                MemorySegment vel = random(OFF_OUT, n, -1, 1);
                MemorySegment velS = copy(vel);
                scalar.momentumUpdate(p, OFF_A, g, OFF_B, vel, OFF_OUT, 0.1f, 0.9f, 0.01f, flag, n);
                simd.momentumUpdate(pS, OFF_A, g, OFF_B, velS, OFF_OUT, 0.1f, 0.9f, 0.01f, flag, n);
                // g' (|g'| <= 1.01) and v (|v| <= 1.91) each rounded once: v within 2 ulp of 2; p within lr *
                // (error of the nesterov term <= 4 ulp of 4) + 1 ulp of 1, plus the inputs' earlier 2u
                assertClose("momentum velocity nesterov=" + flag + " n=" + n, velS, vel, OFF_OUT, n, 0, 8 * U);
                assertClose("momentum params nesterov=" + flag + " n=" + n, pS, p, OFF_A, n, 0, 8 * U);

                MemorySegment m = random(OFF_OUT, n, -0.1, 0.1);
                MemorySegment v = random(OFF_B + 2, n, 0.0001, 0.01);
                MemorySegment mS = copy(m);
                MemorySegment vS = copy(v);
                MemorySegment before = copy(pS);
                for (long step : new long[] {1, 2, 1000}) {
                    scalar.adamUpdate(p, OFF_A, g, OFF_B, m, OFF_OUT, v, OFF_B + 2, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f,
                            flag, step, n);
                    simd.adamUpdate(pS, OFF_A, g, OFF_B, mS, OFF_OUT, vS, OFF_B + 2, 1e-3f, 0.9f, 0.999f, 1e-8f,
                            0.01f, flag, step, n);
                }
                // m, v: two roundings each per step, magnitudes <= 1; the update lr m̂ / (sqrt(v̂) + eps) is
                // |m̂/sqrt(v̂)| <= ~100 with ~8 roundings: lr * 100 * 8 ulp, plus 2 ulp of |p| <= 1.1 per step
                assertClose("adam m decoupled=" + flag + " n=" + n, mS, m, OFF_OUT, n, 4 * U, 4 * U);
                assertClose("adam v decoupled=" + flag + " n=" + n, vS, v, OFF_B + 2, n, 8 * U, 1e-12);
                assertClose("adam params decoupled=" + flag + " n=" + n, pS, p, OFF_A, n, 0,
                        3 * (1e-3 * 100 * 16 * U + 4 * U));
                assertThat(pS.mismatch(before)).as("adam moved the parameters").isNotEqualTo(-1L);
            }
        }
    }

    @Test
    void simdAdamFirstStepShouldMoveByLrTimesSign() {
        MemorySegment p = floats(1f, 1f, 1f, 1f, 1f);
        MemorySegment g = floats(3f, -0.02f, 1e-3f, -50f, 0.5f);
        MemorySegment m = floats(0, 0, 0, 0, 0);
        MemorySegment v = floats(0, 0, 0, 0, 0);
        simd.adamUpdate(p, 0, g, 0, m, 0, v, 0, 0.01f, 0.9f, 0.999f, 1e-8f, 0f, false, 1, 5);
        float[] expected = {0.99f, 1.01f, 0.99f, 1.01f, 0.99f};
        for (int i = 0; i < 5; i++) {
            assertThat(at(p, i)).isCloseTo(expected[i], within(1e-6f));
        }
    }

    // ================================================================ no allocation

    @Test
    void simdKernelsShouldNotAllocateAfterWarmUp() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int n = 1023; // body and masked tail
        MemorySegment a = random(OFF_A, n, -1, 1);
        MemorySegment b = random(OFF_A, n, -1, 1);
        MemorySegment c = random(OFF_A, n, -1, 1);
        MemorySegment d = random(OFF_A, n, 0, 1);
        MemorySegment labels = ints(new int[31]);
        Map<String, Runnable> kernels = new LinkedHashMap<>();
        kernels.put("biasAdd", () -> simd.biasAdd(a, OFF_A, b, OFF_A, 31, 33));
        kernels.put("biasGrad", () -> simd.biasGrad(c, OFF_A, a, OFF_A, 31, 33, true));
        for (Activation act : Activation.values()) {
            kernels.put(act + " forward", () -> simd.activationForward(act, c, OFF_A, a, OFF_A, n));
            kernels.put(act + " backward", () -> simd.activationBackward(act, c, OFF_A, b, OFF_A, a, OFF_A, n, true));
        }
        kernels.put("axpy", () -> simd.axpy(c, OFF_A, 1e-3f, a, OFF_A, n));
        kernels.put("combine", () -> simd.combine(c, OFF_A, a, OFF_A, 1e-3f, b, OFF_A, -1e-3f, d, OFF_A, n));
        kernels.put("scale", () -> simd.scale(c, OFF_A, 0.999f, n));
        kernels.put("mul", () -> simd.mul(c, OFF_A, a, OFF_A, b, OFF_A, n));
        kernels.put("add", () -> simd.add(c, OFF_A, a, OFF_A, b, OFF_A, n));
        kernels.put("sum", () -> simd.sum(a, OFF_A, n));
        kernels.put("dot", () -> simd.dot(a, OFF_A, b, OFF_A, n));
        kernels.put("sumSquares", () -> simd.sumSquares(a, OFF_A, n));
        kernels.put("unitBytesToFloats", () -> simd.unitBytesToFloats(b, 5, c, OFF_A, n));
        kernels.put("softmaxCE forward", () -> simd.softmaxCrossEntropyForward(c, OFF_A, d, OFF_A, a, OFF_A, labels, 0,
                31, 33));
        kernels.put("softmaxCE backward", () -> simd.softmaxCrossEntropyBackward(c, OFF_A, d, OFF_A, labels, 0, 31, 33,
                0.1f));
        kernels.put("sgd", () -> simd.sgdUpdate(c, OFF_A, b, OFF_A, 1e-4f, 1e-4f, n));
        kernels.put("momentum", () -> simd.momentumUpdate(c, OFF_A, b, OFF_A, d, OFF_A, 1e-4f, 0.9f, 1e-4f, true, n));
        kernels.put("adam", () -> simd.adamUpdate(c, OFF_A, b, OFF_A, a, OFF_A, d, OFF_A, 1e-4f, 0.9f, 0.999f, 1e-8f,
                1e-4f, true, 7, n));

        // Any allocation per call costs at least one 16-byte object, i.e. >= 32,000 bytes per 2,000 calls; the
        // 1,024-byte slack only absorbs one-off runtime bookkeeping (e.g. a JIT deoptimization in the window).
        // JIT timing is not deterministic, so a kernel gets up to 40 rounds of warm-up to reach its C2 code.
        long slack = 1024;
        int calls = 2000;
        List<String> failures = new ArrayList<>();
        long tid = Thread.currentThread().threadId();
        for (Map.Entry<String, Runnable> k : kernels.entrySet()) {
            Runnable kernel = k.getValue();
            long best = Long.MAX_VALUE;
            for (int round = 0; round < 40 && best > slack; round++) {
                for (int i = 0; i < calls; i++) {
                    kernel.run();
                }
                long before = threads.getThreadAllocatedBytes(tid);
                for (int i = 0; i < calls; i++) {
                    kernel.run();
                }
                best = Math.min(best, threads.getThreadAllocatedBytes(tid) - before);
            }
            if (best > slack) {
                failures.add(k.getKey() + " allocated " + best + " bytes over " + calls + " calls");
            }
        }
        assertThat(failures).isEmpty();
    }
}
