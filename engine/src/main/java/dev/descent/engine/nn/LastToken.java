package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Keeps the last position of a {@code [T, C]} sample: {@code -> [C]} (the prediction of a sequence model). */
public final class LastToken implements Module {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    int t;
    private int c;

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 2) {
            throw new IllegalArgumentException("lasttoken needs [T, C] samples, got rank " + inputShape.length);
        }
        t = inputShape[0];
        c = inputShape[1];
        return new int[]{c};
    }

    @Override
    public String spec() {
        return "lasttoken";
    }

    @Override
    public String kind() {
        return "lasttoken";
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(in, F, (inOff + ((long) b * t + t - 1) * c) * Float.BYTES, out, F,
                    (outOff + (long) b * c) * Float.BYTES, c);
        }
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (!needInputGrad) {
            return;
        }
        ctx.kernels().scale(dIn, dInOff, 0f, (long) batch * t * c);
        for (int b = 0; b < batch; b++) {
            MemorySegment.copy(dOut, F, (dOutOff + (long) b * c) * Float.BYTES, dIn, F,
                    (dInOff + ((long) b * t + t - 1) * c) * Float.BYTES, c);
        }
    }
}
