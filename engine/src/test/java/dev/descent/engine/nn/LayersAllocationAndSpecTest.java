package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.ThreadMXBean;
import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.management.ManagementFactory;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Steps allocate nothing; model specs of every layer round-trip through {@link Model#fromSpec}. */
class LayersAllocationAndSpecTest {

    private static Model cnnWithNorms() {
        return Sequential.input(1, 12, 12)
                .add(new Conv2d(4, 3)).add(new BatchNorm()).add(new ActivationLayer(Activation.RELU))
                .add(new MaxPool2d(2)).add(new Conv2d(6, 3, 2, 1)).add(new AvgPool2d(3, 1, 1))
                .add(new GlobalAvgPool())
                .add(Residual.withProjection(new Linear(8), new Linear(8), new LayerNorm(),
                        new ActivationLayer(Activation.GELU)))
                .add(new Residual(false, new Linear(8), new BatchNorm()))
                .add(new Linear(5))
                .build().initialize(dev.descent.engine.init.Init.KAIMING_NORMAL, dev.descent.engine.init.Init.ZEROS, 1);
    }

    private static Model transformer() {
        return Models.transformer(11, 5, 32, 4, 2, 1);
    }

    @Test
    void shouldNotAllocateDuringTrainingStepsUnderAnyStrategy() {
        java.util.List<String> report = new java.util.ArrayList<>();
        for (Supplier<Model> build : java.util.List.<Supplier<Model>>of(LayersAllocationAndSpecTest::cnnWithNorms,
                LayersAllocationAndSpecTest::transformer)) {
            for (BackpropStrategy s : new BackpropStrategy[]{BackpropStrategy.VANILLA, BackpropStrategy.RECOMPUTE,
                    BackpropStrategy.checkpointed()}) {
                try (Model m = build.get()) {
                    long bytes = allocatedBytes(m, s, Kernels.backend());
                    if (bytes > 0) {
                        report.add(m.layer(0).kind() + " " + s.name() + ": " + bytes + " bytes per 10 steps");
                    }
                }
            }
        }
        assertThat(report).isEmpty();
    }

    private static long allocatedBytes(Model m, BackpropStrategy s, KernelBackend k) {
        int batch = 6;
        ThreadMXBean mx = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        try (BackpropExecutor ex = new BackpropExecutor(m, s, batch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * m.inputSize(), Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(3);
            int vocab = m.layer(0) instanceof Embedding e ? e.vocab() : 0;
            for (int i = 0; i < batch * m.inputSize(); i++) {
                x.setFloat(i, vocab > 0 ? rng.nextInt(vocab) : (float) rng.nextGaussian());
            }
            ExecutionContext ctx = new ExecutionContext(k).training(true);
            // the Vector API allocates (boxed vectors) until C2 has compiled the kernels, which takes seconds on a
            // busy 2-core machine: keep the best of rounds of 10 steps, for up to 30 s
            long best = Long.MAX_VALUE;
            long deadline = System.nanoTime() + 30_000_000_000L;
            for (int round = 0; best > 0 && System.nanoTime() < deadline; round++) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int step = 0; step < 10; step++) {
                    ctx.step(round * 10L + step);
                    ex.forward(ctx, x.segment(), 0, batch);
                    for (int i = 0; i < batch * m.outputSize(); i++) {
                        ex.outputGradient().setAtIndex(ValueLayout.JAVA_FLOAT, ex.outputGradientOffset() + i, 0.01f);
                    }
                    ex.backward(ctx);
                }
                best = Math.min(best, mx.getThreadAllocatedBytes(tid) - before);
            }
            return best;
        }
    }

    @Test
    void shouldRoundTripEverySpecThroughTheModelSpecParser() {
        for (Model m : new Model[]{cnnWithNorms(), transformer(), Models.cnn(new int[]{1, 28, 28}, 10, 1),
                Models.resMlp(new int[]{1, 28, 28}, 10, 3, 32, false, 1),
                Sequential.input(4).add(new Embedding(7, 8)).add(new PerToken(new Linear(6)))
                        .add(new TransformerBlock(2, 3, Activation.RELU, false)).add(new LastToken()).add(new Linear(7))
                        .build()}) {
            try (m; Model back = Model.fromSpec(m.spec())) {
                assertThat(back.spec()).isEqualTo(m.spec());
                assertThat(back.parameterCount()).isEqualTo(m.parameterCount());
                assertThat(back.layout().entries().stream().map(ParameterLayout.Entry::qualifiedName).toList())
                        .isEqualTo(m.layout().entries().stream().map(ParameterLayout.Entry::qualifiedName).toList());
            }
        }
    }

    @Test
    void shouldBuildResMlpWithAndWithoutSkipsAtTheSameDepthAndSize() {
        try (Model skip = Models.resMlp(new int[]{1, 28, 28}, 10, 4, 64, true, 1);
             Model plain = Models.resMlp(new int[]{1, 28, 28}, 10, 4, 64, false, 1)) {
            assertThat(plain.parameterCount()).isEqualTo(skip.parameterCount());
            assertThat(plain.layerCount()).isEqualTo(skip.layerCount());
            assertThat(skip.parametersSha256()).isEqualTo(plain.parametersSha256());
            assertThat(skip.spec()).contains("residual skip").doesNotContain("noskip");
            assertThat(plain.spec()).contains("residual noskip");
            assertThat(skip.parameterLayerNames()).hasSize(6);
        }
    }
}
