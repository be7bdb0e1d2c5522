package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reshapes each sample to one dimension ({@code [1, 28, 28] -> [784]}). Tensors are already dense row-major,
 * so the data does not change; the executor gives every module its own output buffer, so this is one copy
 * each way (a few microseconds per batch).
 */
public final class Flatten implements Module {
    private int size;

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        size = Module.size(inputShape);
        return new int[]{size};
    }

    @Override
    public String spec() {
        return "flatten";
    }

    @Override
    public String kind() {
        return "flatten";
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        MemorySegment.copy(in, ValueLayout.JAVA_FLOAT, inOff * Float.BYTES, out, ValueLayout.JAVA_FLOAT,
                outOff * Float.BYTES, (long) batch * size);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (needInputGrad) {
            MemorySegment.copy(dOut, ValueLayout.JAVA_FLOAT, dOutOff * Float.BYTES, dIn, ValueLayout.JAVA_FLOAT,
                    dInOff * Float.BYTES, (long) batch * size);
        }
    }
}
