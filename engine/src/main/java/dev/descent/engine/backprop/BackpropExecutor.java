package dev.descent.engine.backprop;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Runs a {@link Model}'s forward and backward under a {@link BackpropStrategy}, on one
 * {@link Purpose#ACTIVATIONS} slab sized once for {@code maxBatch} rows and allocated to what the strategy
 * needs (every node for vanilla, two scratch nodes for recompute, checkpoints plus one segment for
 * checkpointed). A step allocates nothing.
 *
 * <p>Use: {@link #forward} (returns with the output node at {@link #outputOffset()}), let the loss write
 * dL/d(output) at {@link #outputGradient()}/{@link #outputGradientOffset()}, then {@link #backward}, which fills
 * the model's gradient slab. {@link #ledger()} holds the step's exact peak bytes and forward evaluations.
 *
 * <p>Rules the strategies follow: the backward of module i needs x_i and the workspace written by a forward of
 * module i on x_i. Node x_0 is the caller's input (never copied). Activation gradients ping-pong between two
 * buffers: dL/dx_j lives in buffer j % 2 under every strategy, so all strategies run identical kernels on
 * identical values in identical order.
 */
public final class BackpropExecutor implements AutoCloseable {
    private final Model model;
    private final BackpropStrategy strategy;
    private final int n;
    private final int maxBatch;
    private final boolean recomputeAll;
    private final int interval;       // checkpoint interval k (vanilla: 1)
    private final int lastSegment;    // first node of the last segment
    private final boolean[] retained; // [n + 1] node kept after the forward pass
    private final boolean[] wsRetained; // [n] workspace kept after the forward pass
    private final long[] nodeOff;     // [n + 1] float offset of node j's buffer (j >= 1)
    private final int[] nodeSlot;     // [n + 1] physical slot id of node j (j >= 1)
    private final int[] slotOccupant; // node currently held in each slot, -1 if free
    private final long[] wsOff;       // [n] float offset of module i's workspace
    private final long[] gradOff;     // [2] ping-pong activation-gradient buffers (-1: forward only)
    private final boolean withGradients;
    private final OffHeapBlock slab;
    private final MemorySegment seg;
    private final boolean[] nodeLive;
    private final boolean[] wsLive;
    private final ActivationLedger ledger = new ActivationLedger();
    /** Modules at or before this index need no input gradient: nothing upstream of them has parameters. */
    private final int firstWithParameters;

    private MemorySegment input;
    private long inputOff;
    private int batch;
    private boolean forwardDone;

    public BackpropExecutor(Model model, BackpropStrategy strategy, int maxBatch) {
        this(model, strategy, maxBatch, true);
    }

    /**
     * An executor for forward passes only (evaluation, loss probes): two scratch nodes as under
     * {@link BackpropStrategy#RECOMPUTE}, one workspace region that every module's forward reuses (no backward reads
     * it) and no activation-gradient buffers; {@link #backward} and {@link #outputGradientOffset} throw. The same
     * kernels on the same values as a recompute executor's forward, on less than half its memory when the widest
     * node is large (the default CNN at 1,000 rows: ~100 MB instead of ~200 MB, each byte zeroed and faulted in when
     * the slab is allocated).
     */
    public static BackpropExecutor forwardOnly(Model model, int maxBatch) {
        return new BackpropExecutor(model, BackpropStrategy.RECOMPUTE, maxBatch, false);
    }

    private BackpropExecutor(Model model, BackpropStrategy strategy, int maxBatch, boolean withGradients) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, was " + maxBatch);
        }
        this.model = model;
        this.strategy = strategy;
        this.n = model.layerCount();
        this.maxBatch = maxBatch;
        int[] withParams = model.layout().layersWithParameters();
        this.firstWithParameters = withParams.length == 0 ? n : withParams[0];
        this.recomputeAll = strategy instanceof BackpropStrategy.Recompute;
        this.interval = switch (strategy) {
            case BackpropStrategy.Vanilla v -> 1;
            case BackpropStrategy.Recompute r -> n;
            case BackpropStrategy.Checkpointed c -> Math.min(c.intervalFor(n), n);
        };
        this.lastSegment = recomputeAll ? 0 : (n - 1) / interval * interval;
        this.retained = new boolean[n + 1];
        this.wsRetained = new boolean[n];
        this.nodeOff = new long[n + 1];
        this.nodeSlot = new int[n + 1];
        this.wsOff = new long[n];
        this.gradOff = new long[2];
        this.nodeLive = new boolean[n + 1];
        this.wsLive = new boolean[n];

        int maxSize = 0;
        for (int j = 1; j <= n; j++) {
            maxSize = Math.max(maxSize, model.nodeSize(j));
        }
        long scratch = (long) maxBatch * maxSize;
        long next = 0;
        int slots = 0;
        if (recomputeAll) {
            retained[0] = true;
            retained[n - 1] = true;
            retained[n] = true;
            wsRetained[n - 1] = true;
            for (int j = 1; j <= n; j++) {
                nodeSlot[j] = j % 2;
                nodeOff[j] = (j % 2) * align(scratch);
            }
            next = 2 * align(scratch);
            slots = 2;
        } else {
            int k = interval;
            // checkpoint nodes (multiples of k below n, except x_0) get their own exactly sized slot
            for (int j = 1; j <= n; j++) {
                retained[j] = (j % k == 0 && j < n) || j >= lastSegment;
                if (j % k == 0 && j < n) {
                    nodeSlot[j] = slots++;
                    nodeOff[j] = next;
                    next += align((long) maxBatch * model.nodeSize(j));
                }
            }
            retained[0] = true;
            // segment nodes share k slots of the widest node: slot index by position inside the segment
            int segSlotBase = slots;
            long segBase = next;
            int maxIdx = -1;
            for (int j = 1; j <= n; j++) {
                if (!(j % k == 0 && j < n)) {
                    int idx = j % k == 0 ? k - 1 : j % k - 1;
                    nodeSlot[j] = segSlotBase + idx;
                    nodeOff[j] = segBase + idx * align(scratch);
                    maxIdx = Math.max(maxIdx, idx);
                }
            }
            next = segBase + (maxIdx + 1) * align(scratch);
            slots = segSlotBase + maxIdx + 1;
            for (int i = 0; i < n; i++) {
                wsRetained[i] = i >= lastSegment || (i + 1) % k == 0;
            }
        }
        this.slotOccupant = new int[slots];
        this.withGradients = withGradients;
        if (withGradients) {
            for (int i = 0; i < n; i++) {
                wsOff[i] = next;
                next += align(model.layer(i).workspaceFloats(maxBatch));
            }
            gradOff[0] = next;
            gradOff[1] = next + align(scratch);
            next += 2 * align(scratch);
        } else { // one workspace region for all: a module's workspace is dead once its forward returns
            long widest = 0;
            for (int i = 0; i < n; i++) {
                wsOff[i] = next;
                widest = Math.max(widest, align(model.layer(i).workspaceFloats(maxBatch)));
            }
            next += widest;
            gradOff[0] = -1;
            gradOff[1] = -1;
        }
        this.slab = OffHeapBlock.allocateFloats(next, Purpose.ACTIVATIONS);
        this.seg = slab.segment();
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }

    public Model model() {
        return model;
    }

    public BackpropStrategy strategy() {
        return strategy;
    }

    public int maxBatch() {
        return maxBatch;
    }

    /** Checkpoint interval in use (vanilla 1, recompute n). */
    public int interval() {
        return interval;
    }

    public ActivationLedger ledger() {
        return ledger;
    }

    /** Physical bytes of the activation slab (nodes, workspaces, gradient buffers) for {@code maxBatch}. */
    public long slabBytes() {
        return slab.byteSize();
    }

    /** Bytes of the two activation-gradient buffers used at batch size {@code batch} (same for every strategy). */
    public long gradientBufferBytes(int batch) {
        int maxSize = 0;
        for (int j = 1; j <= n; j++) {
            maxSize = Math.max(maxSize, model.nodeSize(j));
        }
        return 2L * batch * maxSize * Float.BYTES;
    }

    /** The slab holding the output node and the activation gradients. */
    public MemorySegment segment() {
        return seg;
    }

    /** Float offset of the output x_n in {@link #segment()} (valid after forward). */
    public long outputOffset() {
        return nodeOff[n];
    }

    /**
     * Float offset in {@link #segment()} of node x_j (1 <= j <= n, the output of module j - 1), valid after
     * {@link #forward} for the nodes the strategy retains: every node under {@link BackpropStrategy#VANILLA}.
     */
    public long retainedNodeOffset(int j) {
        if (j < 1 || j > n) {
            throw new IndexOutOfBoundsException("node " + j + " outside [1, " + n + "]");
        }
        if (!nodeLive[j]) {
            throw new IllegalStateException("node " + j + " is not held after the forward pass under " + strategy);
        }
        return nodeOff[j];
    }

    /** Segment where the loss writes dL/dx_n. */
    public MemorySegment outputGradient() {
        return seg;
    }

    public long outputGradientOffset() {
        requireGradients();
        return gradOff[n % 2];
    }

    /**
     * Forward pass of a batch of {@code batch} rows at {@code in[inOff]} ([batch, inputSize]). Keeps what the
     * strategy keeps; the output x_n is at {@link #outputOffset()}.
     */
    public void forward(ExecutionContext ctx, MemorySegment in, long inOff, int batch) {
        if (batch < 1 || batch > maxBatch) {
            throw new IllegalArgumentException("batch " + batch + " outside [1, " + maxBatch + "]");
        }
        this.input = in;
        this.inputOff = inOff;
        this.batch = batch;
        ledger.begin();
        Arrays.fill(nodeLive, false);
        Arrays.fill(wsLive, false);
        Arrays.fill(slotOccupant, -1);
        ctx.recompute(false);
        holdNode(0);
        for (int i = 0; i < n; i++) {
            evalForward(ctx, i);
            if (!retained[i]) {
                releaseNode(i);
            }
            if (wsLive[i] && !wsRetained[i]) {
                releaseWs(i);
            }
        }
        forwardDone = true;
    }

    /**
     * Backward pass after {@link #forward} and after the loss wrote dL/dx_n at {@link #outputGradientOffset()}:
     * overwrites the model's gradient slab. The context must carry the same step, seed and mode as the forward.
     */
    public void backward(ExecutionContext ctx) {
        requireGradients();
        if (!forwardDone) {
            throw new IllegalStateException("backward without a forward");
        }
        forwardDone = false;
        releaseNode(n); // the loss has consumed the output
        if (recomputeAll) {
            backwardRecompute(ctx);
        } else {
            backwardCheckpointed(ctx);
        }
        ctx.recompute(false);
        releaseNode(0);
    }

    private void requireGradients() {
        if (!withGradients) {
            throw new IllegalStateException("this executor runs forward passes only (BackpropExecutor.forwardOnly)");
        }
    }

    private void backwardRecompute(ExecutionContext ctx) {
        for (int i = n - 1; i >= 0; i--) {
            if (!nodeLive[i]) {
                ctx.recompute(true);
                for (int j = 0; j < i; j++) {
                    evalForward(ctx, j);
                    if (wsLive[j]) {
                        releaseWs(j);
                    }
                    if (j > 0) {
                        releaseNode(j);
                    }
                }
            }
            if (!wsLive[i] && model.layer(i).workspaceFloats(batch) > 0) {
                ctx.recompute(true);
                evalForward(ctx, i); // refills the workspace; x_{i+1} is dropped again
                releaseNode(i + 1);
            }
            backwardLayer(ctx, i);
        }
    }

    private void backwardCheckpointed(ExecutionContext ctx) {
        for (int c = lastSegment; c >= 0; c -= interval) {
            int e = Math.min(c + interval, n);
            if (c + 1 <= e - 1 && !nodeLive[c + 1]) {
                ctx.recompute(true);
                for (int j = c; j <= e - 2; j++) {
                    evalForward(ctx, j);
                }
            }
            for (int i = e - 1; i >= c; i--) {
                backwardLayer(ctx, i);
            }
        }
    }

    private void evalForward(ExecutionContext ctx, int i) {
        Module m = model.layer(i);
        holdNode(i + 1);
        if (m.workspaceFloats(batch) > 0) {
            if (!wsLive[i]) {
                wsLive[i] = true;
                ledger.hold(m.workspaceFloats(batch) * Float.BYTES);
            }
        }
        if (!nodeLive[i]) {
            throw new IllegalStateException("forward of module " + i + " without its input x_" + i);
        }
        m.forward(ctx, seg, nodeOff[i + 1], seg, wsOff[i], nodeSegment(i), nodeOffset(i), batch);
        ledger.evaluated();
    }

    private void backwardLayer(ExecutionContext ctx, int i) {
        Module m = model.layer(i);
        if (!nodeLive[i]) {
            throw new IllegalStateException("backward of module " + i + " without its input x_" + i);
        }
        if (!wsLive[i] && m.workspaceFloats(batch) > 0) {
            throw new IllegalStateException("backward of module " + i + " without its workspace");
        }
        m.backward(ctx, seg, gradOff[i % 2], seg, wsOff[i], seg, gradOff[(i + 1) % 2], nodeSegment(i),
                nodeOffset(i), batch, i > firstWithParameters);
        if (wsLive[i]) {
            releaseWs(i);
        }
        if (i > 0) {
            releaseNode(i);
        }
    }

    private MemorySegment nodeSegment(int j) {
        return j == 0 ? input : seg;
    }

    private long nodeOffset(int j) {
        return j == 0 ? inputOff : nodeOff[j];
    }

    private long nodeBytes(int j) {
        return (long) batch * model.nodeSize(j) * Float.BYTES;
    }

    private void holdNode(int j) {
        if (nodeLive[j]) {
            throw new IllegalStateException("node x_" + j + " computed twice while live");
        }
        if (j > 0) {
            int slot = nodeSlot[j];
            int occupant = slotOccupant[slot];
            if (occupant >= 0 && nodeLive[occupant]) {
                throw new IllegalStateException(strategy.name() + ": x_" + j + " would overwrite live x_" + occupant);
            }
            slotOccupant[slot] = j;
        }
        nodeLive[j] = true;
        ledger.hold(nodeBytes(j));
    }

    private void releaseNode(int j) {
        if (nodeLive[j]) {
            nodeLive[j] = false;
            ledger.release(nodeBytes(j));
        }
    }

    private void releaseWs(int i) {
        wsLive[i] = false;
        ledger.release(model.layer(i).workspaceFloats(batch) * Float.BYTES);
    }

    @Override
    public void close() {
        slab.close();
    }
}
