package dev.descent.engine.kernel.scalar;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;

/** Plain reference GEMM in the three layouts. */
public final class ScalarGemm {
    private ScalarGemm() {
    }

    public static void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("ScalarGemm.gemmNN");
    }

    public static void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("ScalarGemm.gemmNT");
    }

    public static void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("ScalarGemm.gemmTN");
    }
}
