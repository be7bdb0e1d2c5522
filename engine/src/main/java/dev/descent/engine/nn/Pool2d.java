package dev.descent.engine.nn;

import dev.descent.engine.kernel.LayerKernels;

/** Shared geometry of {@link MaxPool2d} and {@link AvgPool2d}: square window, stride, zero padding. */
abstract class Pool2d implements Module {
    final int k;
    final int stride;
    final int pad;
    int planes;
    int h;
    int w;
    int oh;
    int ow;

    Pool2d(int kernel, int stride, int padding) {
        if (kernel < 1 || stride < 1 || padding < 0 || 2 * padding > kernel) {
            throw new IllegalArgumentException("pooling: bad geometry kernel=" + kernel + " stride=" + stride
                    + " padding=" + padding + " (padding at most half the kernel)");
        }
        this.k = kernel;
        this.stride = stride;
        this.pad = padding;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 3) {
            throw new IllegalArgumentException(kind() + " needs [C, H, W] samples, got rank " + inputShape.length);
        }
        planes = inputShape[0];
        h = inputShape[1];
        w = inputShape[2];
        oh = (h + 2 * pad - k) / stride + 1;
        ow = (w + 2 * pad - k) / stride + 1;
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException(kind() + ": window " + k + " does not fit [" + h + ", " + w + "]");
        }
        return new int[]{planes, oh, ow};
    }

    @Override
    public String spec() {
        return kind() + " " + k + " " + stride + " " + pad;
    }

    public int kernel() {
        return k;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return pad;
    }

    static LayerKernels kernels(ExecutionContext ctx) {
        return LayerKernels.forBackend(ctx.kernels());
    }
}
