package dev.descent.engine.linalg;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * Least squares {@code Z·A ≈ Y} in double precision (EJML) through one spectral decomposition of Z, from which
 * the minimum-norm solution (the Moore-Penrose pseudo-inverse, {@code A = Z⁺Y}) and every ridge solution
 * {@code A = argmin |ZA - Y|² + λ|A|²} follow at the cost of a few matrix products each.
 *
 * <p>With Z = U·S·Vᵀ (thin SVD, r = min(rows, cols)) the solutions are {@code A = V·diag(g(s))·Uᵀ·Y} with
 * {@code g(s) = s/(s² + λ)}; for λ = 0 (minimum norm), {@code g(s) = 1/s} for singular values above the
 * rank cut-off and 0 below it. Two ways to the spectrum:
 * <ul>
 *   <li>{@link #gram}: the symmetric eigendecomposition of the smaller Gram matrix, {@code ZZᵀ} when
 *       cols ≥ rows ({@code A = Zᵀ·U·diag(1/(s²+λ))·Uᵀ·Y}) or {@code ZᵀZ} otherwise
 *       ({@code A = V·diag(1/(s²+λ))·Vᵀ·ZᵀY}). Several times faster than the SVD; squaring Z resolves singular
 *       values down to about {@code sqrt(max(rows, cols)·ε)·s_max} (~1e-6 s_max), which the rank cut-off
 *       reflects. A Gram matrix computed elsewhere (e.g. accumulated over a nested sweep) can be passed in.</li>
 *   <li>{@link #svd}: EJML's SVD of Z itself; resolves singular values down to
 *       {@code max(rows, cols)·ε·s_max} (numpy's {@code pinv}/{@code lstsq} cut-off). The reference.</li>
 * </ul>
 * Z is kept by reference (not copied): do not change it while this object is in use.
 */
public final class SpectralLeastSquares {
    private static final double EPS = Math.ulp(1.0);

    private enum Kind { GRAM_ROWS, GRAM_COLS, SVD }

    private final Kind kind;
    private final DMatrixRMaj z;       // [rows, cols]
    private final DMatrixRMaj basis;   // GRAM_ROWS: U [rows, r]; GRAM_COLS: V [cols, r]; SVD: U [rows, r]
    private final DMatrixRMaj right;   // SVD only: V [cols, r]
    private final double[] singular;   // [r], descending
    private final double cutoff;       // singular values <= cutoff are treated as 0 by the minimum-norm solution

    private SpectralLeastSquares(Kind kind, DMatrixRMaj z, DMatrixRMaj basis, DMatrixRMaj right, double[] singular,
                                 double cutoff) {
        this.kind = kind;
        this.z = z;
        this.basis = basis;
        this.right = right;
        this.singular = singular;
        this.cutoff = cutoff;
    }

    /** Decomposes the Gram matrix of Z ({@code ZZᵀ} when cols ≥ rows, else {@code ZᵀZ}), computed here. */
    public static SpectralLeastSquares gram(DMatrixRMaj z) {
        boolean wide = z.numCols >= z.numRows;
        int r = Math.min(z.numRows, z.numCols);
        DMatrixRMaj g = new DMatrixRMaj(r, r);
        if (wide) {
            CommonOps_DDRM.multTransB(z, z, g);
        } else {
            CommonOps_DDRM.multTransA(z, z, g);
        }
        return gram(z, g);
    }

    /**
     * Decomposes a Gram matrix of Z computed by the caller: {@code ZZᵀ} [rows, rows] when cols ≥ rows, else
     * {@code ZᵀZ} [cols, cols]. {@code gram} is overwritten.
     */
    public static SpectralLeastSquares gram(DMatrixRMaj z, DMatrixRMaj gram) {
        boolean wide = z.numCols >= z.numRows;
        int r = Math.min(z.numRows, z.numCols);
        if (gram.numRows != r || gram.numCols != r) {
            throw new IllegalArgumentException("Gram matrix of a [" + z.numRows + ", " + z.numCols + "] matrix must be ["
                    + r + ", " + r + "], was [" + gram.numRows + ", " + gram.numCols + "]");
        }
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(r, true, true);
        if (!eig.decompose(gram)) {
            throw new ArithmeticException("symmetric eigendecomposition of a " + r + "x" + r + " Gram matrix failed");
        }
        Integer[] order = new Integer[r];
        double[] values = new double[r];
        for (int i = 0; i < r; i++) {
            order[i] = i;
            values[i] = eig.getEigenvalue(i).real;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
        DMatrixRMaj basis = new DMatrixRMaj(r, r);
        double[] singular = new double[r];
        for (int k = 0; k < r; k++) {
            int src = order[k];
            singular[k] = Math.sqrt(Math.max(values[src], 0.0));
            DMatrixRMaj v = eig.getEigenVector(src);
            for (int i = 0; i < r; i++) {
                basis.unsafe_set(i, k, v.data[i]);
            }
        }
        // eigenvalues of a Gram matrix are accurate to ~ max(rows, cols)·ε·λ_max in absolute terms
        double lambdaCut = Math.max(z.numRows, z.numCols) * EPS * (singular.length == 0 ? 0 : singular[0] * singular[0]);
        return new SpectralLeastSquares(wide ? Kind.GRAM_ROWS : Kind.GRAM_COLS, z, basis, null, singular,
                Math.sqrt(lambdaCut));
    }

    /** Decomposes Z itself with EJML's SVD (slower; resolves singular values down to max(rows, cols)·ε·s_max). */
    public static SpectralLeastSquares svd(DMatrixRMaj z) {
        int r = Math.min(z.numRows, z.numCols);
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(z.numRows, z.numCols, true, true, true);
        if (!svd.decompose(z.copy())) {
            throw new ArithmeticException("SVD of a " + z.numRows + "x" + z.numCols + " matrix failed");
        }
        DMatrixRMaj u = svd.getU(null, false);  // [rows, r]
        DMatrixRMaj w = new DMatrixRMaj(r, r);
        svd.getW(w);
        DMatrixRMaj v = svd.getV(null, false);  // [cols, r]
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        double[] singular = new double[r];
        for (int i = 0; i < r; i++) {
            singular[i] = w.get(i, i);
        }
        double cut = Math.max(z.numRows, z.numCols) * EPS * (r == 0 ? 0 : singular[0]);
        return new SpectralLeastSquares(Kind.SVD, z, u, v, singular, cut);
    }

    /** Singular values of Z, descending (length min(rows, cols)). */
    public double[] singularValues() {
        return singular.clone();
    }

    /** Singular values above the cut-off: the numerical rank the minimum-norm solution uses. */
    public int rank() {
        int k = 0;
        while (k < singular.length && singular[k] > cutoff) {
            k++;
        }
        return k;
    }

    /** Singular values at or below this are treated as zero by the minimum-norm solution. */
    public double cutoff() {
        return cutoff;
    }

    /**
     * The coefficients A [cols, targets]: the minimum-norm least-squares solution for {@code ridge} = 0, the
     * ridge solution {@code (ZᵀZ + λI)⁻¹ZᵀY = Zᵀ(ZZᵀ + λI)⁻¹Y} for {@code ridge} = λ > 0.
     *
     * @param y targets [rows, targets]
     */
    public DMatrixRMaj solve(DMatrixRMaj y, double ridge) {
        if (y.numRows != z.numRows) {
            throw new IllegalArgumentException("targets have " + y.numRows + " rows, the matrix has " + z.numRows);
        }
        if (!(ridge >= 0) || !Double.isFinite(ridge)) {
            throw new IllegalArgumentException("ridge must be a finite number >= 0, was " + ridge);
        }
        int r = singular.length;
        double[] weight = new double[r];
        for (int k = 0; k < r; k++) {
            double s = singular[k];
            if (kind == Kind.SVD) {
                weight[k] = ridge > 0 ? s / (s * s + ridge) : (s > cutoff ? 1 / s : 0);
            } else {
                weight[k] = ridge > 0 ? 1 / (s * s + ridge) : (s > cutoff ? 1 / (s * s) : 0);
            }
        }
        DMatrixRMaj out = new DMatrixRMaj(z.numCols, y.numCols);
        switch (kind) {
            case GRAM_ROWS -> { // A = Zᵀ·U·diag(w)·Uᵀ·Y
                DMatrixRMaj b = project(basis, y, weight);
                DMatrixRMaj c = new DMatrixRMaj(z.numRows, y.numCols);
                CommonOps_DDRM.mult(basis, b, c);
                CommonOps_DDRM.multTransA(z, c, out);
            }
            case GRAM_COLS -> { // A = V·diag(w)·Vᵀ·(ZᵀY)
                DMatrixRMaj zty = new DMatrixRMaj(z.numCols, y.numCols);
                CommonOps_DDRM.multTransA(z, y, zty);
                CommonOps_DDRM.mult(basis, project(basis, zty, weight), out);
            }
            case SVD -> CommonOps_DDRM.mult(right, project(basis, y, weight), out); // A = V·diag(w)·Uᵀ·Y
        }
        return out;
    }

    /** diag(w)·Bᵀ·Y for an orthonormal basis B. */
    private static DMatrixRMaj project(DMatrixRMaj basis, DMatrixRMaj y, double[] w) {
        DMatrixRMaj p = new DMatrixRMaj(basis.numCols, y.numCols);
        CommonOps_DDRM.multTransA(basis, y, p);
        for (int k = 0; k < p.numRows; k++) {
            for (int t = 0; t < p.numCols; t++) {
                p.unsafe_set(k, t, p.unsafe_get(k, t) * w[k]);
            }
        }
        return p;
    }
}
