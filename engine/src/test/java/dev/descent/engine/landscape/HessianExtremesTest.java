package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Lanczos extremes against the full spectrum: on a linear least-squares model (a quadratic, Hessian (2/N) X̃ᵀX̃, no
 * negative curvature) and on a two-layer linear network near the origin (a saddle: negative curvature), where the
 * reference is the dense Hessian assembled column by column from Hessian-vector products.
 */
class HessianExtremesTest {
    private static final int FEATURES = 3;
    private static final int N = 64;

    private static Dataset data(float[] x) {
        SplittableRandom r = new SplittableRandom(11);
        int[] y = new int[N];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * (1 + i % FEATURES));
        }
        return Dataset.of("quadratic", x, y, new int[] {FEATURES}, 1);
    }

    @Test
    void shouldFindBothEndsOfAQuadraticsSpectrum() {
        float[] x = new float[N * FEATURES];
        try (Dataset d = data(x);
             Model m = Sequential.input(FEATURES).add(new Linear(1)).build()
                     .initialize(Init.normal(0.5), Init.normal(0.5), 3)) {
            // closed form: H = (2/N) Σ x̃ x̃ᵀ, x̃ = [x, 1] (weights first, then the bias, as in the layout)
            double[][] h = new double[FEATURES + 1][FEATURES + 1];
            for (int i = 0; i < N; i++) {
                double[] t = new double[FEATURES + 1];
                for (int j = 0; j < FEATURES; j++) {
                    t[j] = x[i * FEATURES + j];
                }
                t[FEATURES] = 1;
                for (int a = 0; a <= FEATURES; a++) {
                    for (int b = 0; b <= FEATURES; b++) {
                        h[a][b] += 2.0 * t[a] * t[b] / N;
                    }
                }
            }
            double[] eig = TrajectoryPca.eigen(h, new double[FEATURES + 1][FEATURES + 1]);
            double lo = Arrays.stream(eig).min().orElseThrow();
            double hi = Arrays.stream(eig).max().orElseThrow();
            assertThat(hi / lo).as("a spread spectrum").isGreaterThan(3);
            HessianExtremes.Extremes e = HessianExtremes.at(() -> Model.fromSpec(m.spec()), m, m.params().segment(),
                    d, LossKind.MSE, 16, BnMode.RUNNING, Kernels.backend(), new HessianExtremes.Settings(4, 1e-2, 5));
            assertThat(e.lambdaMax()).isCloseTo(hi, within(1e-3 * hi));
            assertThat(e.lambdaMin()).isCloseTo(lo, within(1e-3 * hi));
            assertThat(e.negativeRatio()).isZero();
        }
    }

    @Test
    void shouldFindTheNegativeCurvatureOfASaddle() {
        float[] x = new float[N * FEATURES];
        try (Dataset d = data(x);
             Model m = Sequential.input(FEATURES).add(new Linear(2)).add(new Linear(1)).build()
                     .initialize(Init.normal(0.05), Init.ZEROS, 4)) {
            long n = m.params().floatCount();
            int dim = (int) n;
            double[][] h = new double[dim][dim];
            try (LossProbe probe = new LossProbe(m, Kernels.backend(), LossKind.MSE, 16, BnMode.RUNNING, true);
                 OffHeapBlock w = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock e = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock out = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock tmp = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE)) {
                MemorySegment.copy(m.params().segment(), 0, w.segment(), 0, n * Float.BYTES);
                for (int c = 0; c < dim; c++) {
                    e.segment().fill((byte) 0);
                    e.segment().setAtIndex(ValueLayout.JAVA_FLOAT, c, 1f);
                    Sharpness.hessianVector(probe, d, w.segment(), m.params().segment(), e.segment(), 1e-2,
                            out.segment(), tmp.segment(), n, Kernels.backend());
                    for (int r = 0; r < dim; r++) {
                        h[r][c] = out.segment().getAtIndex(ValueLayout.JAVA_FLOAT, r);
                    }
                }
            }
            for (int r = 0; r < dim; r++) {
                for (int c = r + 1; c < dim; c++) {
                    double s = (h[r][c] + h[c][r]) / 2;
                    h[r][c] = s;
                    h[c][r] = s;
                }
            }
            double[] eig = TrajectoryPca.eigen(h, new double[dim][dim]);
            double lo = Arrays.stream(eig).min().orElseThrow();
            double hi = Arrays.stream(eig).max().orElseThrow();
            assertThat(lo).as("a saddle near the origin").isLessThan(-0.05 * hi);
            HessianExtremes.Extremes ex = HessianExtremes.at(() -> Model.fromSpec(m.spec()), m,
                    m.params().segment(), d, LossKind.MSE, 16, BnMode.RUNNING, Kernels.backend(),
                    new HessianExtremes.Settings(dim, 1e-2, 5));
            assertThat(ex.lambdaMax()).isCloseTo(hi, within(2e-3 * hi));
            assertThat(ex.lambdaMin()).isCloseTo(lo, within(2e-3 * hi));
            assertThat(ex.negativeRatio()).isCloseTo(-lo / hi, within(1e-2));
        }
    }

    @Test
    void shouldMapAPlaneOnTwoThreadsAsPointByPoint() {
        float[] x = new float[N * FEATURES];
        try (Dataset d = data(x);
             Model m = Sequential.input(FEATURES).add(new Linear(2)).add(new Linear(1)).build()
                     .initialize(Init.normal(0.3), Init.ZEROS, 4);
             OffHeapBlock d1 = Directions.allocate(m.layout());
             OffHeapBlock d2 = Directions.allocate(m.layout());
             OffHeapBlock w = OffHeapBlock.allocateFloats(m.params().floatCount(), Purpose.WORKSPACE)) {
            long n = m.params().floatCount();
            Directions.gaussian(d1.segment(), m.layout(), 1, 0);
            Directions.gaussian(d2.segment(), m.layout(), 2, 0);
            double[] as = {-0.5, 0.5};
            double[] bs = {-0.5, 0, 0.5};
            HessianExtremes.Settings s = new HessianExtremes.Settings(5, 1e-2, 5);
            AtomicInteger calls = new AtomicInteger();
            HessianExtremes.Extremes[][] map = HessianExtremes.map(() -> Model.fromSpec(m.spec()), m,
                    m.params().segment(), d1.segment(), d2.segment(), as, bs, d, LossKind.MSE, 16, BnMode.RUNNING,
                    Kernels.backend(), s, 2, k -> calls.incrementAndGet());
            assertThat(calls.get()).isEqualTo(6);
            MemorySegment ws = w.segment();
            for (int j = 0; j < bs.length; j++) {
                for (int i = 0; i < as.length; i++) {
                    MemorySegment.copy(m.params().segment(), 0, ws, 0, n * Float.BYTES);
                    Kernels.backend().axpy(ws, 0, (float) as[i], d1.segment(), 0, n);
                    Kernels.backend().axpy(ws, 0, (float) bs[j], d2.segment(), 0, n);
                    HessianExtremes.Extremes one = HessianExtremes.at(() -> Model.fromSpec(m.spec()), m, ws, d,
                            LossKind.MSE, 16, BnMode.RUNNING, Kernels.backend(), s);
                    assertThat(map[j][i].lambdaMax()).isCloseTo(one.lambdaMax(), within(1e-6 * Math.abs(one.lambdaMax())));
                    assertThat(map[j][i].lambdaMin()).isCloseTo(one.lambdaMin(), within(1e-6 * Math.abs(one.lambdaMax())));
                    assertThat(map[j][i].loss()).isCloseTo(one.loss(), within(1e-9));
                }
            }
            assertThat(map[0][0].loss()).isNotCloseTo(map[2][1].loss(), within(1e-6));
        }
    }
}
