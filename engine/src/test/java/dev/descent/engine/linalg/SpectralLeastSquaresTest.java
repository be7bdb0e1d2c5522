package dev.descent.engine.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

/**
 * The least-squares path against references computed here without EJML: normal equations solved by Gaussian
 * elimination with partial pivoting (well-conditioned cases), and for a rank-deficient matrix A = B·C (B full
 * column rank, C full row rank) the pseudo-inverse A⁺ = C⁺B⁺ = Cᵀ(CCᵀ)⁻¹(BᵀB)⁻¹Bᵀ.
 */
class SpectralLeastSquaresTest {
    private final Random rng = new Random(42);

    @Test
    void shouldMatchTheNormalEquationsOnAWellConditionedTallProblem() {
        DMatrixRMaj z = gaussian(60, 12);
        DMatrixRMaj y = gaussian(60, 3);
        double[][] ref = solve(add(gram(t(z), z), 0), mul(t(z), y));  // (ZᵀZ)⁻¹ZᵀY
        for (SpectralLeastSquares ls : new SpectralLeastSquares[] {SpectralLeastSquares.gram(z), SpectralLeastSquares.svd(z)}) {
            assertClose(ls.solve(y, 0), ref, 1e-10);
            assertThat(ls.rank()).isEqualTo(12);
        }
    }

    @Test
    void shouldFindTheInterpolatingSolutionOfSmallestNormOnAWideProblem() {
        DMatrixRMaj z = gaussian(12, 60);
        DMatrixRMaj y = gaussian(12, 3);
        double[][] ref = mul(t(z), solve(add(gram(z, t(z)), 0), arr(y)));  // Zᵀ(ZZᵀ)⁻¹Y
        for (SpectralLeastSquares ls : new SpectralLeastSquares[] {SpectralLeastSquares.gram(z), SpectralLeastSquares.svd(z)}) {
            DMatrixRMaj a = ls.solve(y, 0);
            assertClose(a, ref, 1e-10);
            assertClose(product(z, a), arr(y), 1e-10);   // interpolates
        }
    }

    @Test
    void shouldMatchRidgeNormalEquationsOnBothSides() {
        for (int[] shape : new int[][] {{50, 20}, {20, 50}}) {
            DMatrixRMaj z = gaussian(shape[0], shape[1]);
            DMatrixRMaj y = gaussian(shape[0], 2);
            double lambda = 0.37;
            double[][] ref = solve(add(gram(t(z), z), lambda), mul(t(z), y));  // (ZᵀZ + λI)⁻¹ZᵀY
            assertClose(SpectralLeastSquares.gram(z).solve(y, lambda), ref, 1e-10);
            assertClose(SpectralLeastSquares.svd(z).solve(y, lambda), ref, 1e-10);
        }
    }

    @Test
    void shouldReturnThePseudoInverseSolutionOnARankDeficientProblem() {
        DMatrixRMaj b = gaussian(30, 5);
        DMatrixRMaj c = gaussian(5, 20);
        DMatrixRMaj z = new DMatrixRMaj(product(b, c));   // [30, 20], rank 5
        DMatrixRMaj y = gaussian(30, 4);
        // A⁺ = Cᵀ(CCᵀ)⁻¹ (BᵀB)⁻¹Bᵀ
        double[][] bPlusY = solve(add(gram(t(b), b), 0), mul(t(b), y));
        double[][] ref = mul(t(c), solve(add(gram(c, t(c)), 0), bPlusY));
        SpectralLeastSquares svd = SpectralLeastSquares.svd(z);
        assertThat(svd.rank()).isEqualTo(5);
        assertClose(svd.solve(y, 0), ref, 1e-9);
        SpectralLeastSquares gram = SpectralLeastSquares.gram(z);
        assertThat(gram.rank()).isEqualTo(5);
        assertClose(gram.solve(y, 0), ref, 1e-6);
        // and the transposed (wide) problem
        DMatrixRMaj zt = new DMatrixRMaj(t(z));
        DMatrixRMaj yt = gaussian(20, 2);
        double[][] ctPlusY = solve(add(gram(c, t(c)), 0), mul(c, yt));            // (Cᵀ)⁺ = (CCᵀ)⁻¹C
        double[][] refT = mul(b, solve(add(gram(t(b), b), 0), ctPlusY));          // (Bᵀ)⁺ = B(BᵀB)⁻¹
        assertClose(SpectralLeastSquares.svd(zt).solve(yt, 0), refT, 1e-9);
        assertClose(SpectralLeastSquares.gram(zt).solve(yt, 0), refT, 1e-6);
    }

    @Test
    void shouldReportSingularValuesInDescendingOrder() {
        DMatrixRMaj z = new DMatrixRMaj(new double[][] {{3, 0}, {0, -5}, {0, 0}});
        assertThat(SpectralLeastSquares.svd(z).singularValues()).containsExactly(new double[] {5, 3},
                org.assertj.core.data.Offset.offset(1e-12));
        assertThat(SpectralLeastSquares.gram(z).singularValues()).containsExactly(new double[] {5, 3},
                org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void shouldRejectMismatchedTargetsAndNegativeRidge() {
        SpectralLeastSquares ls = SpectralLeastSquares.gram(gaussian(5, 3));
        assertThatThrownBy(() -> ls.solve(gaussian(4, 1), 0)).hasMessageContaining("4 rows").hasMessageContaining("5");
        assertThatThrownBy(() -> ls.solve(gaussian(5, 1), -1)).hasMessageContaining("ridge").hasMessageContaining("-1");
    }

    // ---------------------------------------------------------------- plain reference arithmetic (no EJML)

    private DMatrixRMaj gaussian(int rows, int cols) {
        DMatrixRMaj m = new DMatrixRMaj(rows, cols);
        for (int i = 0; i < m.data.length; i++) {
            m.data[i] = rng.nextGaussian();
        }
        return m;
    }

    private static double[][] arr(DMatrixRMaj m) {
        double[][] a = new double[m.numRows][m.numCols];
        for (int i = 0; i < m.numRows; i++) {
            for (int j = 0; j < m.numCols; j++) {
                a[i][j] = m.get(i, j);
            }
        }
        return a;
    }

    private static double[][] t(DMatrixRMaj m) {
        return t(arr(m));
    }

    private static double[][] t(double[][] a) {
        double[][] o = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                o[j][i] = a[i][j];
            }
        }
        return o;
    }

    private static double[][] mul(double[][] a, double[][] b) {
        double[][] o = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    o[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return o;
    }

    private static double[][] mul(double[][] a, DMatrixRMaj b) {
        return mul(a, arr(b));
    }

    private static double[][] mul(DMatrixRMaj a, DMatrixRMaj b) {
        return mul(arr(a), arr(b));
    }

    private static double[][] product(DMatrixRMaj a, DMatrixRMaj b) {
        return mul(arr(a), arr(b));
    }

    private static double[][] gram(double[][] a, double[][] b) {
        return mul(a, b);
    }

    private static double[][] gram(DMatrixRMaj a, double[][] b) {
        return mul(arr(a), b);
    }

    private static double[][] gram(double[][] a, DMatrixRMaj b) {
        return mul(a, arr(b));
    }

    private static double[][] mul(DMatrixRMaj a, double[][] b) {
        return mul(arr(a), b);
    }

    private static double[][] add(double[][] a, double lambda) {
        double[][] o = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            o[i] = a[i].clone();
            o[i][i] += lambda;
        }
        return o;
    }

    /** Solves M·X = R by Gaussian elimination with partial pivoting. */
    private static double[][] solve(double[][] m, double[][] r) {
        int n = m.length;
        double[][] a = new double[n][];
        double[][] b = new double[n][];
        for (int i = 0; i < n; i++) {
            a[i] = m[i].clone();
            b[i] = r[i].clone();
        }
        for (int c = 0; c < n; c++) {
            int p = c;
            for (int i = c + 1; i < n; i++) {
                if (Math.abs(a[i][c]) > Math.abs(a[p][c])) {
                    p = i;
                }
            }
            double[] s = a[c]; a[c] = a[p]; a[p] = s;
            s = b[c]; b[c] = b[p]; b[p] = s;
            for (int i = c + 1; i < n; i++) {
                double f = a[i][c] / a[c][c];
                for (int j = c; j < n; j++) {
                    a[i][j] -= f * a[c][j];
                }
                for (int j = 0; j < b[0].length; j++) {
                    b[i][j] -= f * b[c][j];
                }
            }
        }
        double[][] x = new double[n][b[0].length];
        for (int i = n - 1; i >= 0; i--) {
            for (int j = 0; j < b[0].length; j++) {
                double v = b[i][j];
                for (int k = i + 1; k < n; k++) {
                    v -= a[i][k] * x[k][j];
                }
                x[i][j] = v / a[i][i];
            }
        }
        return x;
    }

    private static void assertClose(DMatrixRMaj actual, double[][] expected, double relTol) {
        assertClose(arr(actual), expected, relTol);
    }

    private static void assertClose(double[][] actual, double[][] expected, double relTol) {
        assertThat(actual.length).isEqualTo(expected.length);
        double scale = 0;
        for (double[] row : expected) {
            for (double v : row) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                assertThat(actual[i][j]).as("[%d][%d]", i, j).isCloseTo(expected[i][j],
                        org.assertj.core.data.Offset.offset(relTol * scale));
            }
        }
    }
}
