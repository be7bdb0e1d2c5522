package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.nn.Sequential;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A linear model with one output under MSE against target 1 is a quadratic in its parameters:
 * L(θ) = (1/N) Σ (θ·x̃_i − 1)², x̃ = [x, 1], Hessian H = (2/N) Σ x̃ x̃ᵀ. The landscape and the sharpness must match
 * the closed forms.
 */
class QuadraticLandscapeTest {
    private static final int FEATURES = 3;
    private static final int N = 64;

    private final float[] x = new float[N * FEATURES];

    private Dataset data() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * (1 + i % FEATURES)); // anisotropic: distinct eigenvalues
        }
        return Dataset.of("quadratic", x, new int[N], new int[] {FEATURES}, 1);
    }

    /** θ = [W(3), b] read from the model's layout. */
    private static double[] theta(Model m, java.lang.foreign.MemorySegment s) {
        ParameterLayout.Entry w = m.layout().entry(0);
        ParameterLayout.Entry b = m.layout().entry(1);
        double[] t = new double[FEATURES + 1];
        for (int j = 0; j < FEATURES; j++) {
            t[j] = s.getAtIndex(ValueLayout.JAVA_FLOAT, w.offset() + j);
        }
        t[FEATURES] = s.getAtIndex(ValueLayout.JAVA_FLOAT, b.offset());
        return t;
    }

    private double loss(double[] t) {
        double sum = 0;
        for (int i = 0; i < N; i++) {
            double z = t[FEATURES];
            for (int j = 0; j < FEATURES; j++) {
                z += t[j] * x[i * FEATURES + j];
            }
            sum += (z - 1) * (z - 1);
        }
        return sum / N;
    }

    private double[][] hessian() {
        double[][] h = new double[FEATURES + 1][FEATURES + 1];
        for (int i = 0; i < N; i++) {
            double[] xt = new double[FEATURES + 1];
            for (int j = 0; j < FEATURES; j++) {
                xt[j] = x[i * FEATURES + j];
            }
            xt[FEATURES] = 1;
            for (int a = 0; a <= FEATURES; a++) {
                for (int b = 0; b <= FEATURES; b++) {
                    h[a][b] += 2 * xt[a] * xt[b] / N;
                }
            }
        }
        return h;
    }

    @Test
    void shouldGiveTheAnalyticSurfaceOnAPlane() throws Exception {
        try (Dataset d = data();
             Model m = Sequential.input(FEATURES).add(new Linear(1)).build()
                     .initialize(Init.normal(0.5), Init.normal(0.5), 3)) {
            DirectionSettings s = new DirectionSettings(5, NormType.NONE, false, false);
            OffHeapBlock[] dirs = Directions.randomPair(m.layout(), m.params().segment(), s);
            try {
                Projection p = Projection.plane(1.5, 7);
                LandscapeResult r = LandscapeJob.builder().model(m).directions(dirs[0].segment(), dirs[1].segment())
                        .projection(p).train(d).loss(LossKind.MSE).evalBatch(16).evaluators(2).build().run();
                assertThat(r.complete()).isTrue();
                double[] w = theta(m, m.params().segment());
                double[] u = theta(m, dirs[0].segment());
                double[] v = theta(m, dirs[1].segment());
                for (PointResult pt : r.points()) {
                    double[] t = new double[FEATURES + 1];
                    for (int j = 0; j <= FEATURES; j++) {
                        t[j] = w[j] + pt.a() * u[j] + pt.b() * v[j];
                    }
                    double expected = loss(t);
                    assertThat(pt.trainLoss()).as("point (%s, %s)", pt.a(), pt.b())
                            .isCloseTo(expected, within(2e-5 * (1 + expected)));
                    assertThat(pt.testLoss()).isNaN();
                }
                // the surface is not flat: the check above is not trivially met
                double[][] g = r.trainLossGrid();
                assertThat(g[0][0]).isNotCloseTo(g[3][3], within(0.1));
            } finally {
                dirs[0].close();
                dirs[1].close();
            }
        }
    }

    @Test
    void shouldFindTheTopHessianEigenvalueByPowerIteration() {
        try (Dataset d = data();
             Model m = Sequential.input(FEATURES).add(new Linear(1)).build()
                     .initialize(Init.normal(0.5), Init.normal(0.5), 3)) {
            double[][] h = hessian();
            double[][] vec = new double[FEATURES + 1][FEATURES + 1];
            double[] eig = TrajectoryPca.eigen(h, vec);
            double top = Arrays.stream(eig).max().orElseThrow();
            double second = Arrays.stream(eig).filter(e -> e < top).max().orElseThrow();
            assertThat(top / second).as("a well separated top eigenvalue").isGreaterThan(1.5);

            Sharpness.Report rep = Sharpness.measure(() -> Model.fromSpec(m.spec()), m, m.params().segment(), d,
                    LossKind.MSE, 16, BnMode.RUNNING, dev.descent.engine.kernel.Kernels.backend(),
                    new Sharpness.Settings(200, 1e-7, 1e-2, 1e-3, 10, 1));
            assertThat(rep.topEigenvalue()).isCloseTo(top, within(1e-3 * top));
            assertThat(rep.loss()).isCloseTo(loss(theta(m, m.params().segment())), within(1e-5));
            // ε-sharpness: the box maximum of a convex quadratic is above L(w), and bounded by the box's reach
            assertThat(rep.epsilonSharpness()).isPositive().isLessThan(10);
        }
    }

    private static final class Arrays {
        static java.util.stream.DoubleStream stream(double[] a) {
            return java.util.Arrays.stream(a);
        }
    }
}
