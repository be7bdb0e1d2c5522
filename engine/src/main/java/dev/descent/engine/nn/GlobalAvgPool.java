package dev.descent.engine.nn;

import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;

/** Global average pooling: {@code [C, H, W] -> [C]}, the mean of each channel. */
public final class GlobalAvgPool implements Module {
    int planes;
    int size;

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length < 2) {
            throw new IllegalArgumentException("globalavgpool needs [C, ...] samples with a spatial part, got rank "
                    + inputShape.length);
        }
        planes = inputShape[0];
        size = Module.size(inputShape) / planes;
        return new int[]{planes};
    }

    @Override
    public String spec() {
        return "globalavgpool";
    }

    @Override
    public String kind() {
        return "globalavgpool";
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        LayerKernels.forBackend(ctx.kernels()).planeMeanForward(out, outOff, in, inOff, batch * planes, size);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (needInputGrad) {
            LayerKernels.forBackend(ctx.kernels()).planeMeanBackward(dIn, dInOff, dOut, dOutOff, batch * planes, size);
        }
    }
}
