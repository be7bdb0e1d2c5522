package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.KernelPool;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * An optimizer bound to a model: one {@link Purpose#OPTIMIZER_STATE} slab holding the moment copies (each with
 * the model's parameter layout) and the step counter. {@link #step} is one flat kernel call over the slabs.
 *
 * <p>Tensors the model marks {@linkplain Model#freeze frozen} when this state is built are left out: the update
 * then runs once per contiguous run of trainable tensors (slices made once, so still allocation-free), and
 * neither the gradient nor weight decay ever changes a frozen tensor.
 */
public final class OptimizerState implements AutoCloseable {
    private final Optimizer optimizer;
    private final Model model;
    private final OffHeapBlock moments; // [momentSlabs, layout.totalFloats()]
    private final long stride;
    /**
     * Floats per block when the gradient is written block by block: 32 KiB per slab, so a block of the gradient
     * sources, the gradient, the parameters and the moments stays in a core's L2 (256 KiB and up) between its write
     * and its update. A multiple of 16: blocks stay 64-byte aligned.
     */
    static final long SOURCE_BLOCK = 8192;
    private long t;
    // parallel step (chunks laid out on first use; the task is made once, so a step allocates nothing)
    private SlabChunks chunks;
    private KernelBackend curKernels;
    private float curLr;
    private GradientSource curSource; // null: the gradient slab is ready
    private final KernelPool.Task chunkStep = this::stepChunk;
    // trainable runs when some tensors are frozen (null: the whole slab); slices [slab][run], lengths in floats
    private final MemorySegment[][] runs;
    private final long[] runLength;

    public OptimizerState(Optimizer optimizer, Model model) {
        this.optimizer = optimizer;
        this.model = model;
        this.stride = model.layout().totalFloats();
        this.moments = OffHeapBlock.allocateFloats(Math.max(1, optimizer.momentSlabs()) * stride,
                Purpose.OPTIMIZER_STATE);
        List<long[]> r = trainableRuns(model);
        if (r.size() == 1 && r.get(0)[0] == 0 && r.get(0)[1] == stride) {
            runs = null;
            runLength = null;
        } else {
            MemorySegment[] slabs = {model.params().segment(), model.grads().segment(), moments.segment()};
            runs = new MemorySegment[3][r.size()];
            runLength = new long[r.size()];
            for (int i = 0; i < r.size(); i++) {
                runLength[i] = r.get(i)[1] - r.get(i)[0];
                for (int s = 0; s < 3; s++) {
                    runs[s][i] = slabs[s].asSlice(r.get(i)[0] * Float.BYTES);
                }
            }
        }
    }

    /** [start, end) float ranges of the non-frozen tensors (padding included), merged where adjacent. */
    private static List<long[]> trainableRuns(Model model) {
        List<long[]> out = new ArrayList<>();
        List<ParameterLayout.Entry> es = model.layout().entries();
        for (int i = 0; i < es.size(); i++) {
            if (model.frozen(i)) {
                continue;
            }
            ParameterLayout.Entry e = es.get(i);
            long start = e.offset();
            long end = i + 1 < es.size() ? es.get(i + 1).offset() : model.layout().totalFloats();
            if (!out.isEmpty() && out.get(out.size() - 1)[1] == start) {
                out.get(out.size() - 1)[1] = end;
            } else {
                out.add(new long[]{start, end});
            }
        }
        return out;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The moment slab ([momentSlabs, totalFloats]). */
    public OffHeapBlock moments() {
        return moments;
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }

    /** Applies one update with learning rate {@code lr} to the model's parameters from its gradients. */
    public void step(KernelBackend k, float lr) {
        t++;
        if (runs == null) {
            optimizer.step(k, model.params().segment(), model.grads().segment(), moments.segment(), stride, stride, lr,
                    t);
            return;
        }
        for (int i = 0; i < runLength.length; i++) {
            optimizer.step(k, runs[0][i], runs[1][i], runs[2][i], stride, runLength[i], lr, t);
        }
    }

    /**
     * The same update split into {@code parts} contiguous, 64-byte-aligned chunks of the slabs run on {@code pool}.
     * Every optimizer update is elementwise, so the result is bit-identical to {@link #step(KernelBackend, float)}.
     * No allocation once the chunks for a part count are laid out. With frozen tensors it runs on the calling thread.
     */
    public void step(KernelBackend k, float lr, KernelPool pool, int parts) {
        if (parts <= 1 || runs != null) {
            step(k, lr);
            return;
        }
        stepParallel(k, lr, pool, parts, null);
    }

    /**
     * Writes the gradient slab, block by block, just before each block is updated: what a sum of several workers'
     * gradients into this model's slab wants, since each block is then still in cache when the update reads it
     * (one pass over memory for the sum and the update instead of two). Every float ends up bit-identical to
     * {@code source.write(0, n)} followed by {@link #step(KernelBackend, float, KernelPool, int)}. Not for a model
     * with frozen tensors ({@link #interleavesGradient()} is false).
     */
    public void step(KernelBackend k, float lr, KernelPool pool, int parts, GradientSource source) {
        if (runs != null) {
            throw new IllegalStateException(
                    "a model with frozen tensors is updated run by run: write its gradient first");
        }
        stepParallel(k, lr, pool, Math.max(1, parts), source);
    }

    /** True when {@link #step(KernelBackend, float, KernelPool, int, GradientSource)} may be used. */
    public boolean interleavesGradient() {
        return runs == null;
    }

    /** Writes floats {@code [offset, offset + n)} of the model's gradient slab. */
    @FunctionalInterface
    public interface GradientSource {
        void write(long offset, long n);
    }

    private void stepParallel(KernelBackend k, float lr, KernelPool pool, int parts, GradientSource source) {
        t++;
        if (chunks == null || chunks.parts() != parts) {
            chunks = new SlabChunks(stride, parts, model.params().segment(), model.grads().segment(),
                    moments.segment());
        }
        curKernels = k;
        curLr = lr;
        curSource = source;
        try {
            pool.run(parts, chunkStep);
        } finally {
            curSource = null;
        }
    }


    private void stepChunk(int part, int parts) {
        SlabChunks c = chunks;
        long n = c.length(part);
        if (n == 0) {
            return;
        }
        GradientSource source = curSource;
        if (source == null) {
            optimizer.step(curKernels, c.slice(0, part), c.slice(1, part), c.slice(2, part), stride, n, curLr, t);
            return;
        }
        for (long o = 0; o < n; o += SOURCE_BLOCK) {
            long m = Math.min(SOURCE_BLOCK, n - o);
            source.write(c.start(part) + o, m);
            optimizer.step(curKernels, c.slice(0, part), c.slice(1, part), c.slice(2, part), stride, o, m, curLr, t);
        }
    }

    /** Resets the moments and the step counter. */
    public void reset() {
        moments.fill(0f);
        t = 0;
    }

    /** Restores the step counter (for resume). */
    public void steps(long steps) {
        this.t = steps;
    }

    @Override
    public void close() {
        moments.close();
    }
}
