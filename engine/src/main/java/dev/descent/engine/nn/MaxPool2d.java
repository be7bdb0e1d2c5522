package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;

/**
 * Max pooling over each channel. No workspace: backward finds each window's first maximum again from the
 * input it is given (the backprop executor always supplies it), so the layer costs no activation memory
 * beyond its output.
 */
public final class MaxPool2d extends Pool2d {

    public MaxPool2d(int kernel, int stride, int padding) {
        super(kernel, stride, padding);
    }

    /** Non-overlapping k x k windows. */
    public MaxPool2d(int kernel) {
        this(kernel, kernel, 0);
    }

    @Override
    public String kind() {
        return "maxpool2d";
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        kernels(ctx).maxPoolForward(out, outOff, in, inOff, batch * planes, h, w, k, stride, pad, oh, ow);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (needInputGrad) {
            kernels(ctx).maxPoolBackward(dIn, dInOff, dOut, dOutOff, in, inOff, batch * planes, h, w, k, stride, pad,
                    oh, ow);
        }
    }
}
