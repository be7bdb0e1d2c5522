package dev.descent.engine.nn;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A chain of modules run inside one parent module's workspace (what {@link Residual}, {@link TransformerBlock}
 * and {@link PerToken} are made of). Workspace layout for a batch: inner nodes x_1..x_{k-1}, then each inner
 * module's workspace, then two ping-pong gradient buffers of the widest node. The last module writes straight
 * into the parent's output. A parent's checkpoint boundary is the whole chain: the executor keeps or drops it as
 * one module.
 */
final class ModuleChain {
    private final Module[] mods;
    private int[] sizes;   // [k + 1] floats per sample of node j (0 = chain input)
    private int rowsFactor = 1;

    ModuleChain(List<Module> modules) {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("a block needs at least one module");
        }
        this.mods = modules.toArray(new Module[0]);
    }

    List<Module> modules() {
        return List.of(mods);
    }

    /**
     * Configures the inner modules with indices derived from the parent's (so replayable randomness such as
     * Dropout masks differs per inner module and never collides with a top-level index).
     *
     * @param rowsFactor the parent's batch is multiplied by this for the inner modules (PerToken)
     */
    int[] configure(int parentIndex, int[] inputShape, int rowsFactor) {
        this.rowsFactor = rowsFactor;
        sizes = new int[mods.length + 1];
        int[] shape = inputShape.clone();
        sizes[0] = Module.size(shape);
        for (int i = 0; i < mods.length; i++) {
            shape = mods[i].configure(innerIndex(parentIndex, i), shape.clone());
            sizes[i + 1] = Module.size(shape);
        }
        return shape;
    }

    static int innerIndex(int parentIndex, int i) {
        long z = ((long) parentIndex << 20) + i + 1 + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) ((z ^ (z >>> 31)) & 0x3FFFFFFF) | 0x40000000;
    }

    /** Inner tensors are named {@code parentKind/i.kind} in the layout, under the parent's layer index. */
    void declareParameters(ParameterLayout.Builder layout, int topIndex, String prefix) {
        for (int i = 0; i < mods.length; i++) {
            String kind = prefix + "/" + i + "." + mods[i].kind();
            if (mods[i] instanceof CompositeModule c) {
                c.declareParameters(layout, topIndex, kind);
            } else {
                layout.beginLayer(topIndex, kind);
                mods[i].declareParameters(layout);
            }
        }
        layout.beginLayer(topIndex, prefix);
    }

    void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        for (Module m : mods) {
            m.bindParameters(layout, params, grads);
        }
    }

    /** The inner modules' buffers, concatenated in chain order (allocation-free). */
    long bufferFloats() {
        long n = 0;
        for (Module m : mods) {
            n += m.bufferFloats();
        }
        return n;
    }

    void writeBuffers(MemorySegment dst, long off) {
        for (Module m : mods) {
            m.writeBuffers(dst, off);
            off += m.bufferFloats();
        }
    }

    void readBuffers(MemorySegment src, long off) {
        for (Module m : mods) {
            m.readBuffers(src, off);
            off += m.bufferFloats();
        }
    }

    int outputSize() {
        return sizes[mods.length];
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    private int maxNode() {
        int max = 0;
        for (int s : sizes) {
            max = Math.max(max, s);
        }
        return max;
    }

    long workspaceFloats(int batch) {
        int rows = batch * rowsFactor;
        long total = 0;
        for (int j = 1; j < mods.length; j++) {
            total += align((long) rows * sizes[j]);
        }
        for (Module m : mods) {
            total += align(m.workspaceFloats(rows));
        }
        return total + 2 * align((long) rows * maxNode());
    }

    // offsets inside the workspace; rows = parent batch * rowsFactor
    private long nodeOff(long wsOff, int rows, int j) {
        long off = wsOff;
        for (int i = 1; i < j; i++) {
            off += align((long) rows * sizes[i]);
        }
        return off;
    }

    private long innerWsOff(long wsOff, int rows, int i) {
        long off = nodeOff(wsOff, rows, mods.length);
        for (int m = 0; m < i; m++) {
            off += align(mods[m].workspaceFloats(rows));
        }
        return off;
    }

    private long gradOff(long wsOff, int rows, int parity) {
        return innerWsOff(wsOff, rows, mods.length) + parity * align((long) rows * maxNode());
    }

    void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                 MemorySegment in, long inOff, int batch) {
        int rows = batch * rowsFactor;
        int k = mods.length;
        for (int i = 0; i < k; i++) {
            MemorySegment src = i == 0 ? in : ws;
            long srcOff = i == 0 ? inOff : nodeOff(wsOff, rows, i);
            MemorySegment dst = i == k - 1 ? out : ws;
            long dstOff = i == k - 1 ? outOff : nodeOff(wsOff, rows, i + 1);
            mods[i].forward(ctx, dst, dstOff, ws, innerWsOff(wsOff, rows, i), src, srcOff, rows);
        }
    }

    void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                  MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch, boolean needInputGrad) {
        int rows = batch * rowsFactor;
        int k = mods.length;
        for (int i = k - 1; i >= 0; i--) {
            MemorySegment g = i == k - 1 ? dOut : ws;
            long gOff = i == k - 1 ? dOutOff : gradOff(wsOff, rows, (i + 1) % 2);
            MemorySegment d = i == 0 ? dIn : ws;
            long dOff = i == 0 ? dInOff : gradOff(wsOff, rows, i % 2);
            MemorySegment x = i == 0 ? in : ws;
            long xOff = i == 0 ? inOff : nodeOff(wsOff, rows, i);
            mods[i].backward(ctx, d, dOff, ws, innerWsOff(wsOff, rows, i), g, gOff, x, xOff, rows,
                    i > 0 || needInputGrad);
        }
    }

    String spec() {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < mods.length; i++) {
            s.append(i == 0 ? "" : "; ").append(mods[i].spec());
        }
        return s.append(']').toString();
    }
}
