package dev.descent.sdk;

import dev.descent.engine.linalg.SpectralLeastSquares;
import org.ejml.data.DMatrixRMaj;

/**
 * Dense least squares in double precision: the minimum-norm solution {@code X = A⁺B} (Moore-Penrose
 * pseudo-inverse; for a full-rank tall A the ordinary least-squares solution, for a wide A the interpolating
 * solution of smallest norm, for a rank-deficient A the smallest-norm minimiser) and ridge regression
 * {@code X = (AᵀA + λI)⁻¹AᵀB}. Computed through EJML's SVD of A; matrices are row arrays {@code a[row][col]}.
 */
public final class LeastSquares {
    private LeastSquares() {
    }

    /** {@code A⁺B}: A [m, n], B [m, k]; returns X [n, k]. */
    public static double[][] minNorm(double[][] a, double[][] b) {
        return solve(a, b, 0);
    }

    /** {@code (AᵀA + λI)⁻¹AᵀB} for λ &gt; 0: A [m, n], B [m, k]; returns X [n, k]. */
    public static double[][] ridge(double[][] a, double[][] b, double lambda) {
        if (!(lambda > 0)) {
            throw new IllegalArgumentException("ridge lambda must be > 0, was " + lambda + " (use minNorm for 0)");
        }
        return solve(a, b, lambda);
    }

    private static double[][] solve(double[][] a, double[][] b, double lambda) {
        DMatrixRMaj am = matrix(a, "A");
        DMatrixRMaj bm = matrix(b, "B");
        if (am.numRows != bm.numRows) {
            throw new IllegalArgumentException("A has " + am.numRows + " rows but B has " + bm.numRows);
        }
        DMatrixRMaj x = SpectralLeastSquares.svd(am).solve(bm, lambda);
        double[][] out = new double[x.numRows][x.numCols];
        for (int i = 0; i < x.numRows; i++) {
            System.arraycopy(x.data, i * x.numCols, out[i], 0, x.numCols);
        }
        return out;
    }

    private static DMatrixRMaj matrix(double[][] rows, String name) {
        if (rows.length == 0 || rows[0].length == 0) {
            throw new IllegalArgumentException(name + " must have at least one row and one column");
        }
        DMatrixRMaj m = new DMatrixRMaj(rows.length, rows[0].length);
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != m.numCols) {
                throw new IllegalArgumentException(name + ": row " + i + " has " + rows[i].length + " values, row 0 has "
                        + m.numCols);
            }
            for (int j = 0; j < m.numCols; j++) {
                if (!Double.isFinite(rows[i][j])) {
                    throw new IllegalArgumentException(name + "[" + i + "][" + j + "] is not finite: " + rows[i][j]);
                }
            }
            System.arraycopy(rows[i], 0, m.data, i * m.numCols, m.numCols);
        }
        return m;
    }
}
