package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.Conv2d;
import dev.descent.engine.nn.Flatten;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.nn.Sequential;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectionsTest {

    /** Conv (per-channel filters), BatchNorm (bias-like tensors) and Linear layers, biases non-zero. */
    private static Model model() {
        return Sequential.input(1, 6, 6).add(new Conv2d(4, 3)).add(new BatchNorm())
                .add(new ActivationLayer(Activation.RELU)).add(new Flatten()).add(new Linear(7))
                .add(new ActivationLayer(Activation.RELU)).add(new Linear(3)).build()
                .initialize(Init.KAIMING_NORMAL, Init.normal(0.3), 5);
    }

    private static double norm(MemorySegment s, long off, int n) {
        return Math.sqrt(Directions.sumSquares(s, off, n));
    }

    @Test
    void shouldScaleEveryFilterToTheNormOfItsWeights() {
        try (Model m = model();
             OffHeapBlock d = Directions.random(m.layout(), m.params().segment(), DirectionSettings.defaults(3), 0)) {
            int filters = 0;
            for (ParameterLayout.Entry e : m.layout().entries()) {
                if (e.bias()) {
                    continue;
                }
                int rows = e.shape()[0];
                int per = e.count() / rows;
                for (int f = 0; f < rows; f++) {
                    long off = e.offset() + (long) f * per;
                    double wn = norm(m.params().segment(), off, per);
                    assertThat(wn).isPositive();
                    assertThat(norm(d.segment(), off, per)).as(e + " filter " + f).isCloseTo(wn, within(1e-5 * wn));
                    filters++;
                }
            }
            assertThat(filters).as("4 conv channels + 7 + 3 linear units").isEqualTo(14);
            // and it is not just the weights: a random direction is far from w
            double wd = Directions.dot(m.params().segment(), d.segment(), m.layout().totalFloats());
            double ww = Directions.sumSquares(m.params().segment(), 0, m.layout().totalFloats());
            assertThat(Math.abs(wd) / ww).isLessThan(0.5);
        }
    }

    @Test
    void shouldZeroIgnoredBiasesAndNormParametersAndThePadding() {
        try (Model m = model();
             OffHeapBlock d = Directions.random(m.layout(), m.params().segment(), DirectionSettings.defaults(3), 0)) {
            float[] all = d.toArray();
            boolean[] covered = new boolean[all.length];
            int biasTensors = 0;
            for (ParameterLayout.Entry e : m.layout().entries()) {
                for (int i = 0; i < e.count(); i++) {
                    covered[(int) e.offset() + i] = true;
                    if (e.bias()) {
                        assertThat(all[(int) e.offset() + i]).as(e.toString()).isZero();
                    }
                }
                biasTensors += e.bias() ? 1 : 0;
            }
            assertThat(biasTensors).as("conv bias, BN gamma-1 and beta, two linear biases").isEqualTo(5);
            for (int i = 0; i < all.length; i++) {
                if (!covered[i]) {
                    assertThat(all[i]).as("padding float " + i).isZero();
                }
            }
        }
    }

    @Test
    void shouldKeepBiasesWhenAskedAndScaleTensorsPerLayer() {
        try (Model m = model()) {
            MemorySegment w = m.params().segment();
            try (OffHeapBlock keep = Directions.random(m.layout(), w,
                    new DirectionSettings(3, NormType.FILTER, false, false), 0);
                 OffHeapBlock layer = Directions.random(m.layout(), w,
                         new DirectionSettings(3, NormType.LAYER, false, false), 0);
                 OffHeapBlock none = Directions.random(m.layout(), w,
                         new DirectionSettings(3, NormType.NONE, true, false), 0)) {
                for (ParameterLayout.Entry e : m.layout().entries()) {
                    double wn = norm(w, e.offset(), e.count());
                    if (e.bias()) {
                        for (int i = 0; i < e.count(); i++) {
                            assertThat(keep.getFloat(e.offset() + i)).as("Li et al.: kept 1-D tensors copy w")
                                    .isEqualTo(w.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, e.offset() + i));
                        }
                    }
                    if (wn > 0) {
                        assertThat(norm(layer.segment(), e.offset(), e.count())).as(e.toString())
                                .isCloseTo(wn, within(1e-5 * wn));
                    }
                    if (!e.bias()) {
                        // raw N(0,1): the norm is about sqrt(count), not the weights' norm
                        assertThat(norm(none.segment(), e.offset(), e.count()))
                                .isCloseTo(Math.sqrt(e.count()), within(0.5 * Math.sqrt(e.count())));
                    }
                }
            }
        }
    }

    @Test
    void shouldReproduceDirectionsBitForBitFromTheSeed() {
        try (Model m = model()) {
            MemorySegment w = m.params().segment();
            DirectionSettings s = new DirectionSettings(42, NormType.FILTER, true, true);
            OffHeapBlock[] a = Directions.randomPair(m.layout(), w, s);
            OffHeapBlock[] b = Directions.randomPair(m.layout(), w, s);
            OffHeapBlock[] c = Directions.randomPair(m.layout(), w, new DirectionSettings(43, NormType.FILTER, true, true));
            try {
                assertThat(a[0].toArray()).isEqualTo(b[0].toArray());
                assertThat(a[1].toArray()).isEqualTo(b[1].toArray());
                assertThat(Arrays.equals(a[0].toArray(), a[1].toArray())).as("two directions differ").isFalse();
                assertThat(Arrays.equals(a[0].toArray(), c[0].toArray())).as("another seed differs").isFalse();
            } finally {
                for (OffHeapBlock[] p : new OffHeapBlock[][] {a, b, c}) {
                    p[0].close();
                    p[1].close();
                }
            }
        }
    }

    @Test
    void shouldOrthogonalizeTheSecondDirectionAndKeepItsNorm() {
        try (Model m = model()) {
            long n = m.layout().totalFloats();
            MemorySegment w = m.params().segment();
            OffHeapBlock[] plain = Directions.randomPair(m.layout(), w, new DirectionSettings(9, NormType.LAYER, true, false));
            OffHeapBlock[] orth = Directions.randomPair(m.layout(), w, new DirectionSettings(9, NormType.LAYER, true, true));
            try {
                double cosBefore = Directions.dot(plain[0].segment(), plain[1].segment(), n)
                        / Math.sqrt(Directions.sumSquares(plain[0].segment(), 0, n)
                        * Directions.sumSquares(plain[1].segment(), 0, n));
                assertThat(Math.abs(cosBefore)).as("small models: random directions are not orthogonal").isGreaterThan(1e-3);
                assertThat(Directions.dot(orth[0].segment(), orth[1].segment(), n)).isCloseTo(0, within(1e-4));
                assertThat(Directions.sumSquares(orth[1].segment(), 0, n))
                        .isCloseTo(Directions.sumSquares(plain[1].segment(), 0, n), within(1e-3));
                assertThat(orth[0].toArray()).isEqualTo(plain[0].toArray());
            } finally {
                for (OffHeapBlock[] p : new OffHeapBlock[][] {plain, orth}) {
                    p[0].close();
                    p[1].close();
                }
            }
        }
    }

    @Test
    void shouldSaveAndLoadDirectionsExactlyAndRejectCorruption(@TempDir Path dir) throws IOException {
        try (Model m = model()) {
            OffHeapBlock[] p = Directions.randomPair(m.layout(), m.params().segment(), DirectionSettings.defaults(1));
            Path f = dir.resolve("directions.bin");
            try {
                DirectionFile.save(f, m.spec(), "seed=1 norm=filter", p[0].segment(), p[1].segment());
                try (DirectionFile.Loaded l = DirectionFile.load(f)) {
                    assertThat(l.spec()).isEqualTo(m.spec());
                    assertThat(l.notes()).isEqualTo("seed=1 norm=filter");
                    assertThat(l.directions()).hasSize(2);
                    assertThat(l.directions()[0].toArray()).isEqualTo(p[0].toArray());
                    assertThat(l.directions()[1].toArray()).isEqualTo(p[1].toArray());
                }
            } finally {
                p[0].close();
                p[1].close();
            }
            byte[] bytes = Files.readAllBytes(f);
            bytes[bytes.length / 2] ^= 1;
            Files.write(f, bytes);
            assertThatThrownBy(() -> DirectionFile.load(f)).hasMessageContaining("checksum");
        }
    }
}
