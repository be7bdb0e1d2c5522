package dev.descent.bench;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Off-heap buffers the layer benchmarks share: standard-normal inputs from a seed, and closing them together. */
final class BenchBuffers {
    private BenchBuffers() {
    }

    /** {@code floats} floats drawn from N(0, 1) with {@code seed}. */
    static OffHeapBlock gaussian(long floats, long seed) {
        OffHeapBlock b = OffHeapBlock.allocateFloats(floats, Purpose.WORKSPACE);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < floats; i++) {
            b.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) r.nextGaussian());
        }
        return b;
    }

    static void closeAll(OffHeapBlock... blocks) {
        for (OffHeapBlock b : blocks) {
            b.close();
        }
    }
}
