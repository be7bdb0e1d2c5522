package dev.descent.sdk;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.Evaluator;
import dev.descent.engine.train.ModelFile;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A network in memory: its architecture and its parameters (off-heap), owned by the caller and closed
 * deterministically. Load one from a model file ({@code model.descent} of a training job, or a trajectory point),
 * or build a fresh one from a {@link ModelDefinition} (the same initial point the engine starts a job from), then
 * save it, or measure its loss landscape.
 *
 * <pre>{@code
 * try (Network trained = Network.load(Path.of("out/train/model.descent"))) {
 *     System.out.println(trained.parameterCount() + " parameters, " + trained.parametersSha256());
 * }
 * }</pre>
 */
public final class Network implements AutoCloseable {
    private final Model model;
    private final String origin;

    private Network(Model model, String origin) {
        this.model = model;
        this.origin = origin;
    }

    /**
     * Reads a model file. Throws {@link DescentException} naming the file when it is missing, truncated, corrupt or
     * of an unknown version.
     */
    public static Network load(Path file) {
        try {
            return new Network(ModelFile.read(file), file.toString());
        } catch (ModelFile.ModelFileException e) {
            throw new DescentException("cannot read the " + e.getMessage(), e); // it names the file already
        } catch (IOException e) {
            throw new DescentException("cannot read the model file " + file + ": " + e.getMessage(), e);
        }
    }

    /** A network around an engine model this network now owns (e.g. a point of a trained plane). */
    static Network wrap(Model model, String origin) {
        return new Network(model, origin);
    }

    /** A freshly initialized network of {@code definition} (weights from the definition's seed). */
    public static Network create(ModelDefinition definition) {
        return new Network(definition.instantiate(), definition.toString());
    }

    /** Writes this network to a model file (atomically; readable by {@link #load} and the engine). */
    public void save(Path file) {
        try {
            ModelFile.save(model, file);
        } catch (IOException e) {
            throw new DescentException("cannot write the model file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Where this network came from: the model file it was loaded from, or the definition it was built from. */
    public String origin() {
        return origin;
    }

    /** The architecture as the engine's text spec: two networks with equal specs have the same parameter layout. */
    public String architecture() {
        return model.spec();
    }

    /** True when {@code other} has this network's architecture (so their parameters can be compared or mixed). */
    public boolean sameArchitecture(Network other) {
        return model.spec().equals(other.model.spec());
    }

    public long parameterCount() {
        return model.parameterCount();
    }

    /** Features per input example. */
    public int inputSize() {
        return model.inputSize();
    }

    /** SHA-256 (hex) of the parameters: equal hashes mean bit-identical parameters. */
    public String parametersSha256() {
        return model.parametersSha256();
    }

    /**
     * The mean and standard deviation of every node (the input, then each layer's output, first layer first) on the
     * first {@code examples} examples of {@code data}, in eval mode (Dropout off), one forward pass. On a fresh
     * {@link #create network} this shows how the initialization scales the signal layer by layer: with Xavier
     * weights each ReLU layer halves the variance of a plain MLP, with Kaiming weights it keeps it (He et al. 2015).
     * Throws {@link IllegalArgumentException} when {@code examples} is not in [1, size of data] or the data's
     * feature size is not the network's input size.
     */
    public java.util.List<LayerActivation> activationStatistics(DataSource data, int examples) {
        try (dev.descent.engine.data.Dataset d = data.open()) {
            return dev.descent.engine.train.ActivationStatistics.measure(model,
                            dev.descent.engine.kernel.Kernels.backend(), d, examples).stream()
                    .map(n -> new LayerActivation(n.node(), n.layer(), n.mean(), n.std())).toList();
        }
    }

    /**
     * A copy of the weight matrix of the {@code layer}-th parameter-owning layer (0 = the first, in the order of
     * {@link #parameterLayers()}) as rows of its first 2-D weight tensor: for a Linear layer {@code [out][in]}, one
     * row per unit. Throws {@link IllegalArgumentException} for a layer index out of range or a layer without a
     * 2-D weight (e.g. BatchNorm).
     */
    public float[][] weightRows(int layer) {
        int[] owners = model.layout().layersWithParameters();
        if (layer < 0 || layer >= owners.length) {
            throw new IllegalArgumentException("layer " + layer + " outside [0, " + owners.length
                    + ") (the network has " + owners.length + " parameter-owning layers)");
        }
        for (dev.descent.engine.nn.ParameterLayout.Entry e : model.layout().entries()) {
            int[] shape = e.shape();
            if (e.layerIndex() == owners[layer] && !e.bias() && shape.length == 2) {
                float[][] rows = new float[shape[0]][shape[1]];
                for (int r = 0; r < shape[0]; r++) {
                    for (int c = 0; c < shape[1]; c++) {
                        rows[r][c] = model.params().getFloat(e.offset() + (long) r * shape[1] + c);
                    }
                }
                return rows;
            }
        }
        throw new IllegalArgumentException("layer " + layer + " (" + model.parameterLayerNames().get(layer)
                + ") has no 2-D weight matrix");
    }

    /** Names of the parameter-owning layers, e.g. {@code 0:linear}, first first (as in gradient statistics). */
    public java.util.List<String> parameterLayers() {
        return model.parameterLayerNames();
    }

    /**
     * Mean loss and accuracy of this network (eval mode) on the first {@code examples} examples of {@code data}
     * (0: all of them) as one batch of any size: the engine reads the rows in place from the loaded dataset,
     * {@code chunkRows} at a time, and adds up exact per-example sums, so the result does not depend on
     * {@code chunkRows}, no batch buffer holds a copy of the examples, and activation memory is
     * {@code chunkRows} rows whatever the batch size (60,000 examples evaluate in the memory of 1,000).
     */
    public Evaluation evaluate(DataSource data, Loss loss, int examples, int chunkRows) {
        if (examples < 0 || chunkRows < 1) {
            throw new IllegalArgumentException("evaluate: examples must be >= 0 (0 = all) and chunk rows >= 1, were "
                    + examples + " and " + chunkRows);
        }
        long t0 = System.nanoTime();
        try (Dataset d = data.open();
             Evaluator ev = new Evaluator(model, Kernels.backend(), loss.engine(), chunkRows, 1)) {
            int n = examples == 0 ? d.count() : Math.min(examples, d.count());
            Evaluator.Sums s = ev.evaluateSums(d, 0, n);
            return new Evaluation(s.lossSum() / n, (double) s.correct() / n, n, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** Names of the parameter tensors, {@code LAYER:KIND.NAME} in layout order, e.g. {@code 0:linear.weight}. */
    public java.util.List<String> parameterNames() {
        return model.layout().entries().stream().map(dev.descent.engine.nn.ParameterLayout.Entry::qualifiedName)
                .toList();
    }

    /**
     * L2 norm of the parameter tensors whose names match {@code glob} ({@code *} = any characters, e.g.
     * {@code *:linear.weight}); throws, listing the names, when none matches.
     */
    public double parameterNorm(String glob) {
        return model.parameterNorm(glob);
    }

    Model engine() {
        return model;
    }

    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "Network[" + origin + ", " + model.parameterCount() + " parameters]";
    }
}
