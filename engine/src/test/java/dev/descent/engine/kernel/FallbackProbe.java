package dev.descent.engine.kernel;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;

/** Run in a child JVM by {@link KernelsSelectionTest}: picks a backend and multiplies two small matrices. */
public final class FallbackProbe {
    private FallbackProbe() {
    }

    public static void main(String[] args) {
        KernelBackend backend = Kernels.backend();
        Kernels.backend(); // a second use must not log again
        try (OffHeapBlock a = OffHeapBlock.allocateFloats(4, Purpose.WORKSPACE);
             OffHeapBlock b = OffHeapBlock.allocateFloats(4, Purpose.WORKSPACE);
             OffHeapBlock c = OffHeapBlock.allocateFloats(4, Purpose.WORKSPACE)) {
            a.copyFrom(new float[] {1, 2, 3, 4}, 0);
            b.copyFrom(new float[] {5, 6, 7, 8}, 0);
            backend.gemmNN(c.segment(), 0, a.segment(), 0, b.segment(), 0, 2, 2, 2, false, 1);
            boolean ok = c.getFloat(0) == 19f && c.getFloat(1) == 22f && c.getFloat(2) == 43f && c.getFloat(3) == 50f;
            System.out.println("backend=" + backend.name() + " gemm=" + (ok ? "ok" : "wrong"));
        }
    }
}
