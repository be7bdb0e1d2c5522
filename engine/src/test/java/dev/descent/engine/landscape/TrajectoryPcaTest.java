package dev.descent.engine.landscape;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TrajectoryPcaTest {

    @Test
    void shouldRecoverThePlaneOfAPlanarTrajectoryAndItsCoordinates() {
        int dim = 200;
        int n = 12;
        SplittableRandom r = new SplittableRandom(3);
        double[] u = new double[dim];
        double[] v = new double[dim];
        double[] c = new double[dim];
        for (int i = 0; i < dim; i++) {
            u[i] = r.nextGaussian();
            v[i] = r.nextGaussian();
            c[i] = r.nextGaussian();
        }
        normalize(u);
        double uv = dot(u, v);
        for (int i = 0; i < dim; i++) {
            v[i] -= uv * u[i];
        }
        normalize(v);
        double[][] path = new double[n][2];
        List<OffHeapBlock> blocks = new ArrayList<>();
        List<MemorySegment> points = new ArrayList<>();
        try {
            for (int k = 0; k < n; k++) {
                double t = (double) k / (n - 1);
                path[k][0] = 4 * (1 - t) * (1 - t);            // a spiral-ish path ending at the origin
                path[k][1] = 1.5 * Math.sin(3 * t) * (1 - t);
                OffHeapBlock b = OffHeapBlock.allocateFloats(dim, Purpose.WORKSPACE);
                for (int i = 0; i < dim; i++) {
                    b.setFloat(i, (float) (c[i] + path[k][0] * u[i] + path[k][1] * v[i] + 1e-4 * r.nextGaussian()));
                }
                blocks.add(b);
                points.add(b.segment());
            }
            try (TrajectoryPca pca = TrajectoryPca.compute(points, dim)) {
                assertThat(pca.explained()[0] + pca.explained()[1]).isGreaterThan(0.999);
                assertThat(pca.explained()[0]).isGreaterThanOrEqualTo(pca.explained()[1]);
                double[] d1 = read(pca.d1(), dim);
                double[] d2 = read(pca.d2(), dim);
                assertThat(dot(d1, d1)).isCloseTo(1, within(1e-5));
                assertThat(dot(d1, d2)).isCloseTo(0, within(1e-4));
                // both directions lie in span(u, v)
                for (double[] d : new double[][] {d1, d2}) {
                    assertThat(dot(d, u) * dot(d, u) + dot(d, v) * dot(d, v)).isCloseTo(1, within(1e-4));
                }
                // coordinates preserve distances to the final point
                double[][] xy = pca.coords();
                assertThat(xy[n - 1][0]).isCloseTo(0, within(1e-6));
                for (int k = 0; k < n; k++) {
                    double expected = Math.hypot(path[k][0], path[k][1]);
                    assertThat(Math.hypot(xy[k][0], xy[k][1])).isCloseTo(expected, within(1e-3));
                }
            }
        } finally {
            blocks.forEach(OffHeapBlock::close);
        }
    }

    @Test
    void shouldDiagonalizeASymmetricMatrix() {
        double[][] a = {{4, 1, 0.5}, {1, 3, 0.2}, {0.5, 0.2, 1}};
        double[][] copy = {a[0].clone(), a[1].clone(), a[2].clone()};
        double[][] vec = new double[3][3];
        double[] val = TrajectoryPca.eigen(copy, vec);
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 3; i++) {
                double av = 0;
                for (int j = 0; j < 3; j++) {
                    av += a[i][j] * vec[j][k];
                }
                assertThat(av).isCloseTo(val[k] * vec[i][k], within(1e-10));
            }
        }
        assertThat(val[0] + val[1] + val[2]).isCloseTo(8, within(1e-10));
    }

    private static double[] read(OffHeapBlock b, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = b.getFloat(i);
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void normalize(double[] a) {
        double n = Math.sqrt(dot(a, a));
        for (int i = 0; i < a.length; i++) {
            a[i] /= n;
        }
    }
}
