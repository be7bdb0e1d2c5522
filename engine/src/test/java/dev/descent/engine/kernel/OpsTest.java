package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
}
