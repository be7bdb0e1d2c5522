package dev.descent.engine.nn;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;
import java.util.Locale;

/** Elementwise activation (ReLU, leaky ReLU, sigmoid, tanh, GELU) over the kernel's forward/backward pair. */
public final class ActivationLayer implements Module {
    private final Activation activation;
    private int size;

    public ActivationLayer(Activation activation) {
        this.activation = activation;
    }

    public Activation activation() {
        return activation;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        size = Module.size(inputShape);
        return inputShape.clone();
    }

    @Override
    public String spec() {
        return "activation " + activation.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String kind() {
        return activation.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        ctx.kernels().activationForward(activation, out, outOff, in, inOff, (long) batch * size);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        if (needInputGrad) {
            ctx.kernels().activationBackward(activation, dIn, dInOff, dOut, dOutOff, in, inOff, (long) batch * size,
                    false);
        }
    }
}
