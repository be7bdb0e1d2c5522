package dev.descent.engine.nn;

import dev.descent.engine.init.Initializer;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A built sequential network: its modules, the per-sample shape of every node, and the two slabs it owns —
 * parameters ({@link Purpose#PARAMETERS}) and gradients ({@link Purpose#GRADIENTS}) — laid out by one
 * {@link ParameterLayout}. Activations are not here: a backprop executor owns them, sized per batch size.
 *
 * <p>The model's state is its parameters plus its <em>buffers</em>: non-trainable values held by modules (BatchNorm
 * running statistics), {@link #bufferFloats()} floats, exposed concatenated in layer order by
 * {@link #writeBuffers}/{@link #readBuffers}. Snapshots, {@link #copyParametersFrom}, model files and checkpoints
 * carry both.
 *
 * <p>Node {@code j} is the input of module {@code j}; node 0 is the model input, node {@code n} the output.
 * Build one with {@link Sequential} or {@link Mlp}; close it to free its slabs.
 */
public final class Model implements AutoCloseable {
    /** First line of every model spec (bumped when the spec grammar changes). */
    public static final String SPEC_HEADER = "descent-sequential v1";

    private final List<Module> layers;
    private final int[][] nodeShapes;
    private final int[] nodeSizes;
    private final ParameterLayout layout;
    private final OffHeapBlock params;
    private final OffHeapBlock grads;
    private final String spec;
    private final boolean ownsParams;
    private final long bufferFloats;
    private final boolean[] frozen; // per layout entry

    Model(int[] inputShape, List<Module> modules) {
        this(inputShape, modules, null);
    }

    /** @param sharedParams null: allocate and own a parameter slab; else bind to this one (not owned). */
    private Model(int[] inputShape, List<Module> modules, OffHeapBlock sharedParams) {
        if (modules.isEmpty()) {
            throw new IllegalArgumentException("a model needs at least one layer");
        }
        this.layers = List.copyOf(modules);
        int n = layers.size();
        this.nodeShapes = new int[n + 1][];
        this.nodeSizes = new int[n + 1];
        nodeShapes[0] = inputShape.clone();
        nodeSizes[0] = Module.size(inputShape);
        ParameterLayout.Builder b = new ParameterLayout.Builder();
        StringBuilder s = new StringBuilder(SPEC_HEADER).append('\n').append("input");
        for (int d : inputShape) {
            s.append(' ').append(d);
        }
        s.append('\n');
        for (int i = 0; i < n; i++) {
            Module m = layers.get(i);
            nodeShapes[i + 1] = m.configure(i, nodeShapes[i].clone());
            nodeSizes[i + 1] = Module.size(nodeShapes[i + 1]);
            b.beginLayer(i, m.kind());
            m.declareParameters(b);
            s.append(m.spec()).append('\n');
        }
        this.spec = s.toString();
        this.layout = b.build();
        long buf = 0;
        for (Module m : layers) {
            buf += m.bufferFloats();
        }
        this.bufferFloats = buf;
        this.ownsParams = sharedParams == null;
        if (sharedParams != null && sharedParams.byteSize() != layout.totalFloats() * Float.BYTES) {
            throw new IllegalArgumentException("shared parameter slab holds " + sharedParams.byteSize()
                    + " bytes, this architecture needs " + layout.totalFloats() * Float.BYTES);
        }
        OffHeapBlock p = ownsParams ? OffHeapBlock.allocateFloats(layout.totalFloats(), Purpose.PARAMETERS)
                : sharedParams;
        OffHeapBlock g;
        try {
            g = OffHeapBlock.allocateFloats(layout.totalFloats(), Purpose.GRADIENTS);
        } catch (RuntimeException | Error e) {
            if (ownsParams) {
                p.close();
            }
            throw e;
        }
        this.params = p;
        this.grads = g;
        this.frozen = new boolean[layout.entries().size()];
        for (Module m : layers) {
            m.bindParameters(layout, params.segment(), grads.segment());
        }
        if (ownsParams) {
            fillScales(params.segment());
        }
    }

    private void fillScales(MemorySegment p) {
        for (ParameterLayout.Entry e : layout.entries()) {
            if (e.scale()) {
                for (int i = 0; i < e.count(); i++) {
                    p.setAtIndex(ValueLayout.JAVA_FLOAT, e.offset() + i, 1f);
                }
            }
        }
    }

    /**
     * Converts parameters written before BatchNorm stored its scale γ directly (model files of format version 2 and
     * older, checkpoints without the {@code scaleParameters=direct} mark), which held γ−1: adds 1 to every scale
     * tensor.
     */
    public void upgradeLegacyScales() {
        MemorySegment p = params.segment();
        for (ParameterLayout.Entry e : layout.entries()) {
            if (e.scale()) {
                for (int i = 0; i < e.count(); i++) {
                    long at = e.offset() + i;
                    p.setAtIndex(ValueLayout.JAVA_FLOAT, at, p.getAtIndex(ValueLayout.JAVA_FLOAT, at) + 1f);
                }
            }
        }
    }

    /**
     * Indices of the layout entries whose {@link ParameterLayout.Entry#qualifiedName()} (e.g. {@code 3:batchnorm.gamma})
     * matches {@code glob}, where {@code *} stands for any characters: {@code *:batchnorm.*}, {@code 7:linear.*},
     * {@code *.bias}. Throws, listing the names, when nothing matches.
     */
    public int[] entriesMatching(String glob) {
        StringBuilder re = new StringBuilder();
        for (String part : glob.split("\\*", -1)) {
            re.append(java.util.regex.Pattern.quote(part)).append(".*");
        }
        re.setLength(re.length() - 2);
        java.util.regex.Pattern pattern = java.util.regex.Pattern.compile(re.toString());
        List<ParameterLayout.Entry> es = layout.entries();
        int[] hits = java.util.stream.IntStream.range(0, es.size())
                .filter(i -> pattern.matcher(es.get(i).qualifiedName()).matches()).toArray();
        if (hits.length == 0) {
            List<String> names = new ArrayList<>();
            for (ParameterLayout.Entry e : es) {
                names.add(e.qualifiedName());
            }
            throw new IllegalArgumentException("no parameter tensor matches '" + glob + "'; the model has " + names);
        }
        return hits;
    }

    /**
     * Freezes (or thaws) the parameter tensors matching {@code glob} (see {@link #entriesMatching}): an optimizer
     * state built afterwards never updates them, weight decay included; their gradients are still computed.
     */
    public Model freeze(String glob, boolean freeze) {
        for (int i : entriesMatching(glob)) {
            frozen[i] = freeze;
        }
        return this;
    }

    /** True when layout entry {@code entry} is frozen. */
    public boolean frozen(int entry) {
        return frozen[entry];
    }

    /** L2 norm of the parameter tensors matching {@code glob} (double accumulation). */
    public double parameterNorm(String glob) {
        MemorySegment p = params.segment();
        double sum = 0;
        for (int i : entriesMatching(glob)) {
            ParameterLayout.Entry e = layout.entry(i);
            for (int j = 0; j < e.count(); j++) {
                double v = p.getAtIndex(ValueLayout.JAVA_FLOAT, e.offset() + j);
                sum += v * v;
            }
        }
        return Math.sqrt(sum);
    }

    /** Rebuilds a model from a spec (weights and biases zero, scales 1) written by {@link #spec()}. */
    public static Model fromSpec(String spec) {
        return fromSpec(spec, null);
    }

    /**
     * A replica for data-parallel training: a new model of the same architecture (fresh module instances) that
     * reads and writes <em>this</em> model's parameter slab but owns its own gradient slab. Closing the replica
     * frees only its gradients; close it before this model. Buffers (e.g. BatchNorm running statistics) are the
     * replica's own, starting from their defaults.
     */
    public Model shareParameters() {
        return fromSpec(spec, params);
    }

    private static Model fromSpec(String spec, OffHeapBlock sharedParams) {
        String[] lines = spec.strip().split("\n");
        if (lines.length < 3 || !lines[0].strip().equals(SPEC_HEADER)) {
            throw new IllegalArgumentException("not a model spec (expected first line '" + SPEC_HEADER + "'): "
                    + (lines.length == 0 ? "" : lines[0]));
        }
        String[] in = lines[1].strip().split("\\s+");
        if (!in[0].equals("input") || in.length < 2) {
            throw new IllegalArgumentException("model spec: expected 'input D...' on line 2, was '" + lines[1] + "'");
        }
        int[] shape = new int[in.length - 1];
        for (int i = 1; i < in.length; i++) {
            shape[i - 1] = Integer.parseInt(in[i]);
        }
        List<Module> modules = new ArrayList<>();
        for (int i = 2; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                modules.add(ModuleSpecs.parse(lines[i]));
            }
        }
        return new Model(shape, modules, sharedParams);
    }

    public List<Module> layers() {
        return layers;
    }

    public int layerCount() {
        return layers.size();
    }

    public Module layer(int i) {
        return layers.get(i);
    }

    /** Per-sample shape of node j (0 = input, n = output). */
    public int[] nodeShape(int j) {
        return nodeShapes[j].clone();
    }

    /** Floats per sample of node j. */
    public int nodeSize(int j) {
        return nodeSizes[j];
    }

    public int inputSize() {
        return nodeSizes[0];
    }

    public int outputSize() {
        return nodeSizes[layers.size()];
    }

    public ParameterLayout layout() {
        return layout;
    }

    /** The parameter slab [layout.totalFloats()]. */
    public OffHeapBlock params() {
        return params;
    }

    /** The gradient slab, same layout. */
    public OffHeapBlock grads() {
        return grads;
    }

    public long parameterCount() {
        return layout.parameterCount();
    }

    /** The model's architecture as text (stored in model files; {@link #fromSpec} parses it). */
    public String spec() {
        return spec;
    }

    /**
     * Initializes every tensor: weights with {@code weights}, biases with {@code biases}, scales (BatchNorm's γ) to 1.
     * Tensor t draws from
     * its own SplittableRandom(seed, t), so results depend only on the seed and the architecture.
     */
    public Model initialize(Initializer weights, Initializer biases, long seed) {
        SplittableRandom root = new SplittableRandom(seed);
        MemorySegment p = params.segment();
        for (ParameterLayout.Entry e : layout.entries()) {
            SplittableRandom rng = root.split();
            if (!e.scale()) {
                (e.bias() ? biases : weights).fill(p, e.offset(), e.count(), e.fanIn(), e.fanOut(), rng);
            }
        }
        fillScales(p);
        return this;
    }

    /** Floats of non-trainable buffers of all modules (0 when none holds any, e.g. without BatchNorm). */
    public long bufferFloats() {
        return bufferFloats;
    }

    /**
     * Writes every module's buffers, concatenated in layer order, as {@link #bufferFloats()} native-order floats
     * to {@code dst} from float offset {@code off}. Allocation-free.
     */
    public void writeBuffers(MemorySegment dst, long off) {
        checkBufferRoom(dst, off);
        for (int i = 0; i < layers.size(); i++) { // indexed: no iterator, even before C2 compiles this
            Module m = layers.get(i);
            m.writeBuffers(dst, off);
            off += m.bufferFloats();
        }
    }

    /** Sets every module's buffers from the layout {@link #writeBuffers} writes. Allocation-free. */
    public void readBuffers(MemorySegment src, long off) {
        checkBufferRoom(src, off);
        for (int i = 0; i < layers.size(); i++) { // indexed: no iterator, even before C2 compiles this
            Module m = layers.get(i);
            m.readBuffers(src, off);
            off += m.bufferFloats();
        }
    }

    private void checkBufferRoom(MemorySegment seg, long off) {
        if (off < 0 || seg.byteSize() < (off + bufferFloats) * Float.BYTES) {
            throw new IllegalArgumentException("buffer segment of " + seg.byteSize() + " bytes cannot hold "
                    + bufferFloats + " buffer floats at float offset " + off);
        }
    }

    /** A heap copy of the buffers (convenience; allocates). */
    public float[] buffers() {
        float[] out = new float[Math.toIntExact(bufferFloats)];
        writeBuffers(MemorySegment.ofArray(out), 0);
        return out;
    }

    /** An owned off-heap copy of the parameters and buffers (close it when done). */
    public ParameterSnapshot snapshot() {
        ParameterSnapshot s = new ParameterSnapshot(spec, params.byteSize(), bufferFloats * Float.BYTES);
        snapshotInto(s);
        return s;
    }

    /** Copies the parameters and buffers into an existing snapshot of this architecture (no allocation). */
    public void snapshotInto(ParameterSnapshot snapshot) {
        checkSameSpec(snapshot);
        MemorySegment.copy(params.segment(), 0, snapshot.block().segment(), 0, params.byteSize());
        writeBuffers(snapshot.buffers().segment(), 0);
    }

    private void checkSameSpec(ParameterSnapshot snapshot) {
        if (!snapshot.spec().equals(spec)) {
            throw new IllegalArgumentException("snapshot is of another architecture:\n" + snapshot.spec()
                    + "\nthis model:\n" + spec);
        }
    }

    /** Copies a snapshot of this same architecture back into the parameters and buffers (no allocation). */
    public void restore(ParameterSnapshot snapshot) {
        checkSameSpec(snapshot);
        MemorySegment.copy(snapshot.block().segment(), 0, params.segment(), 0, params.byteSize());
        readBuffers(snapshot.buffers().segment(), 0);
    }

    /**
     * Copies the parameters and the buffers of another model of the same architecture (its whole state; a
     * replica made by {@link #shareParameters()} copies onto the shared slab, which is a no-op for parameters).
     */
    public void copyParametersFrom(Model other) {
        checkSameArchitecture(other);
        if (other.params.segment().address() != params.segment().address()) {
            MemorySegment.copy(other.params.segment(), 0, params.segment(), 0, params.byteSize());
        }
        copyBuffersFrom(other);
    }

    /** Copies only the buffers (e.g. BatchNorm running statistics) of another model of the same architecture. */
    public void copyBuffersFrom(Model other) {
        checkSameArchitecture(other);
        if (bufferFloats > 0) {
            MemorySegment tmp = MemorySegment.ofArray(new float[Math.toIntExact(bufferFloats)]);
            other.writeBuffers(tmp, 0);
            readBuffers(tmp, 0);
        }
    }

    private void checkSameArchitecture(Model other) {
        if (!other.spec.equals(spec)) {
            throw new IllegalArgumentException("cannot copy state between architectures:\n" + other.spec
                    + "\nvs\n" + spec);
        }
    }

    /** Hex SHA-256 of the parameter values (little-endian float32, tensors in layout order, no padding). */
    public String parametersSha256() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 14];
            MemorySegment p = params.segment();
            for (ParameterLayout.Entry e : layout.entries()) {
                long from = e.offset() * Float.BYTES;
                long remaining = (long) e.count() * Float.BYTES;
                while (remaining > 0) {
                    int len = (int) Math.min(buf.length, remaining);
                    MemorySegment.copy(p, ValueLayout.JAVA_BYTE, from, buf, 0, len);
                    md.update(buf, 0, len);
                    from += len;
                    remaining -= len;
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** Names of the layers that own parameters, e.g. {@code 0:linear}, in model order. */
    public List<String> parameterLayerNames() {
        List<String> names = new ArrayList<>();
        for (int i : layout.layersWithParameters()) {
            names.add(i + ":" + layers.get(i).kind());
        }
        return names;
    }

    /**
     * Writes into {@code out} the L2 norm of each parameter-owning layer's gradient (all its tensors together),
     * in the order of {@link #parameterLayerNames()}. Allocation-free.
     */
    public double[] layerGradientNorms(KernelBackend kernels, double[] out) {
        int[] owners = layout.layersWithParameters();
        if (out.length < owners.length) {
            throw new IllegalArgumentException("need room for " + owners.length + " norms, got " + out.length);
        }
        Arrays.fill(out, 0, owners.length, 0.0);
        MemorySegment g = grads.segment();
        int slot = -1;
        int lastLayer = -1;
        for (ParameterLayout.Entry e : layout.entries()) {
            if (e.layerIndex() != lastLayer) {
                slot++;
                lastLayer = e.layerIndex();
            }
            out[slot] += kernels.sumSquares(g, e.offset(), e.count());
        }
        for (int i = 0; i < owners.length; i++) {
            out[i] = Math.sqrt(out[i]);
        }
        return out;
    }

    /**
     * Writes into {@code out} ‖w − w_before‖ / ‖w‖ for each parameter-owning layer (all its tensors together), in the
     * order of {@link #parameterLayerNames()}: the relative size of the last update each layer received.
     * {@code before} holds the parameters before the update in this model's layout (a {@link ParameterSnapshot}'s
     * block) and is overwritten with {@code before − w}. A layer whose parameters are all zero gets 0.
     */
    public double[] layerUpdateRatios(KernelBackend kernels, MemorySegment before, double[] out) {
        int[] owners = layout.layersWithParameters();
        if (out.length < owners.length) {
            throw new IllegalArgumentException("need room for " + owners.length + " ratios, got " + out.length);
        }
        MemorySegment p = params.segment();
        kernels.axpy(before, 0, -1f, p, 0, layout.totalFloats()); // before = before - after
        double[] weight = new double[owners.length];
        Arrays.fill(out, 0, owners.length, 0.0);
        int slot = -1;
        int lastLayer = -1;
        for (ParameterLayout.Entry e : layout.entries()) {
            if (e.layerIndex() != lastLayer) {
                slot++;
                lastLayer = e.layerIndex();
            }
            out[slot] += kernels.sumSquares(before, e.offset(), e.count());
            weight[slot] += kernels.sumSquares(p, e.offset(), e.count());
        }
        for (int i = 0; i < owners.length; i++) {
            out[i] = weight[i] == 0 ? 0 : Math.sqrt(out[i]) / Math.sqrt(weight[i]);
        }
        return out;
    }

    @Override
    public void close() {
        if (ownsParams) {
            params.close();
        }
        grads.close();
    }

    @Override
    public String toString() {
        return "Model[" + layers.size() + " layers, " + parameterCount() + " parameters]";
    }
}
