package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;

/** Packed, register-blocked GEMM on the Java Vector API. */
public final class SimdGemm {
    private SimdGemm() {
    }

    public static void gemmNN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("SimdGemm.gemmNN");
    }

    public static void gemmNT(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("SimdGemm.gemmNT");
    }

    public static void gemmTN(MemorySegment c, long cOff, MemorySegment a, long aOff, MemorySegment b, long bOff, int m, int n, int k, boolean accumulate, int threads) {
        throw new UnsupportedOperationException("SimdGemm.gemmTN");
    }
}
