package dev.descent.engine.backprop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Models;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link BackpropExecutor#forwardOnly}: every module's forward shares one workspace region and there are no gradient
 * buffers, so a module that relied on its workspace surviving between its own calls (zeroed margins written once,
 * state kept from the previous batch) would give other outputs than under the recompute executor, whose modules
 * each own their workspace. Batches alternate in size, and each model runs several batches, so stale workspace
 * contents from the other modules are there when a module starts.
 */
class ForwardOnlyExecutorTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    static Stream<Arguments> models() {
        return Stream.of(
                Arguments.of("cnn", Models.cnn(new int[]{1, 28, 28}, 10, 3)),
                Arguments.of("resmlp with BatchNorm", Models.resMlp(new int[]{1, 8, 8}, 10, 2, 24, true, 5)),
                Arguments.of("resmlp without skips", Models.resMlp(new int[]{64}, 7, 2, 16, false, false, 6)),
                Arguments.of("transformer", Models.transformer(13, 6, 16, 2, 2, 9)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void shouldComputeTheRecomputeExecutorsOutputsOnLessMemory(String name, Model model) {
        int maxBatch = 12;
        int in = model.inputSize();
        int out = model.outputSize();
        boolean tokens = name.equals("transformer");
        SplittableRandom rnd = new SplittableRandom(17);
        try (model;
             BackpropExecutor reference = new BackpropExecutor(model, BackpropStrategy.RECOMPUTE, maxBatch);
             BackpropExecutor forward = BackpropExecutor.forwardOnly(model, maxBatch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) maxBatch * in, Purpose.BATCHES)) {
            assertThat(forward.slabBytes()).isLessThan(reference.slabBytes());
            ExecutionContext ctx = new ExecutionContext().training(false);
            int[] batches = {maxBatch, 5, maxBatch, 1, 7};
            for (int b : batches) {
                for (long i = 0; i < (long) b * in; i++) {
                    x.segment().setAtIndex(F, i, tokens ? rnd.nextInt(13) : (float) rnd.nextGaussian());
                }
                reference.forward(ctx, x.segment(), 0, b);
                forward.forward(ctx, x.segment(), 0, b);
                float[] expected = read(reference.segment(), reference.outputOffset(), b * out);
                float[] actual = read(forward.segment(), forward.outputOffset(), b * out);
                assertThat(actual).as("%s, batch of %d", name, b).containsExactly(expected);
            }
            assertThatThrownBy(() -> forward.backward(ctx)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("forward passes only");
            assertThatThrownBy(forward::outputGradientOffset).isInstanceOf(IllegalStateException.class);
        }
    }

    private static float[] read(MemorySegment s, long off, int n) {
        float[] v = new float[n];
        MemorySegment.copy(s, F, off * Float.BYTES, v, 0, n);
        return v;
    }
}
