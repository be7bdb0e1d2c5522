package dev.descent.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The update split over the kernel pool is bit-identical to the serial one, for every optimizer. */
class ParallelStepTest {

    @Test
    void shouldGiveTheSerialUpdateBitForBitWhenSplitIntoChunks() {
        KernelBackend k = Kernels.backend();
        for (Optimizer opt : List.of(Optimizers.sgd(0.1), Optimizers.momentum(0.05, 0.9), Optimizers.nesterov(0.05, 0.9),
                Optimizers.adam(0.01), Optimizers.adamW(0.01, 0.1))) {
            // 37*23 + 23 = 874 floats: not a multiple of the 16-float chunk alignment
            try (Model serial = model(); Model parallel = model();
                 OptimizerState a = new OptimizerState(opt, serial); OptimizerState b = new OptimizerState(opt, parallel)) {
                SplittableRandom rnd = new SplittableRandom(9);
                for (int step = 0; step < 5; step++) {
                    for (long i = 0; i < serial.layout().totalFloats(); i++) {
                        float g = (float) rnd.nextGaussian();
                        serial.grads().setFloat(i, g);
                        parallel.grads().setFloat(i, g);
                    }
                    a.step(k, 0.1f);
                    b.step(k, 0.1f, Kernels.pool(), 2);
                }
                assertThat(parallel.parametersSha256()).as(opt.describe()).isEqualTo(serial.parametersSha256());
                assertThat(b.moments().toArray()).as(opt.describe()).containsExactly(a.moments().toArray());
                assertThat(b.steps()).isEqualTo(a.steps());
            }
        }
    }

    @Test
    void shouldGiveTheSameBitsWhenTheGradientIsWrittenBlockByBlockInsideTheUpdate() {
        KernelBackend k = Kernels.backend();
        for (Optimizer opt : List.of(Optimizers.sgd(0.1), Optimizers.momentum(0.05, 0.9),
                Optimizers.nesterov(0.05, 0.9), Optimizers.adam(0.01), Optimizers.adamW(0.01, 0.1))) {
            for (int parts : new int[]{1, 2, 3}) {
                // 400*91 + 91 = 36,491 floats: two or more blocks per part, the last one partial, not a multiple of 16
                try (Model whole = wide(); Model blocks = wide();
                     OptimizerState a = new OptimizerState(opt, whole);
                     OptimizerState b = new OptimizerState(opt, blocks)) {
                    long n = whole.layout().totalFloats();
                    assertThat(n).isGreaterThan(parts * OptimizerState.SOURCE_BLOCK);
                    float[] src = new float[(int) n];
                    AtomicIntegerArray writes = new AtomicIntegerArray((int) n);
                    SplittableRandom rnd = new SplittableRandom(parts);
                    for (int step = 0; step < 4; step++) {
                        for (int i = 0; i < n; i++) {
                            src[i] = (float) rnd.nextGaussian();
                            whole.grads().setFloat(i, src[i] * 0.5f);
                        }
                        a.step(k, 0.1f, Kernels.pool(), parts);
                        for (int i = 0; i < n; i++) {
                            writes.set(i, 0);
                        }
                        b.step(k, 0.1f, Kernels.pool(), parts, (from, m) -> {
                            for (long i = from; i < from + m; i++) {
                                blocks.grads().setFloat(i, src[(int) i] * 0.5f);
                                writes.incrementAndGet((int) i); // parts run on pool threads
                            }
                        });
                        for (int i = 0; i < n; i++) {
                            assertThat(writes.get(i)).as("writes of float %d", i).isEqualTo(1);
                        }
                    }
                    assertThat(blocks.parametersSha256()).as(opt.describe() + ", " + parts + " parts")
                            .isEqualTo(whole.parametersSha256());
                    assertThat(b.moments().toArray()).as(opt.describe()).containsExactly(a.moments().toArray());
                }
            }
        }
    }

    @Test
    void shouldCutSlabsAtAlignedBoundariesCoveringEveryFloat() {
        SlabChunks c = new SlabChunks(874, 3, java.lang.foreign.MemorySegment.ofArray(new float[874]));
        assertThat(c.start(0)).isZero();
        assertThat(c.start(1) % 16).isZero();
        assertThat(c.start(2) % 16).isZero();
        assertThat(c.length(0) + c.length(1) + c.length(2)).isEqualTo(874);
        SlabChunks tiny = new SlabChunks(5, 2, java.lang.foreign.MemorySegment.ofArray(new float[5]));
        assertThat(tiny.length(0)).isEqualTo(5);
        assertThat(tiny.length(1)).isZero();
    }

    private static Model wide() {
        return Sequential.input(400).add(new Linear(91)).build().initialize(Init.XAVIER_NORMAL, Init.ZEROS, 4);
    }

    private static Model model() {
        return Sequential.input(37).add(new Linear(23)).build().initialize(Init.XAVIER_NORMAL, Init.ZEROS, 3);
    }
}
