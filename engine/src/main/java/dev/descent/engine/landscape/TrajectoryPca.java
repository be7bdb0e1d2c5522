package dev.descent.engine.landscape;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;

/**
 * PCA directions of an optimization trajectory (Li et al. 2018, section 7): with the final point w_n as origin, the
 * two principal components of {w_i - w_n} (centred, as sklearn's PCA does) span the plane that best captures the
 * path; each point of the path then has coordinates (⟨w_i - w_n, d1⟩, ⟨w_i - w_n, d2⟩). The directions are unit
 * vectors, orthogonal, in the parameter layout. Only the n × n Gram matrix of the points is diagonalized, so the
 * cost is n² dot products, not a P × P matrix.
 *
 * @param d1        first principal direction (unit norm; owned)
 * @param d2        second principal direction (unit norm; owned)
 * @param explained fraction of the variance each direction explains
 * @param coords    [n][2] coordinates of each trajectory point in the (d1, d2) plane, origin at the last point
 */
public record TrajectoryPca(OffHeapBlock d1, OffHeapBlock d2, double[] explained, double[][] coords)
        implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /**
     * @param points the trajectory, in order; the last is the origin (at least 3 points)
     * @param floats floats per point (the parameter slab's size)
     */
    public static TrajectoryPca compute(List<MemorySegment> points, long floats) {
        int n = points.size();
        if (n < 3) {
            throw new IllegalArgumentException("PCA of a trajectory needs at least 3 points, got " + n);
        }
        MemorySegment origin = points.get(n - 1);
        // centred differences m_i = (w_i - w_n) - mean_j(w_j - w_n), i = 0..n-1, in double via dots
        double[][] raw = new double[n][n]; // <w_i - w_n, w_j - w_n>
        try (OffHeapBlock a = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE)) {
            for (int i = 0; i < n; i++) {
                Directions.difference(a.segment(), points.get(i), origin, floats);
                for (int j = i; j < n; j++) {
                    Directions.difference(b.segment(), points.get(j), origin, floats);
                    raw[i][j] = raw[j][i] = Directions.dot(a.segment(), b.segment(), floats);
                }
            }
        }
        double[] rowMean = new double[n];
        double all = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                rowMean[i] += raw[i][j] / n;
            }
            all += rowMean[i] / n;
        }
        double[][] g = new double[n][n]; // Gram of the centred differences
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                g[i][j] = raw[i][j] - rowMean[i] - rowMean[j] + all;
            }
        }
        double trace = 0;
        for (int i = 0; i < n; i++) {
            trace += g[i][i];
        }
        double[][] vec = new double[n][n];
        double[] val = eigen(g, vec);
        int[] order = topTwo(val);
        OffHeapBlock[] dirs = new OffHeapBlock[2];
        double[] explained = new double[2];
        try {
            for (int k = 0; k < 2; k++) {
                int c = order[k];
                dirs[k] = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE);
                MemorySegment d = dirs[k].segment();
                double coefMean = 0;
                for (int i = 0; i < n; i++) {
                    coefMean += vec[i][c] / n;
                }
                // d = Σ_i v_i m_i = Σ_i (v_i - mean v)(w_i - w_n): the centring folds into the coefficients
                for (long p = 0; p < floats; p++) {
                    double s = 0;
                    double o = origin.getAtIndex(F, p);
                    for (int i = 0; i < n; i++) {
                        s += (vec[i][c] - coefMean) * (points.get(i).getAtIndex(F, p) - o);
                    }
                    d.setAtIndex(F, p, (float) s);
                }
                double norm = Math.sqrt(Directions.sumSquares(d, 0, floats));
                if (norm == 0) {
                    throw new IllegalArgumentException("the trajectory does not span two dimensions (all points on a "
                            + "line or identical)");
                }
                for (long p = 0; p < floats; p++) {
                    d.setAtIndex(F, p, (float) (d.getAtIndex(F, p) / norm));
                }
                explained[k] = trace > 0 ? Math.max(0, val[c]) / trace : 0;
            }
            double[][] coords = new double[n][2];
            try (OffHeapBlock a = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE)) {
                for (int i = 0; i < n; i++) {
                    Directions.difference(a.segment(), points.get(i), origin, floats);
                    coords[i][0] = Directions.dot(a.segment(), dirs[0].segment(), floats);
                    coords[i][1] = Directions.dot(a.segment(), dirs[1].segment(), floats);
                }
            }
            return new TrajectoryPca(dirs[0], dirs[1], explained, coords);
        } catch (RuntimeException | Error e) {
            for (OffHeapBlock d : dirs) {
                if (d != null) {
                    d.close();
                }
            }
            throw e;
        }
    }

    private static int[] topTwo(double[] val) {
        int first = 0;
        for (int i = 1; i < val.length; i++) {
            if (val[i] > val[first]) {
                first = i;
            }
        }
        int second = first == 0 ? 1 : 0;
        for (int i = 0; i < val.length; i++) {
            if (i != first && val[i] > val[second]) {
                second = i;
            }
        }
        return new int[] {first, second};
    }

    /**
     * Eigenvalues of symmetric {@code a} (left unchanged); eigenvectors as the columns of {@code v}. EJML's symmetric
     * decomposition (tridiagonal QR), the project's linear-algebra library (docs/adr/0002-linear-algebra-ejml.md).
     */
    static double[] eigen(double[][] a, double[][] v) {
        int n = a.length;
        EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
        if (!eig.decompose(new DMatrixRMaj(a))) {
            throw new IllegalStateException("eigen-decomposition of the " + n + " x " + n + " trajectory Gram matrix failed");
        }
        double[] val = new double[n];
        for (int k = 0; k < n; k++) {
            val[k] = eig.getEigenvalue(k).real;
            DMatrixRMaj vk = eig.getEigenVector(k);
            for (int i = 0; i < n; i++) {
                v[i][k] = vk.get(i, 0);
            }
        }
        return val;
    }

    @Override
    public double[] explained() {
        return explained.clone();
    }

    @Override
    public double[][] coords() {
        double[][] c = new double[coords.length][];
        for (int i = 0; i < coords.length; i++) {
            c[i] = coords[i].clone();
        }
        return c;
    }

    @Override
    public void close() {
        d1.close();
        d2.close();
    }
}
