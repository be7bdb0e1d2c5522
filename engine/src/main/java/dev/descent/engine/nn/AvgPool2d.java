package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;

/** Average pooling over each channel; padding counts as zeros (divisor k*k, PyTorch's default). */
public final class AvgPool2d extends Pool2d {

    public AvgPool2d(int kernel, int stride, int padding) {
        super(kernel, stride, padding);
    }

    /** Non-overlapping k x k windows. */
    public AvgPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    @Override
    public String kind() {
        return "avgpool2d";
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        kernels(ctx).avgPoolForward(out, outOff, in, inOff, batch * planes, h, w, k, stride, pad, oh, ow);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (needInputGrad) {
            kernels(ctx).avgPoolBackward(dIn, dInOff, dOut, dOutOff, batch * planes, h, w, k, stride, pad, oh, ow);
        }
    }
}
