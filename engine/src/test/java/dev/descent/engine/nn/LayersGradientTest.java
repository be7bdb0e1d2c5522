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
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer of issue 4 inside a small model: (1) the float analytic gradient of every parameter matches central
 * finite differences of {@link LayerReference} (double precision); (2) VANILLA, RECOMPUTE and CHECKPOINTED give
 * bitwise identical gradients; (3) the SIMD kernels agree with the scalar ones. Each layer under test sits after a
 * parameterized layer, so its input gradient is checked through that layer's weight gradient.
 */
class LayersGradientTest {
    private static final int BATCH = 3;

    record Case(String name, int[] input, int vocab, Supplier<Sequential> model) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                new Case("conv2d stride 2 pad 1 after conv2d", new int[]{2, 7, 6}, 0, () -> Sequential.input(2, 7, 6)
                        .add(new Conv2d(3, 3, 1, 1)).add(new Conv2d(4, 3, 2, 1)).add(new Flatten()).add(new Linear(4))),
                new Case("conv2d wider than the SIMD register tiles (9 and 10 channels)", new int[]{2, 5, 5}, 0,
                        () -> Sequential.input(2, 5, 5).add(new Conv2d(9, 3)).add(new Conv2d(10, 3))
                                .add(new ActivationLayer(Activation.TANH)).add(new Flatten()).add(new Linear(3))),
                new Case("conv2d 5x5 no pad + maxpool", new int[]{1, 9, 9}, 0, () -> Sequential.input(1, 9, 9)
                        .add(new Conv2d(2, 3)).add(new Conv2d(3, 5, 1, 0)).add(new MaxPool2d(2))
                        .add(new Flatten()).add(new Linear(3))),
                new Case("maxpool overlapping padded", new int[]{2, 5, 5}, 0, () -> Sequential.input(2, 5, 5)
                        .add(new Conv2d(2, 3)).add(new MaxPool2d(3, 2, 1)).add(new Flatten()).add(new Linear(3))),
                new Case("avgpool + global avg pool", new int[]{2, 6, 6}, 0, () -> Sequential.input(2, 6, 6)
                        .add(new Conv2d(3, 3)).add(new AvgPool2d(3, 2, 1)).add(new ActivationLayer(Activation.TANH))
                        .add(new GlobalAvgPool()).add(new Linear(3))),
                new Case("batchnorm 2-D", new int[]{2, 4, 4}, 0, () -> Sequential.input(2, 4, 4)
                        .add(new Conv2d(3, 3)).add(new BatchNorm()).add(new ActivationLayer(Activation.TANH))
                        .add(new Flatten()).add(new Linear(3))),
                new Case("batchnorm 1-D", new int[]{5}, 0, () -> Sequential.input(5)
                        .add(new Linear(6)).add(new BatchNorm()).add(new ActivationLayer(Activation.TANH))
                        .add(new Linear(3))),
                new Case("linear without bias + batchnorm (scale-invariant block)", new int[]{5}, 0, () -> Sequential
                        .input(5).add(new Linear(6, false)).add(new BatchNorm()).add(new ActivationLayer(Activation.TANH))
                        .add(new Linear(4, false)).add(new BatchNorm()).add(new Linear(3))),
                new Case("layernorm", new int[]{5}, 0, () -> Sequential.input(5)
                        .add(new Linear(7)).add(new LayerNorm()).add(new Linear(3))),
                new Case("residual skip", new int[]{5}, 0, () -> Sequential.input(5).add(new Linear(6))
                        .add(new Residual(true, new Linear(6), new ActivationLayer(Activation.TANH), new Linear(6)))
                        .add(new Linear(3))),
                new Case("residual no skip", new int[]{5}, 0, () -> Sequential.input(5).add(new Linear(6))
                        .add(new Residual(false, new Linear(6), new ActivationLayer(Activation.TANH), new Linear(6)))
                        .add(new Linear(3))),
                new Case("residual projection + batchnorm", new int[]{5}, 0, () -> Sequential.input(5).add(new Linear(6))
                        .add(Residual.withProjection(new Linear(4), new Linear(4), new BatchNorm(),
                                new ActivationLayer(Activation.GELU)))
                        .add(new Linear(3))),
                new Case("transformer pre-norm gelu", new int[]{4}, 5, () -> Sequential.input(4)
                        .add(new Embedding(5, 8)).add(new TransformerBlock(2, 2, Activation.GELU, true))
                        .add(new LayerNorm()).add(new LastToken()).add(new Linear(5))),
                new Case("transformer post-norm relu, 2 blocks", new int[]{3}, 4, () -> Sequential.input(3)
                        .add(new Embedding(4, 4)).add(new TransformerBlock(2, 2, Activation.RELU, false))
                        .add(new TransformerBlock(1, 1, Activation.GELU, true)).add(new LastToken()).add(new Linear(4))))
                .map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void shouldMatchFiniteDifferencesUnderEveryStrategyAndBackend(Case c) {
        SplittableRandom rng = new SplittableRandom(c.name().hashCode());
        int in = Module.size(c.input());
        double[] xs = new double[BATCH * in];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = c.vocab() > 0 ? rng.nextInt(c.vocab()) : (float) rng.nextGaussian();
        }
        try (Model m = c.model().get().build().initialize(Init.normal(0.4), Init.normal(0.2), 5)) {
            int[] labels = new int[BATCH];
            for (int r = 0; r < BATCH; r++) {
                labels[r] = rng.nextInt(m.outputSize());
            }
            float[] reference = gradients(m, Kernels.scalar(), BackpropStrategy.VANILLA, xs, labels);
            for (BackpropStrategy s : new BackpropStrategy[]{BackpropStrategy.RECOMPUTE,
                    BackpropStrategy.checkpointed(2), BackpropStrategy.checkpointed()}) {
                assertThat(gradients(m, Kernels.scalar(), s, xs, labels)).as("scalar %s", s.name())
                        .containsExactly(reference);
            }
            KernelBackend simd = Kernels.simd();
            float[] simdGrads = gradients(m, simd, BackpropStrategy.VANILLA, xs, labels);
            assertThat(gradients(m, simd, BackpropStrategy.RECOMPUTE, xs, labels)).containsExactly(simdGrads);
            assertThat(gradients(m, simd, BackpropStrategy.checkpointed(2), xs, labels)).containsExactly(simdGrads);
            double norm = 0;
            for (float g : reference) {
                norm = Math.max(norm, Math.abs(g));
            }
            assertThat(norm).as("gradient not trivially zero").isGreaterThan(1e-4);
            for (int i = 0; i < reference.length; i++) {
                assertThat(Math.abs(simdGrads[i] - reference[i])).as("simd vs scalar grad[%d]", i)
                        .isLessThanOrEqualTo(1e-5f + 1e-3f * (float) norm);
            }
            finiteDifferences(m, reference, xs, labels);
        }
    }

    private static void finiteDifferences(Model m, float[] analytic, double[] xs, int[] labels) {
        double[] p = new double[analytic.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = m.params().segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        }
        double h = 1e-5;
        int checked = 0;
        for (ParameterLayout.Entry e : m.layout().entries()) {
            for (int i = 0; i < e.count(); i++) {
                int idx = (int) e.offset() + i;
                double saved = p[idx];
                p[idx] = saved + h;
                double up = LayerReference.loss(m, p, xs, labels, BATCH, true);
                p[idx] = saved - h;
                double down = LayerReference.loss(m, p, xs, labels, BATCH, true);
                p[idx] = saved;
                double fd = (up - down) / (2 * h);
                assertThat(Math.abs(analytic[idx] - fd))
                        .as("d/d%s[%d]: analytic %s vs finite difference %s", e.qualifiedName(), i, analytic[idx], fd)
                        .isLessThanOrEqualTo(2e-5 + 3e-3 * Math.abs(fd));
                checked++;
            }
        }
        assertThat(checked).isEqualTo((int) m.parameterCount());
    }

    /** One forward/backward; returns a copy of the gradient slab. Also checks the loss against the reference. */
    static float[] gradients(Model m, KernelBackend k, BackpropStrategy strategy, double[] xs, int[] labels) {
        int in = m.inputSize();
        int classes = m.outputSize();
        try (BackpropExecutor ex = new BackpropExecutor(m, strategy, BATCH);
             Loss loss = LossKind.CROSS_ENTROPY.create(BATCH, classes);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * in, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) BATCH * Integer.BYTES, Purpose.BATCHES)) {
            for (int i = 0; i < xs.length; i++) {
                x.setFloat(i, (float) xs[i]);
            }
            for (int r = 0; r < BATCH; r++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, r, labels[r]);
            }
            ExecutionContext ctx = new ExecutionContext(k).seed(1).step(3).training(true);
            ex.forward(ctx, x.segment(), 0, BATCH);
            double l = loss.forward(k, ex.segment(), ex.outputOffset(), y.segment(), 0, BATCH);
            loss.backward(k, ex.outputGradient(), ex.outputGradientOffset(), y.segment(), 0, BATCH);
            ex.backward(ctx);
            double[] p = new double[(int) m.layout().totalFloats()];
            for (int i = 0; i < p.length; i++) {
                p[i] = m.params().segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
            }
            double ref = LayerReference.loss(m, p, xs, labels, BATCH, true);
            assertThat(Math.abs(l - ref)).as("%s %s loss %s vs reference %s", k.name(), strategy.name(), l, ref)
                    .isLessThan(1e-4 * Math.max(1, Math.abs(ref)));
            float[] g = new float[(int) m.layout().totalFloats()];
            for (int i = 0; i < g.length; i++) {
                g[i] = m.grads().getFloat(i);
            }
            return g;
        }
    }
}
