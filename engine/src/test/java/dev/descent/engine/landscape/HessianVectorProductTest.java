package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.Dropout;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ReferenceNet;
import dev.descent.engine.nn.Sequential;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The exact Hessian-vector product ({@link ExactHessian}, R-operator in double) against double-precision finite
 * differences of the loss: (H·v)_i = ∂²L/∂r∂w_i ≈ [L(w+hv+he_i) − L(w+hv−he_i) − L(w−hv+he_i) + L(w−hv−he_i)] / 4h²
 * with L from {@link ReferenceNet} (double). 300 rows: more than two of the product's 128-row chunks. Then the
 * power iteration with exact products and with the finite-difference fallback agree on λ_max.
 */
class HessianVectorProductTest {
    private static final int IN = 5;
    private static final int CLASSES = 3;
    private static final int ROWS = 300;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tanh + gelu, cross-entropy", Activation.TANH, Activation.GELU, LossKind.CROSS_ENTROPY),
                Arguments.of("sigmoid + tanh, mse", Activation.SIGMOID, Activation.TANH, LossKind.MSE),
                Arguments.of("relu + leaky relu, cross-entropy", Activation.RELU, Activation.LEAKY_RELU,
                        LossKind.CROSS_ENTROPY));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchDoublePrecisionFiniteDifferences(String name, Activation a1, Activation a2, LossKind lossKind) {
        float[] xs = new float[ROWS * IN];
        int[] labels = new int[ROWS];
        SplittableRandom rng = new SplittableRandom(5);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rng.nextGaussian();
        }
        for (int r = 0; r < ROWS; r++) {
            labels[r] = rng.nextInt(CLASSES);
        }
        try (Dataset d = Dataset.of("hvp", xs, labels, new int[]{IN}, CLASSES);
             Model m = Sequential.input(IN).add(new Linear(6)).add(new ActivationLayer(a1)).add(new Dropout(0.5))
                     .add(new Linear(4)).add(new ActivationLayer(a2)).add(new Linear(CLASSES)).build()
                     .initialize(Init.normal(0.6), Init.normal(0.3), 9)) {
            assertThat(ExactHessian.supports(m)).isTrue();
            double[] w = ReferenceNet.params(m);
            double[] x = new double[xs.length];
            for (int i = 0; i < xs.length; i++) {
                x[i] = xs[i];
            }
            double[] v = new double[w.length];
            for (var e : m.layout().entries()) {
                for (int i = 0; i < e.count(); i++) {
                    v[(int) e.offset() + i] = rng.nextGaussian();
                }
            }
            ExactHessian h = new ExactHessian(m, m.params().segment(), d, lossKind);
            double[] hv = new double[w.length];
            h.multiply(v, hv);
            assertThat(h.loss()).isCloseTo(ReferenceNet.loss(m, w, x, labels, ROWS, lossKind, false, 0, 0),
                    within(1e-12));
            double step = 1e-4;
            double maxRef = 0;
            double maxErr = 0;
            for (var e : m.layout().entries()) {
                for (int i = 0; i < e.count(); i++) {
                    int idx = (int) e.offset() + i;
                    double ref = (loss(m, w, v, idx, step, step, x, labels, lossKind)
                            - loss(m, w, v, idx, step, -step, x, labels, lossKind)
                            - loss(m, w, v, idx, -step, step, x, labels, lossKind)
                            + loss(m, w, v, idx, -step, -step, x, labels, lossKind)) / (4 * step * step);
                    assertThat(hv[idx]).as("%s (Hv)[%s + %d]", name, e.qualifiedName(), i)
                            .isCloseTo(ref, within(1e-6 + 1e-5 * Math.abs(ref)));
                    maxRef = Math.max(maxRef, Math.abs(ref));
                    maxErr = Math.max(maxErr, Math.abs(ref - hv[idx]));
                }
            }
            assertThat(maxRef).as("a non-trivial product").isGreaterThan(1e-2);
        }
    }

    @Test
    void shouldAgreeWithTheFiniteDifferenceFallbackAndReportConvergence() {
        float[] xs = new float[ROWS * IN];
        int[] labels = new int[ROWS];
        SplittableRandom rng = new SplittableRandom(6);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) rng.nextGaussian();
        }
        for (int r = 0; r < ROWS; r++) {
            labels[r] = rng.nextInt(CLASSES);
        }
        try (Dataset d = Dataset.of("hvp", xs, labels, new int[]{IN}, CLASSES);
             Model m = Sequential.input(IN).add(new Linear(8)).add(new ActivationLayer(Activation.TANH))
                     .add(new Linear(CLASSES)).build().initialize(Init.normal(0.8), Init.normal(0.3), 4)) {
            Sharpness.Settings s = new Sharpness.Settings(300, 1e-6, 1e-3, 0, 10, 1);
            Sharpness.Report exact = Sharpness.measure(() -> Model.fromSpec(m.spec()), m, m.params().segment(), d,
                    LossKind.CROSS_ENTROPY, 64, BnMode.RUNNING, Kernels.backend(), s);
            Sharpness.Report fd = Sharpness.measure(() -> Model.fromSpec(m.spec()), m, m.params().segment(), d,
                    LossKind.CROSS_ENTROPY, 64, BnMode.RUNNING, Kernels.backend(),
                    s.withMethod(Sharpness.HvpMethod.FINITE_DIFFERENCE).withTolerance(1e-4));
            assertThat(exact.method()).isEqualTo(Sharpness.HvpMethod.EXACT);
            assertThat(fd.method()).isEqualTo(Sharpness.HvpMethod.FINITE_DIFFERENCE);
            assertThat(exact.converged()).isTrue();
            assertThat(exact.lastRelativeChange()).isLessThanOrEqualTo(1e-6);
            assertThat(exact.topEigenvalue()).isPositive();
            assertThat(fd.topEigenvalue()).isCloseTo(exact.topEigenvalue(), within(1e-2 * exact.topEigenvalue()));
            // one iteration cannot converge (no previous estimate to compare with)
            Sharpness.Report once = Sharpness.measure(() -> Model.fromSpec(m.spec()), m, m.params().segment(), d,
                    LossKind.CROSS_ENTROPY, 64, BnMode.RUNNING, Kernels.backend(),
                    new Sharpness.Settings(1, 1e-6, 1e-3, 0, 10, 1));
            assertThat(once.converged()).isFalse();
            assertThat(once.iterations()).isEqualTo(1);
        }
    }

    @Test
    void shouldRefuseExactProductsForUnsupportedLayers() {
        try (Model m = Sequential.input(IN).add(new Linear(4)).add(new BatchNorm()).add(new Linear(CLASSES)).build()) {
            assertThat(Sharpness.exactSupported(m)).isFalse();
            assertThatThrownBy(() -> new ExactHessian(m, m.params().segment(), null, LossKind.MSE))
                    .hasMessageContaining("exact Hessian-vector products cover");
        }
    }

    /** L(w + a·v + b·e_idx) in double. */
    private static double loss(Model m, double[] w, double[] v, int idx, double a, double b, double[] x, int[] labels,
                               LossKind lossKind) {
        double[] p = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            p[i] = w[i] + a * v[i];
        }
        p[idx] += b;
        return ReferenceNet.loss(m, p, x, labels, ROWS, lossKind, false, 0, 0);
    }
}
