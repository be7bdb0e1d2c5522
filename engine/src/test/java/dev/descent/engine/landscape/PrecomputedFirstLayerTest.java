package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Models;
import dev.descent.engine.nn.ParameterLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The first layer multiplied out once ({@link FirstLayerProducts}) gives the numbers of the direct evaluation up to
 * float32 rounding, for planes and lines, MLPs with and without a Flatten, with BatchNorm after the first layer, on
 * both backends; applies only to models that begin with a Linear layer; is part of the resume fingerprint.
 */
class PrecomputedFirstLayerTest {

    private static Dataset images(String name, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * 36];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            y[i] = r.nextInt(4);
            for (int f = 0; f < 36; f++) {
                x[i * 36 + f] = (float) (r.nextDouble() + (f % 4 == y[i] ? 0.8 : 0));
            }
        }
        return Dataset.of(name, x, y, new int[] {1, 6, 6}, 4);
    }

    /** Initializers leave biases at zero, where a first-layer bias that is dropped or misplaced would not show. */
    private static void randomizeBiases(Model model) {
        SplittableRandom r = new SplittableRandom(17);
        for (ParameterLayout.Entry e : model.layout().entries()) {
            if (e.bias()) {
                for (int i = 0; i < e.count(); i++) {
                    model.params().setFloat(e.offset() + i, (float) (r.nextDouble() - 0.5));
                }
            }
        }
    }

    /** Both evaluations of the same job; asserts they agree to float32 rounding and returns the precomputed one. */
    private static LandscapeResult compare(Model model, Dataset train, Dataset test, Projection p, int evaluators,
                                           KernelBackend kernels) throws Exception {
        randomizeBiases(model);
        // biases kept in the directions: the first layer's bias moves with the point too
        OffHeapBlock[] d = Directions.randomPair(model.layout(), model.params().segment(),
                new DirectionSettings(3, NormType.LAYER, false, false));
        try {
            Supplier<LandscapeJob.Builder> job = () -> LandscapeJob.builder().kernels(kernels).model(model)
                    .directions(d[0].segment(), p.directions() == 2 ? d[1].segment() : null).projection(p)
                    .train(train).test(test).evalBatch(40).evaluators(evaluators);
            LandscapeJob fast = job.get().precomputeFirstLayer(true).build();
            LandscapeJob direct = job.get().precomputeFirstLayer(false).build();
            assertThat(fast.precomputesFirstLayer()).isTrue();
            assertThat(direct.precomputesFirstLayer()).isFalse();
            assertThat(fast.fingerprint()).as("resuming never mixes the two").isNotEqualTo(direct.fingerprint());
            LandscapeResult f = fast.run();
            LandscapeResult r = direct.run();
            for (int k = 0; k < p.points(); k++) {
                PointResult a = f.point(k);
                PointResult b = r.point(k);
                assertThat(a.trainLoss()).as("train loss at point %d", k)
                        .isCloseTo(b.trainLoss(), within(2e-5 * Math.max(1, b.trainLoss())));
                assertThat(a.trainAccuracy()).as("train accuracy at point %d", k)
                        .isCloseTo(b.trainAccuracy(), within(2.0 / train.count()));
                if (test != null) {
                    assertThat(a.testLoss()).as("test loss at point %d", k)
                            .isCloseTo(b.testLoss(), within(2e-5 * Math.max(1, b.testLoss())));
                } else {
                    assertThat(a.testLoss()).isNaN();
                }
            }
            assertThat(f.point(0).trainLoss()).isNotEqualTo(f.point(p.points() - 1).trainLoss());
            return f;
        } finally {
            d[0].close();
            d[1].close();
        }
    }

    @Test
    void shouldMatchTheDirectEvaluationOnAPlaneAndALineOnBothBackends() throws Exception {
        try (Dataset train = images("train", 210, 1); Dataset test = images("test", 90, 2);
             Model m = Mlp.builder().input(1, 6, 6).hidden(20, 9).activation(Activation.TANH).output(4)
                     .init(Init.XAVIER_NORMAL).seed(8).build()) {
            assertThat(FirstLayerProducts.firstLinear(m)).as("after the Flatten").isEqualTo(1);
            for (KernelBackend k : new KernelBackend[] {Kernels.scalar(), Kernels.backend()}) {
                compare(m, train, test, Projection.plane(1.5, 5), 2, k);
                compare(m, train, null, Projection.line(1.2, 7), 1, k);
            }
        }
    }

    @Test
    void shouldMatchTheDirectEvaluationWithBatchNormAndSkipsAfterTheFirstLayer() throws Exception {
        try (Dataset train = images("train", 150, 3); Dataset test = images("test", 70, 4);
             Model m = Models.resMlp(new int[] {36}, 4, 3, 16, true, true, 5)) {
            assertThat(FirstLayerProducts.firstLinear(m)).isGreaterThanOrEqualTo(0);
            LandscapeResult r = compare(m, train, test, Projection.plane(1.0, 4), 3, Kernels.backend());
            assertThat(r.evaluators()).isEqualTo(3);
        }
    }

    @Test
    void shouldGiveTheSameBitsOnAnyNumberOfEvaluatorsAndResumeToThem(@TempDir Path dir) throws Exception {
        try (Dataset train = images("train", 120, 5);
             Model m = Mlp.builder().input(36).hidden(10).activation(Activation.RELU).output(4)
                     .init(Init.KAIMING_NORMAL).seed(2).build()) {
            OffHeapBlock[] d = Directions.randomPair(m.layout(), m.params().segment(), DirectionSettings.defaults(4));
            try {
                Supplier<LandscapeJob.Builder> job = () -> LandscapeJob.builder().kernels(Kernels.backend()).model(m)
                        .directions(d[0].segment(), d[1].segment()).projection(Projection.plane(1.0, 5))
                        .train(train).evalBatch(32).precomputeFirstLayer(true);
                LandscapeResult one = job.get().evaluators(1).build().run();
                Path partial = dir.resolve("p.partial.csv");
                AtomicInteger seen = new AtomicInteger();
                job.get().evaluators(2).partial(partial, false).listener((x, t, r) -> seen.incrementAndGet())
                        .cancelled(() -> seen.get() >= 8).build().run();
                LandscapeResult resumed = job.get().evaluators(3).partial(partial, false).build().run();
                assertThat(resumed.resumed()).isGreaterThanOrEqualTo(8);
                assertThat(resumed.points()).containsExactly(one.points());
                assertThatThrownBy(() -> job.get().precomputeFirstLayer(false).partial(partial, false).build().run())
                        .isInstanceOf(PartialResults.ResumeException.class);
            } finally {
                d[0].close();
                d[1].close();
            }
        }
    }

    @Test
    void shouldApplyOnlyToModelsThatBeginWithALinearLayer() {
        try (Model cnn = Models.cnn(new int[] {1, 8, 8}, 4, 5);
             Model single = Mlp.builder().input(36).output(4).seed(1).build()) {
            assertThat(FirstLayerProducts.firstLinear(cnn)).isEqualTo(-1);
            assertThat(FirstLayerProducts.firstLinear(single)).as("nothing after it to run").isEqualTo(-1);
        }
    }
}
