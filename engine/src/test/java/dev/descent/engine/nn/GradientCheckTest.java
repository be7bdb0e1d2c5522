package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer and both losses against central finite differences of a double-precision re-implementation of
 * the forward pass: the engine's float analytic gradient must match to ~1e-3 relative. The layer under test
 * sits between two Linear layers, so its input gradient is checked through the first Linear's gradient.
 */
class GradientCheckTest {
    private static final int BATCH = 3;
    private static final long SEED = 42;
    private static final long STEP = 7;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("linear", (Module) new Linear(5), LossKind.CROSS_ENTROPY),
                Arguments.of("relu", new ActivationLayer(Activation.RELU), LossKind.CROSS_ENTROPY),
                Arguments.of("leaky relu", new ActivationLayer(Activation.LEAKY_RELU), LossKind.CROSS_ENTROPY),
                Arguments.of("sigmoid", new ActivationLayer(Activation.SIGMOID), LossKind.CROSS_ENTROPY),
                Arguments.of("tanh", new ActivationLayer(Activation.TANH), LossKind.CROSS_ENTROPY),
                Arguments.of("gelu", new ActivationLayer(Activation.GELU), LossKind.CROSS_ENTROPY),
                Arguments.of("dropout", new Dropout(0.3), LossKind.CROSS_ENTROPY),
                Arguments.of("flatten", new Flatten(), LossKind.CROSS_ENTROPY),
                Arguments.of("mse loss", new ActivationLayer(Activation.TANH), LossKind.MSE),
                Arguments.of("identity + mse", new ActivationLayer(Activation.IDENTITY), LossKind.MSE));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchFiniteDifferencesOfDoubleReference(String name, Module layer, LossKind lossKind) {
        check(Kernels.scalar(), layer, lossKind);
    }

    static void check(KernelBackend k, Module layer, LossKind lossKind) {
        int in = 6;
        int classes = 4;
        try (Model m = Sequential.input(in).add(new Linear(7)).add(layer).add(new Linear(classes)).build()
                .initialize(Init.normal(0.5), Init.normal(0.3), 3);
             BackpropExecutor ex = new BackpropExecutor(m, BackpropStrategy.VANILLA, BATCH);
             Loss loss = lossKind.create(BATCH, classes);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * in, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) BATCH * Integer.BYTES, Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(11);
            double[] xs = new double[BATCH * in];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rng.nextGaussian();
                x.setFloat(i, (float) xs[i]);
            }
            int[] labels = new int[BATCH];
            for (int r = 0; r < BATCH; r++) {
                labels[r] = rng.nextInt(classes);
                y.segment().setAtIndex(ValueLayout.JAVA_INT, r, labels[r]);
            }
            ExecutionContext ctx = new ExecutionContext(k).seed(SEED).step(STEP).training(true);
            ex.forward(ctx, x.segment(), 0, BATCH);
            double engineLoss = loss.forward(k, ex.segment(), ex.outputOffset(), y.segment(), 0, BATCH);
            loss.backward(k, ex.outputGradient(), ex.outputGradientOffset(), y.segment(), 0, BATCH);
            ex.backward(ctx);

            double[] p = ReferenceNet.params(m);
            double refLoss = ReferenceNet.loss(m, p, xs, labels, BATCH, lossKind, true, SEED, STEP);
            assertThat(engineLoss).isCloseTo(refLoss, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, refLoss)));
            double h = 1e-5;
            int checked = 0;
            for (ParameterLayout.Entry e : m.layout().entries()) {
                for (int i = 0; i < e.count(); i++) {
                    int idx = (int) e.offset() + i;
                    double saved = p[idx];
                    p[idx] = saved + h;
                    double up = ReferenceNet.loss(m, p, xs, labels, BATCH, lossKind, true, SEED, STEP);
                    p[idx] = saved - h;
                    double down = ReferenceNet.loss(m, p, xs, labels, BATCH, lossKind, true, SEED, STEP);
                    p[idx] = saved;
                    double fd = (up - down) / (2 * h);
                    double analytic = m.grads().getFloat(idx);
                    assertThat(Math.abs(analytic - fd))
                            .as("%s d/d%s[%d]: analytic %s vs finite difference %s", layer.kind(), e.qualifiedName(),
                                    i, analytic, fd)
                            .isLessThanOrEqualTo(1e-5 + 2e-3 * Math.abs(fd));
                    checked++;
                }
            }
            assertThat(checked).isEqualTo((int) m.parameterCount());
            // and the gradient is not trivially zero
            assertThat(k.sumSquares(m.grads().segment(), 0, m.layout().totalFloats())).isGreaterThan(1e-8);
        }
    }
}
