package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.optim.Optimizer;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.optim.Sam;
import dev.descent.engine.train.GradientPass;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SAM's two-pass step against a double-precision reference: the reference takes the batch gradient g at w by
 * central finite differences of {@link ReferenceNet} (double), forms ε = ρ·g/‖g‖ (ASAM: ρ·T²g/‖Tg‖, T = |w| + η
 * on weights, 1 on biases), and differentiates again at w + ε. The engine's gradient slab after a SAM pass must
 * match that, under every backprop strategy and with Dropout (both passes share one mask), while the parameters
 * stay at w.
 */
class SamGradientCheckTest {
    private static final int BATCH = 4;
    private static final int IN = 6;
    private static final int CLASSES = 4;
    private static final long SEED = 42;
    private static final long STEP = 3;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("sam vanilla", false, BackpropStrategy.VANILLA, LossKind.CROSS_ENTROPY),
                Arguments.of("sam recompute", false, BackpropStrategy.RECOMPUTE, LossKind.CROSS_ENTROPY),
                Arguments.of("sam checkpointed", false, BackpropStrategy.checkpointed(2), LossKind.CROSS_ENTROPY),
                Arguments.of("sam mse", false, BackpropStrategy.VANILLA, LossKind.MSE),
                Arguments.of("asam vanilla", true, BackpropStrategy.VANILLA, LossKind.CROSS_ENTROPY),
                Arguments.of("asam recompute", true, BackpropStrategy.RECOMPUTE, LossKind.MSE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchDoublePrecisionTwoPassReference(String name, boolean adaptive, BackpropStrategy strategy,
                                                    LossKind lossKind) {
        KernelBackend k = Kernels.scalar();
        double rho = adaptive ? 0.5 : 0.3; // large enough that g(w + ε) differs clearly from g(w)
        Optimizer sam = adaptive ? Optimizers.asam(Optimizers.sgd(0.1), rho) : Optimizers.sam(Optimizers.sgd(0.1), rho);
        try (Model m = Sequential.input(IN).add(new Linear(7)).add(new ActivationLayer(Activation.TANH))
                .add(new Dropout(0.25)).add(new Linear(5)).add(new ActivationLayer(Activation.GELU))
                .add(new Linear(CLASSES)).build().initialize(Init.normal(0.5), Init.normal(0.3), 3);
             GradientPass pass = new GradientPass(m, k, lossKind, strategy, BATCH, 1, SEED, sam);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * IN, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) BATCH * Integer.BYTES, Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(11);
            double[] xs = new double[BATCH * IN];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rng.nextGaussian();
                x.setFloat(i, (float) xs[i]);
            }
            int[] labels = new int[BATCH];
            for (int r = 0; r < BATCH; r++) {
                labels[r] = rng.nextInt(CLASSES);
                y.segment().setAtIndex(ValueLayout.JAVA_INT, r, labels[r]);
            }
            double[] w = ReferenceNet.params(m);
            double loss = pass.run(x.segment(), 0, y.segment(), 0, BATCH, STEP);

            double[] g = gradient(m, w, xs, labels, lossKind);
            double[] eps = epsilon(m, w, g, rho, adaptive);
            double[] we = w.clone();
            double epsNorm = 0;
            for (int i = 0; i < we.length; i++) {
                we[i] += eps[i];
                epsNorm += eps[i] * eps[i];
            }
            double[] gSam = gradient(m, we, xs, labels, lossKind);

            assertThat(loss).as("loss reported at w").isCloseTo(refLoss(m, w, xs, labels, lossKind),
                    Offset.offset(1e-4));
            assertThat(pass.perturbedLoss()).as("loss at w + eps").isCloseTo(refLoss(m, we, xs, labels, lossKind),
                    Offset.offset(1e-4));
            assertThat(pass.perturbationNorm()).isCloseTo(Math.sqrt(epsNorm), Offset.offset(1e-4 * Math.sqrt(epsNorm)));
            double diff = 0;
            double shift = 0;
            for (int i = 0; i < w.length; i++) {
                double engine = m.grads().getFloat(i);
                assertThat(Math.abs(engine - gSam[i]))
                        .as("%s grad[%d]: engine %s vs reference at w+eps %s (at w: %s)", name, i, engine, gSam[i], g[i])
                        .isLessThanOrEqualTo(1e-5 + 2e-3 * Math.abs(gSam[i]));
                assertThat(m.params().getFloat(i)).as("parameters stay at w").isEqualTo((float) w[i]);
                diff += (gSam[i] - g[i]) * (gSam[i] - g[i]);
                shift += gSam[i] * gSam[i];
            }
            // the test can fail: the SAM gradient is far (> 1% relative) from the plain gradient at w
            assertThat(Math.sqrt(diff / shift)).isGreaterThan(0.01);
        }
    }

    @Test
    void shouldRejectBadSettings() {
        assertThatThrownBy(() -> Optimizers.sam(Optimizers.sgd(0.1), 0)).hasMessageContaining("rho")
                .hasMessageContaining("0.0");
        assertThatThrownBy(() -> Optimizers.sam(Optimizers.sam(Optimizers.sgd(0.1), 0.05), 0.05))
                .hasMessageContaining("cannot wrap another SAM");
        Optimizer s = Optimizers.sam(Optimizers.momentum(0.1, 0.9), 0.05);
        assertThat(s.momentSlabs()).isEqualTo(1);
        assertThat(s.withLearningRate(0.2).learningRate()).isEqualTo(0.2);
        assertThat(((Sam) s.withLearningRate(0.2)).rho()).isEqualTo(0.05);
        assertThat(s.describe()).isEqualTo("sam(rho=0.05, base=momentum(lr=0.1, mu=0.9))");
    }

    private static double refLoss(Model m, double[] p, double[] xs, int[] labels, LossKind lossKind) {
        return ReferenceNet.loss(m, p, xs, labels, BATCH, lossKind, true, SEED, STEP);
    }

    /** Central finite differences of the double reference (h = 1e-6). */
    private static double[] gradient(Model m, double[] w, double[] xs, int[] labels, LossKind lossKind) {
        double[] p = w.clone();
        double[] g = new double[p.length];
        double h = 1e-6;
        for (ParameterLayout.Entry e : m.layout().entries()) {
            for (int i = 0; i < e.count(); i++) {
                int idx = (int) e.offset() + i;
                double saved = p[idx];
                p[idx] = saved + h;
                double up = refLoss(m, p, xs, labels, lossKind);
                p[idx] = saved - h;
                double down = refLoss(m, p, xs, labels, lossKind);
                p[idx] = saved;
                g[idx] = (up - down) / (2 * h);
            }
        }
        return g;
    }

    private static double[] epsilon(Model m, double[] w, double[] g, double rho, boolean adaptive) {
        double[] t = new double[w.length];
        for (ParameterLayout.Entry e : m.layout().entries()) {
            for (int i = 0; i < e.count(); i++) {
                int idx = (int) e.offset() + i;
                t[idx] = !adaptive || e.bias() ? 1.0 : Math.abs(w[idx]) + Sam.ETA_DEFAULT;
            }
        }
        double norm = 0;
        for (int i = 0; i < w.length; i++) {
            norm += t[i] * g[i] * t[i] * g[i];
        }
        norm = Math.sqrt(norm);
        double[] eps = new double[w.length];
        for (int i = 0; i < w.length; i++) {
            eps[i] = rho * t[i] * t[i] * g[i] / norm;
        }
        return eps;
    }
}
