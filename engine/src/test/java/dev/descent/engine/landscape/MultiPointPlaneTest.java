package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ReferenceNet;
import dev.descent.engine.nn.Sequential;
import dev.descent.engine.optim.Optimizers;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plane objective's gradient w.r.t. origin, u and v against central finite differences of a double-precision
 * reference of J = mean_low L(w(a, b)) − mean_high min(L(w(a, b)), cap), w(a, b) = origin + a·u + b·v, with one high
 * cell above the cap (no gradient) and one below it.
 */
class MultiPointPlaneTest {
    private static final int BATCH = 5;
    private static final int IN = 6;
    private static final int CLASSES = 4;
    private static final double[] A = {-1, 0.5, 0, 1, -0.5};
    private static final double[] B = {0.25, -1, 0, 1, 0.75};
    private static final boolean[] LOW = {true, true, true, false, false};

    private static Model net() {
        return Sequential.input(IN).add(new Linear(7)).add(new ActivationLayer(Activation.TANH)).add(new Linear(CLASSES))
                .build().initialize(Init.normal(0.6), Init.normal(0.3), 3);
    }

    @Test
    void shouldMatchFiniteDifferencesOfThePlaneObjective() {
        KernelBackend k = Kernels.scalar();
        try (Model m = net(); Model mu = net().initialize(Init.normal(0.8), Init.normal(0.4), 4);
             Model mv = net().initialize(Init.normal(0.8), Init.normal(0.4), 5);
             MultiPointPlane plane = new MultiPointPlane(m, k, LossKind.CROSS_ENTROPY, Optimizers.sgd(0.1), BATCH, 0, 1,
                     7);
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
            double[] o = ReferenceNet.params(m);
            double[] u = ReferenceNet.params(mu);
            double[] v = ReferenceNet.params(mv);
            plane.set(m.params().segment(), mu.params().segment(), mv.params().segment());
            int n = o.length;
            // the cap lies between the two high cells' losses: one is capped (no gradient), one is pushed up
            double l3 = loss(m, point(o, u, v, A[3], B[3]), xs, labels);
            double l4 = loss(m, point(o, u, v, A[4], B[4]), xs, labels);
            assertThat(Math.abs(l3 - l4)).as("the high cells' losses must differ to place the cap").isGreaterThan(0.05);
            double cap = (l3 + l4) / 2;

            double objective = plane.gradient(x.segment(), 0, y.segment(), 0, BATCH, A, B, LOW, 5, cap, 0);
            assertThat(objective).isCloseTo(reference(m, o, u, v, xs, labels, cap),
                    org.assertj.core.data.Offset.offset(1e-4));
            assertThat(plane.cappedCells()).isEqualTo(1);

            double[][] vectors = {o, u, v};
            double h = 1e-6;
            MemorySegment g = plane.gradients();
            double norm = 0;
            for (int which = 0; which < 3; which++) {
                for (int i = 0; i < n; i++) {
                    double saved = vectors[which][i];
                    vectors[which][i] = saved + h;
                    double up = reference(m, o, u, v, xs, labels, cap);
                    vectors[which][i] = saved - h;
                    double down = reference(m, o, u, v, xs, labels, cap);
                    vectors[which][i] = saved;
                    double fd = (up - down) / (2 * h);
                    double engine = g.getAtIndex(ValueLayout.JAVA_FLOAT, (long) which * n + i);
                    assertThat(Math.abs(engine - fd)).as("grad of %s[%d]: engine %s, finite differences %s",
                            new String[] {"origin", "u", "v"}[which], i, engine, fd)
                            .isLessThanOrEqualTo(2e-5 + 2e-3 * Math.abs(fd));
                    norm += fd * fd;
                }
            }
            assertThat(plane.gradientNorm()).isCloseTo(Math.sqrt(norm), org.assertj.core.data.Offset.offset(
                    1e-3 * Math.sqrt(norm)));
            assertThat(norm).as("a non-trivial gradient").isGreaterThan(1e-4);
        }
    }

    @Test
    void shouldStepDownTheObjectiveAndResumeExactly(@TempDir Path dir) throws Exception {
        KernelBackend k = Kernels.scalar();
        try (Model m = net(); Model m2 = net();
             MultiPointPlane plane = new MultiPointPlane(m, k, LossKind.CROSS_ENTROPY, Optimizers.adam(0.01), BATCH, 10,
                     1, 7);
             MultiPointPlane copy = new MultiPointPlane(m2, k, LossKind.CROSS_ENTROPY, Optimizers.adam(0.01), BATCH, 10,
                     1, 7);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) BATCH * IN, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate((long) BATCH * Integer.BYTES, Purpose.BATCHES)) {
            SplittableRandom rng = new SplittableRandom(5);
            for (int i = 0; i < BATCH * IN; i++) {
                x.setFloat(i, (float) rng.nextGaussian());
            }
            for (int r = 0; r < BATCH; r++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, r, rng.nextInt(CLASSES));
            }
            double first = plane.step(x.segment(), 0, y.segment(), 0, BATCH, A, B, LOW, 5, 10, 0.01f);
            for (int s = 0; s < 30; s++) {
                plane.step(x.segment(), 0, y.segment(), 0, BATCH, A, B, LOW, 5, 10, 0.01f);
            }
            Path state = dir.resolve("plane.state");
            plane.save(state, "seed=1");
            double next = plane.step(x.segment(), 0, y.segment(), 0, BATCH, A, B, LOW, 5, 10, 0.01f);
            assertThat(next).as("30 Adam steps lower low losses and raise high ones").isLessThan(first - 0.1);

            assertThat(copy.restore(state)).isEqualTo("seed=1");
            assertThat(copy.steps()).isEqualTo(31);
            copy.step(x.segment(), 0, y.segment(), 0, BATCH, A, B, LOW, 5, 10, 0.01f);
            assertThat(MemorySegment.mismatch(plane.origin(), 0, plane.origin().byteSize(), copy.origin(), 0,
                    copy.origin().byteSize())).as("resumed plane is bit-identical").isEqualTo(-1);
            assertThat(MemorySegment.mismatch(plane.v(), 0, plane.v().byteSize(), copy.v(), 0, copy.v().byteSize()))
                    .isEqualTo(-1);

            Files.write(state, new byte[] {1, 2, 3});
            assertThatThrownBy(() -> copy.restore(state)).isInstanceOf(CheckpointException.class)
                    .hasMessageContaining(state.toString());
        }
    }

    @Test
    void shouldRefuseModelsWithBuffers() {
        try (Model bn = Sequential.input(IN).add(new Linear(7)).add(new BatchNorm()).add(new Linear(CLASSES)).build()
                .initialize(Init.normal(0.5), Init.ZEROS, 1)) {
            assertThatThrownBy(() -> new MultiPointPlane(bn, Kernels.scalar(), LossKind.CROSS_ENTROPY,
                    Optimizers.sgd(0.1), 4, 0, 1, 1)).hasMessageContaining("BatchNorm");
        }
    }

    private static double[] point(double[] o, double[] u, double[] v, double a, double b) {
        double[] w = new double[o.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = o[i] + a * u[i] + b * v[i];
        }
        return w;
    }

    private static double loss(Model m, double[] w, double[] xs, int[] labels) {
        return ReferenceNet.loss(m, w, xs, labels, BATCH, LossKind.CROSS_ENTROPY, true, 7, 0);
    }

    private static double reference(Model m, double[] o, double[] u, double[] v, double[] xs, int[] labels,
                                    double cap) {
        double low = 0;
        double high = 0;
        int lows = 0;
        for (int c = 0; c < A.length; c++) {
            double l = loss(m, point(o, u, v, A[c], B[c]), xs, labels);
            if (LOW[c]) {
                low += l;
                lows++;
            } else {
                high += Math.min(l, cap);
            }
        }
        return low / lows - high / (A.length - lows);
    }
}
