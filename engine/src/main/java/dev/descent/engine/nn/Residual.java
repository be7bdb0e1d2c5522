package dev.descent.engine.nn;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * A residual block: {@code out = f(x) + x}, or {@code f(x) + P(x)} with a projection P when f changes the shape,
 * or just {@code f(x)} with the skip turned off ({@link #skip()} false) — the same depth and parameters (minus
 * the projection) with and without the skip connection, which is what the loss-landscape story compares.
 * f is a chain of modules run inside this module's workspace; for the backprop strategies the whole block is
 * one module (one checkpoint unit).
 *
 * <pre>
 * new Residual(true, new Linear(256), new ActivationLayer(RELU), new Linear(256))
 * Residual.withProjection(new Linear(128), new Linear(128), new ActivationLayer(RELU))  // 256 -> 128
 * </pre>
 */
public final class Residual implements CompositeModule {
    private final boolean skip;
    private final ModuleChain body;
    private final Module projection; // null: identity skip
    private int inSize;
    private int outSize;
    private int layerIndex;

    public Residual(boolean skip, Module... body) {
        this(skip, null, List.of(body));
    }

    /** A block with skip and projection {@code projection} on the skip path. */
    public static Residual withProjection(Module projection, Module... body) {
        return new Residual(true, projection, List.of(body));
    }

    public Residual(boolean skip, Module projection, List<Module> body) {
        this.skip = skip;
        this.projection = projection;
        this.body = new ModuleChain(body);
    }

    public boolean skip() {
        return skip;
    }

    @Override
    public List<Module> children() {
        List<Module> c = new ArrayList<>(body.modules());
        if (skip && projection != null) {
            c.add(projection);
        }
        return c;
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        this.layerIndex = layerIndex;
        inSize = Module.size(inputShape);
        int[] out = body.configure(layerIndex, inputShape, 1);
        outSize = Module.size(out);
        if (skip && projection != null) {
            int[] p = projection.configure(ModuleChain.innerIndex(layerIndex, 1 << 16), inputShape.clone());
            if (Module.size(p) != outSize) {
                throw new IllegalArgumentException("residual: projection gives " + Module.size(p)
                        + " floats per sample, the body " + outSize);
            }
        } else if (skip && outSize != inSize) {
            throw new IllegalArgumentException("residual: the body maps " + inSize + " to " + outSize
                    + " floats per sample; add a projection (Residual.withProjection)");
        }
        return out;
    }

    @Override
    public String spec() {
        String s = "residual " + (skip ? "skip " : "noskip ") + body.spec();
        if (projection != null) {
            s += " proj [" + projection.spec() + "]";
        }
        return s;
    }

    @Override
    public String kind() {
        return "residual";
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        declareParameters(layout, layerIndex, kind());
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout, int topIndex, String prefix) {
        body.declareParameters(layout, topIndex, prefix);
        if (projected()) {
            String kind = prefix + "/proj." + projection.kind();
            if (projection instanceof CompositeModule c) {
                c.declareParameters(layout, topIndex, kind);
            } else {
                layout.beginLayer(topIndex, kind);
                projection.declareParameters(layout);
            }
            layout.beginLayer(topIndex, prefix);
        }
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        body.bindParameters(layout, params, grads);
        if (skip && projection != null) {
            projection.bindParameters(layout, params, grads);
        }
    }

    /** Body buffers, then the projection's (the order of {@link #children()}). */
    @Override
    public long bufferFloats() {
        return body.bufferFloats() + (projected() ? projection.bufferFloats() : 0);
    }

    @Override
    public void writeBuffers(MemorySegment dst, long off) {
        body.writeBuffers(dst, off);
        if (projected()) {
            projection.writeBuffers(dst, off + body.bufferFloats());
        }
    }

    @Override
    public void readBuffers(MemorySegment src, long off) {
        body.readBuffers(src, off);
        if (projected()) {
            projection.readBuffers(src, off + body.bufferFloats());
        }
    }

    /** True when the skip path goes through a projection. */
    public boolean projected() {
        return skip && projection != null;
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    @Override
    public long workspaceFloats(int batch) {
        long w = align(body.workspaceFloats(batch));
        if (projected()) {
            w += align(projection.workspaceFloats(batch)) + align((long) batch * Math.max(inSize, outSize));
        }
        return w;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        body.forward(ctx, out, outOff, ws, wsOff, in, inOff, batch);
        if (!skip) {
            return;
        }
        KernelBackend k = ctx.kernels();
        long n = (long) batch * outSize;
        if (projected()) {
            long pWs = wsOff + align(body.workspaceFloats(batch));
            long tmp = pWs + align(projection.workspaceFloats(batch));
            projection.forward(ctx, ws, tmp, ws, pWs, in, inOff, batch);
            k.add(out, outOff, out, outOff, ws, tmp, n);
        } else {
            k.add(out, outOff, out, outOff, in, inOff, n);
        }
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        body.backward(ctx, dIn, dInOff, ws, wsOff, dOut, dOutOff, in, inOff, batch, needInputGrad);
        if (!skip) {
            return;
        }
        KernelBackend k = ctx.kernels();
        if (projected()) {
            long pWs = wsOff + align(body.workspaceFloats(batch));
            long tmp = pWs + align(projection.workspaceFloats(batch));
            projection.backward(ctx, ws, tmp, ws, pWs, dOut, dOutOff, in, inOff, batch, needInputGrad);
            if (needInputGrad) {
                k.add(dIn, dInOff, dIn, dInOff, ws, tmp, (long) batch * inSize);
            }
        } else if (needInputGrad) {
            k.add(dIn, dInOff, dIn, dInOff, dOut, dOutOff, (long) batch * inSize);
        }
    }
}
