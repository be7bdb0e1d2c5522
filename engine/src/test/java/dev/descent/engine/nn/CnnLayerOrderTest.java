package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Sgd;
import dev.descent.engine.train.TrainingStep;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Models#cnn} puts each ReLU after its max pooling. That is the same network as the usual conv - ReLU -
 * maxpool: ReLU does not decrease, so the pooled values are equal, and a window's gradient goes to the same pixel
 * (its first maximum) or, when no pixel is above 0, to none. Training both orders must give the same losses and the
 * same parameters bit for bit, also on inputs full of ties and of windows at or below 0 (where the two orders pick
 * different pixels, all with a zero gradient).
 */
class CnnLayerOrderTest {

    private static Model cnn(boolean reluFirst) {
        Sequential s = Sequential.input(new int[] {1, 28, 28});
        for (int channels : new int[] {16, 32}) {
            s.add(new Conv2d(channels, 5));
            if (reluFirst) {
                s.add(new ActivationLayer(Activation.RELU)).add(new MaxPool2d(2));
            } else {
                s.add(new MaxPool2d(2)).add(new ActivationLayer(Activation.RELU));
            }
        }
        return s.add(new Flatten()).add(new Linear(128)).add(new ActivationLayer(Activation.RELU)).add(new Linear(10))
                .build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, 7);
    }

    @ParameterizedTest(name = "{0} kernels")
    @ValueSource(strings = {"simd", "scalar"})
    void poolingBeforeReluShouldTrainBitForBitAsReluBeforePooling(String backend) {
        KernelBackend kernels = backend.equals("simd") ? Kernels.simd() : Kernels.scalar();
        int batch = 24;
        int steps = 4;
        try (Model usual = cnn(true); Model ours = Models.cnn(new int[] {1, 28, 28}, 10, 7);
             Model pooledFirst = cnn(false); Arena arena = Arena.ofConfined()) {
            assertThat(ours.spec()).isEqualTo(pooledFirst.spec());
            MemorySegment x = arena.allocate((long) steps * batch * 784 * Float.BYTES, 64);
            MemorySegment y = arena.allocate((long) steps * batch * Integer.BYTES, 64);
            SplittableRandom r = new SplittableRandom(11);
            for (long i = 0; i < (long) steps * batch * 784; i++) {
                // few distinct values: ties in most pooling windows, and whole windows at 0 or below after the conv
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, (r.nextInt(5) - 2) * 0.5f);
            }
            for (int i = 0; i < steps * batch; i++) {
                y.setAtIndex(ValueLayout.JAVA_INT, i, r.nextInt(10));
            }
            Model[] models = {usual, ours};
            TrainingStep[] runs = new TrainingStep[2];
            double[][] losses = new double[2][steps];
            try {
                for (int m = 0; m < 2; m++) {
                    runs[m] = new TrainingStep(models[m], kernels, LossKind.CROSS_ENTROPY,
                            new Sgd(0.05, 0.9, false, 0, false), LrSchedule.constant(0.05), BackpropStrategy.VANILLA,
                            batch, 0, 1, 3);
                    for (int s = 0; s < steps; s++) {
                        runs[m].run(x, (long) s * batch * 784, y, (long) s * batch, batch, 0);
                        losses[m][s] = runs[m].loss();
                    }
                }
            } finally {
                for (TrainingStep t : runs) {
                    if (t != null) {
                        t.close();
                    }
                }
            }
            assertThat(losses[1]).containsExactly(losses[0]);
            assertThat(losses[0][steps - 1]).isNotEqualTo(losses[0][0]); // it trained
            assertThat(ours.parametersSha256()).isEqualTo(usual.parametersSha256());
        }
    }
}
