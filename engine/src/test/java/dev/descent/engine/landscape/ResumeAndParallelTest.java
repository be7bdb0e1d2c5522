package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResumeAndParallelTest {
    private Dataset train;
    private Dataset test;
    private Model model;
    private OffHeapBlock[] dirs;

    private static Dataset blobs(String name, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[count * 10];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < 10; f++) {
                x[i * 10 + f] = (float) (r.nextGaussian() * 0.7 + (f % 3 == y[i] ? 1.5 : 0));
            }
        }
        return Dataset.of(name, x, y, new int[] {10}, 3);
    }

    @BeforeEach
    void setUp() {
        train = blobs("train", 300, 1);
        test = blobs("test", 200, 2);
        model = Mlp.builder().input(10).hidden(16, 8).activation(Activation.TANH).output(3).init(Init.XAVIER_NORMAL)
                .seed(4).build();
        dirs = Directions.randomPair(model.layout(), model.params().segment(), DirectionSettings.defaults(7));
    }

    @AfterEach
    void tearDown() {
        dirs[0].close();
        dirs[1].close();
        model.close();
        train.close();
        test.close();
    }

    /** The scalar reference backend; {@link #shouldResumeBitForBitOnTheSimdBackendToo} covers the default one. */
    private LandscapeJob.Builder job(int evaluators) {
        return jobOn(Kernels.scalar(), evaluators);
    }

    private LandscapeJob.Builder jobOn(KernelBackend kernels, int evaluators) {
        return LandscapeJob.builder().kernels(kernels).model(model).directions(dirs[0].segment(), dirs[1].segment())
                .projection(Projection.plane(1.0, 6)).train(train).test(test).evalBatch(64).evaluators(evaluators);
    }

    @Test
    void shouldResumeAnInterruptedRunToExactlyTheUninterruptedNumbers(@TempDir Path dir) throws Exception {
        LandscapeResult whole = job(2).partial(dir.resolve("a.partial.csv"), false).build().run();
        assertThat(whole.complete()).isTrue();
        assertThat(whole.evaluated()).isEqualTo(36);

        Path partial = dir.resolve("b.partial.csv");
        AtomicInteger seen = new AtomicInteger();
        LandscapeResult stopped = job(2).partial(partial, false).listener((d, t, r) -> seen.incrementAndGet())
                .cancelled(() -> seen.get() >= 10).build().run();
        assertThat(stopped.complete()).isFalse();
        assertThat(stopped.evaluated()).isBetween(10, 12);
        // a torn line, as if the process died in the middle of a write
        Files.writeString(partial, "35,1.0,1.0,0.12", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        AtomicInteger firstDone = new AtomicInteger(-1);
        LandscapeResult resumed = job(1).partial(partial, false)
                .listener((d, t, r) -> firstDone.compareAndSet(-1, d)).build().run();
        assertThat(resumed.complete()).isTrue();
        assertThat(resumed.resumed()).isEqualTo(stopped.evaluated());
        assertThat(resumed.evaluated()).isEqualTo(36 - stopped.evaluated());
        assertThat(firstDone.get()).as("the progress starts where the first run stopped")
                .isEqualTo(stopped.evaluated() + 1);
        for (int k = 0; k < 36; k++) {
            assertThat(resumed.point(k)).as("point " + k).isEqualTo(whole.point(k));
        }
        assertThat(resumed.toCsv()).isEqualTo(whole.toCsv());
    }

    @Test
    void shouldGiveTheSameNumbersOnOneOrTwoEvaluators() throws Exception {
        LandscapeResult one = job(1).build().run();
        LandscapeResult two = job(2).build().run();
        assertThat(two.evaluators()).isEqualTo(2);
        for (int k = 0; k < 36; k++) {
            assertThat(two.point(k)).isEqualTo(one.point(k));
        }
        // the centre is the model itself: its loss is what an evaluation of the unperturbed model gives
        PointResult centre = one.point(0);
        assertThat(centre.trainLoss()).isFinite();
        assertThat(one.toCsv().lines().count()).isEqualTo(37);
    }

    @Test
    void shouldResumeBitForBitOnTheSimdBackendToo(@TempDir Path dir) throws Exception {
        // a cold start (interpreter / C1) and a resumed, warmer run must agree to the last bit: the SIMD kernels
        // are tier-deterministic (no lanewise EXP/TANH intrinsics, fixed-order lane sums)
        Path partial = dir.resolve("simd.partial.csv");
        AtomicInteger seen = new AtomicInteger();
        jobOn(Kernels.backend(), 2).partial(partial, false).listener((d, t, r) -> seen.incrementAndGet())
                .cancelled(() -> seen.get() >= 7).build().run();
        LandscapeResult resumed = jobOn(Kernels.backend(), 2).partial(partial, false).build().run();
        LandscapeResult again = jobOn(Kernels.backend(), 1).build().run();
        assertThat(resumed.complete()).isTrue();
        assertThat(resumed.resumed()).isGreaterThanOrEqualTo(7);
        for (int k = 0; k < 36; k++) {
            assertThat(resumed.point(k)).as("point " + k).isEqualTo(again.point(k));
        }
    }

    @Test
    void shouldRefuseToResumeFromARunWithOtherSettings(@TempDir Path dir) throws Exception {
        Path partial = dir.resolve("p.csv");
        AtomicInteger seen = new AtomicInteger();
        job(1).partial(partial, false).listener((d, t, r) -> seen.incrementAndGet()).cancelled(() -> seen.get() >= 3)
                .build().run();
        assertThatThrownBy(() -> job(1).evalBatch(32).partial(partial, false).build().run())
                .isInstanceOf(PartialResults.ResumeException.class).hasMessageContaining("other settings");
        LandscapeResult fresh = job(1).evalBatch(32).partial(partial, true).build().run();
        assertThat(fresh.resumed()).isZero();
        assertThat(fresh.complete()).isTrue();
    }
}
