package dev.descent.engine.kernel.scalar;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain reference GEMM in the three layouts: one dot product per output element, the k terms summed in
 * natural order in a {@code double}. Summing in double makes the result (nearly) the exact product rounded
 * once to float, so a test that compares a fast kernel against this one measures the fast kernel's error
 * alone. Runs on the calling thread; {@code threads} is accepted for the contract and ignored.
 */
public final class ScalarGemm {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private ScalarGemm() {
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[k,n]. */
    public static void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        // A(i, p) = a[aOff + i*k + p]; B(p, j) = b[bOff + p*n + j]
        gemm(c, cOff, a, aOff, k, 1, b, bOff, n, 1, m, n, k, accumulate);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[m,k] · B[n,k]ᵀ. */
    public static void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        // A(i, p) = a[aOff + i*k + p]; B(p, j) = b[bOff + j*k + p]
        gemm(c, cOff, a, aOff, k, 1, b, bOff, 1, k, m, n, k, accumulate);
    }

    /** C[m,n] = (accumulate ? C : 0) + A[k,m]ᵀ · B[k,n]. */
    public static void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                              int m, int n, int k, boolean accumulate, int threads) {
        // A(i, p) = a[aOff + p*m + i]; B(p, j) = b[bOff + p*n + j]
        gemm(c, cOff, a, aOff, 1, m, b, bOff, n, 1, m, n, k, accumulate);
    }

    /**
     * The one loop nest behind the three layouts: element A(i, p) sits at float index
     * {@code aOff + i*aRow + p*aCol}, B(p, j) at {@code bOff + p*bRow + j*bCol}, C(i, j) at {@code cOff + i*n + j}.
     */
    private static void gemm(MemorySegment c, long cOff, MemorySegment a, long aOff, long aRow, long aCol,
                             MemorySegment b, long bOff, long bRow, long bCol, int m, int n, int k,
                             boolean accumulate) {
        checkArgs(c, cOff, a, aOff, b, bOff, m, n, k);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0.0;
                for (int p = 0; p < k; p++) {
                    float av = a.getAtIndex(F, aOff + i * aRow + p * aCol);
                    float bv = b.getAtIndex(F, bOff + p * bRow + j * bCol);
                    sum += (double) av * bv;
                }
                long ci = cOff + (long) i * n + j;
                if (accumulate) {
                    sum += c.getAtIndex(F, ci);
                }
                c.setAtIndex(F, ci, (float) sum);
            }
        }
    }

    private static void checkArgs(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                                  int m, int n, int k) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("gemm sizes must be >= 0: m=" + m + " n=" + n + " k=" + k);
        }
        checkRange("c", c, cOff, (long) m * n);
        checkRange("a", a, aOff, (long) m * k);
        checkRange("b", b, bOff, (long) k * n);
    }

    private static void checkRange(String name, MemorySegment s, long off, long floats) {
        if (off < 0 || (off + floats) * Float.BYTES > s.byteSize()) {
            throw new IndexOutOfBoundsException("gemm operand " + name + ": offset " + off + " + " + floats
                    + " floats exceeds the segment of " + s.byteSize() / Float.BYTES + " floats");
        }
    }
}
