package dev.descent.sdk;

import dev.descent.engine.init.Init;
import dev.descent.engine.init.Initializer;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import java.util.Arrays;

/**
 * What network to train, as an immutable description; the engine builds (allocates and initializes) a fresh
 * model from it for every job. Two ways in: the fluent {@link #mlp()} builder, and {@link #fromSpec} for any
 * architecture the engine's layer zoo can describe in its text spec (convolutions, BatchNorm, residual blocks...).
 *
 * <pre>{@code
 * ModelDefinition m = ModelDefinition.mlp().input(1, 28, 28).hidden(256, 128).activation(Activation.RELU)
 *         .output(10).init("kaiming-normal").seed(1).build();
 * }</pre>
 */
public final class ModelDefinition {
    private final String description;
    private final Factory factory;

    private interface Factory {
        Model build();
    }

    private ModelDefinition(String description, Factory factory) {
        this.description = description;
        this.factory = factory;
    }

    /** A multilayer perceptron builder. */
    public static MlpBuilder mlp() {
        return new MlpBuilder();
    }

    /**
     * A model from the engine's text spec (first line {@code descent-sequential v1}, then {@code input D...} and one
     * layer per line), weights initialized with {@code init} (e.g. {@code kaiming-normal}), biases zero.
     */
    public static ModelDefinition fromSpec(String spec, String init, long seed) {
        Initializer weights = Init.parse(init);
        try (Model probe = Model.fromSpec(spec)) {
            return new ModelDefinition("spec(" + probe.layerCount() + " layers, " + probe.parameterCount()
                    + " parameters)", () -> Model.fromSpec(spec).initialize(weights, Init.ZEROS, seed));
        }
    }

    /**
     * A residual MLP: Linear(width) + ReLU, then {@code depth} residual blocks (Linear, BatchNorm, ReLU, Linear,
     * BatchNorm, plus the skip), then Linear(classes). {@code skip} false drops the "+ x" of every block — same depth,
     * same parameters — to compare landscapes and trainability with and without skip connections (Li et al. 2018).
     * Kaiming-normal weights from {@code seed}.
     */
    public static ModelDefinition resMlp(int[] inputShape, int classes, int depth, int width, boolean skip,
                                         long seed) {
        return resMlp(inputShape, classes, depth, width, skip, true, seed);
    }

    /**
     * As {@link #resMlp(int[], int, int, int, boolean, long)}; {@code batchNorm} false leaves the BatchNorm layers
     * out of the blocks (each block is then Linear, ReLU, Linear, plus the skip), e.g. to see the landscape of a
     * deep net without normalization. The weights are the same as with BatchNorm for the same seed.
     */
    public static ModelDefinition resMlp(int[] inputShape, int classes, int depth, int width, boolean skip,
                                         boolean batchNorm, long seed) {
        int[] shape = inputShape.clone();
        return new ModelDefinition("resmlp(depth " + depth + ", width " + width + (skip ? "" : ", no skip")
                + (batchNorm ? "" : ", no BatchNorm") + ")",
                () -> dev.descent.engine.nn.Models.resMlp(shape, classes, depth, width, skip, batchNorm, seed));
    }

    /**
     * A small LeNet-like CNN for {@code [C, H, W]} images (H, W divisible by 4): conv 5x5 (16) - maxpool 2 - ReLU -
     * conv 5x5 (32) - maxpool 2 - ReLU - Linear 128 - ReLU - Linear(classes) (each ReLU after its pooling: the same
     * function as ReLU first, on a quarter of the elements). Kaiming-normal weights from {@code seed}.
     */
    public static ModelDefinition cnn(int[] inputShape, int classes, long seed) {
        int[] shape = inputShape.clone();
        return new ModelDefinition("cnn", () -> dev.descent.engine.nn.Models.cnn(shape, classes, seed));
    }

    /**
     * A decoder-only transformer over sequences of {@code seqLen} token ids in [0, vocab): token + learned position
     * embedding of {@code width}, {@code layers} pre-norm blocks of causal self-attention ({@code heads} heads) and
     * an MLP (4x, GELU), a final LayerNorm, and {@code classes} logits read at the last position. Weights
     * N(0, 0.02), zero biases. The grokking paper's model is {@code transformer(p + 2, 4, 128, 4, 2, p, seed)}.
     */
    public static ModelDefinition transformer(int vocab, int seqLen, int width, int heads, int layers, int classes,
                                              long seed) {
        dev.descent.engine.nn.Models.transformer(vocab, seqLen, width, heads, layers, classes, seed).close();
        return new ModelDefinition("transformer(" + layers + " layers, width " + width + ", " + heads + " heads, vocab "
                + vocab + ")", () -> dev.descent.engine.nn.Models.transformer(vocab, seqLen, width, heads, layers,
                classes, seed));
    }

    /**
     * Token embedding (+ learned positions) of {@code dim} per token, flattened, then an MLP with ReLU hidden layers
     * of the given widths and {@code classes} logits: a small, fast model for short token sequences such as
     * {@code a op b =}. Kaiming-normal weights from {@code seed}.
     */
    public static ModelDefinition embeddingMlp(int vocab, int seqLen, int dim, int[] hidden, int classes, long seed) {
        int[] h = hidden.clone();
        dev.descent.engine.nn.Models.embeddingMlp(vocab, seqLen, dim, h, classes, seed).close();
        StringBuilder d = new StringBuilder("embedding-mlp(dim " + dim + ", hidden");
        for (int x : h) {
            d.append(' ').append(x);
        }
        return new ModelDefinition(d.append(')').toString(),
                () -> dev.descent.engine.nn.Models.embeddingMlp(vocab, seqLen, dim, h, classes, seed));
    }

    /**
     * This definition with the parameter tensors matching each glob frozen: the optimizer never updates them, weight
     * decay included (their gradients are still computed for the layers below). Tensor names are
     * {@code LAYER:KIND.NAME}, e.g. {@code 3:batchnorm.gamma} ({@link Network#parameterNames()}); {@code *} matches
     * any characters: {@code *:batchnorm.*} freezes every BatchNorm's γ and β, {@code 9:linear.*} one layer.
     * Throws, listing the names, when a glob matches nothing.
     */
    public ModelDefinition freeze(String... globs) {
        String[] g = globs.clone();
        try (Model probe = factory.build()) {
            for (String glob : g) {
                probe.entriesMatching(glob);
            }
        }
        Factory base = factory;
        return new ModelDefinition(description + ", frozen " + String.join(" ", g), () -> {
            Model m = base.build();
            for (String glob : g) {
                m.freeze(glob, true);
            }
            return m;
        });
    }

    /** Builds a fresh, initialized model (the caller owns and closes it). */
    Model instantiate() {
        return factory.build();
    }

    @Override
    public String toString() {
        return description;
    }

    /**
     * Fluent MLP description: Linear (+ BatchNorm) + activation (+ Dropout) per hidden width, then a Linear output.
     */
    public static final class MlpBuilder {
        private int[] input;
        private int[] hidden = {};
        private int outputs = -1;
        private Activation activation = Activation.RELU;
        private double dropout;
        private boolean batchNorm;
        private String init = "kaiming-normal";
        private long seed = 1;

        private MlpBuilder() {
        }

        /** Per-sample input shape, e.g. {@code (1, 28, 28)} or {@code (784)}. */
        public MlpBuilder input(int... shape) {
            this.input = shape.clone();
            return this;
        }

        public MlpBuilder hidden(int... widths) {
            this.hidden = widths.clone();
            return this;
        }

        public MlpBuilder activation(Activation activation) {
            this.activation = activation;
            return this;
        }

        /** Number of classes. */
        public MlpBuilder output(int classes) {
            this.outputs = classes;
            return this;
        }

        public MlpBuilder dropout(double p) {
            this.dropout = p;
            return this;
        }

        /**
         * BatchNorm between every hidden Linear and its activation (off by default): the normalization that lets
         * large learning rates train (e.g. the linear scaling rule at large batches).
         */
        public MlpBuilder batchNorm(boolean on) {
            this.batchNorm = on;
            return this;
        }

        /** Weight initializer: zeros, constant:V, normal:STD, uniform:A, xavier-*, kaiming-normal/uniform. */
        public MlpBuilder init(String init) {
            this.init = init;
            return this;
        }

        /** Seed of the weights. */
        public MlpBuilder seed(long seed) {
            this.seed = seed;
            return this;
        }

        public ModelDefinition build() {
            if (input == null || input.length == 0) {
                throw new IllegalArgumentException("MLP: input(...) is required");
            }
            if (outputs < 1) {
                throw new IllegalArgumentException("MLP: output(classes) must be >= 1, was " + outputs);
            }
            for (int w : hidden) {
                if (w < 1) {
                    throw new IllegalArgumentException("MLP: hidden widths must be >= 1, got " + Arrays.toString(hidden));
                }
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("MLP: dropout must be in [0, 1), was " + dropout);
            }
            Initializer weights = Init.parse(init);
            int[] in = input.clone();
            int[] h = hidden.clone();
            int out = outputs;
            dev.descent.engine.kernel.Activation act = activation.engine();
            double p = dropout;
            long s = seed;
            boolean bn = batchNorm;
            StringBuilder d = new StringBuilder("MLP ");
            for (int i = 0; i < in.length; i++) {
                d.append(i == 0 ? "" : "x").append(in[i]);
            }
            for (int x : h) {
                d.append('-').append(x);
            }
            d.append('-').append(out).append(' ').append(activation.name().toLowerCase(java.util.Locale.ROOT));
            if (bn) {
                d.append(", BatchNorm");
            }
            return new ModelDefinition(d.toString(), () -> Mlp.builder().input(in).hidden(h).activation(act).output(out)
                    .dropout(p).batchNorm(bn).init(weights).seed(s).build());
        }
    }
}
