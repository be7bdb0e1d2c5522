package dev.descent.engine.nn;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;

/**
 * Ready-made architectures for the stories, built, allocated and initialized (Kaiming normal weights, zero biases,
 * γ = 1 norms) from a seed. The MLP is {@link Mlp}.
 *
 * <pre>
 * Model resnet = Models.resMlp(new int[]{1, 28, 28}, 10, 8, 256, true, 1);   // --model resmlp --depth 8 --width 256
 * Model plain  = Models.resMlp(new int[]{1, 28, 28}, 10, 8, 256, false, 1);  // ... --no-skip
 * Model cnn    = Models.cnn(new int[]{1, 28, 28}, 10, 1);                    // --model cnn
 * Model gpt    = Models.transformer(97, 4, 128, 4, 2, 1);                    // modular arithmetic
 * </pre>
 */
public final class Models {
    private Models() {
    }

    /**
     * Residual MLP: [Flatten], Linear(width), ReLU, then {@code depth} blocks
     * {@code ReLU(x + BN(Linear(ReLU(BN(Linear(x))))))}, then Linear(classes). With {@code skip} false the blocks
     * are the same minus the "x +" — same depth, same parameters — the "no-short" networks of Li et al. 2018.
     * So a model has 2·depth + 2 Linear layers.
     */
    public static Model resMlp(int[] inputShape, int classes, int depth, int width, boolean skip, long seed) {
        return resMlp(inputShape, classes, depth, width, skip, true, seed);
    }

    /** As {@link #resMlp(int[], int, int, int, boolean, long)}, with BatchNorm in the blocks optional. */
    public static Model resMlp(int[] inputShape, int classes, int depth, int width, boolean skip, boolean batchNorm,
                               long seed) {
        if (depth < 0 || width < 1 || classes < 1) {
            throw new IllegalArgumentException("resmlp: depth >= 0, width >= 1, classes >= 1 required, was depth="
                    + depth + " width=" + width + " classes=" + classes);
        }
        Sequential s = Sequential.input(inputShape);
        if (inputShape.length > 1) {
            s.add(new Flatten());
        }
        s.add(new Linear(width)).add(new ActivationLayer(Activation.RELU));
        for (int d = 0; d < depth; d++) {
            Residual block = batchNorm
                    ? new Residual(skip, new Linear(width), new BatchNorm(), new ActivationLayer(Activation.RELU),
                            new Linear(width), new BatchNorm())
                    : new Residual(skip, new Linear(width), new ActivationLayer(Activation.RELU), new Linear(width));
            s.add(block).add(new ActivationLayer(Activation.RELU));
        }
        s.add(new Linear(classes));
        return s.build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, seed);
    }

    /**
     * A small LeNet-like CNN for {@code [C, H, W]} images (H, W divisible by 4):
     * conv 5x5 (16, same) - maxpool 2 - ReLU - conv 5x5 (32, same) - maxpool 2 - ReLU - Linear 128 - ReLU -
     * Linear classes. About 0.21 M parameters and 3.0 M multiply-adds per 28x28 image.
     *
     * <p>Each ReLU comes after its max pooling rather than before: the same function (ReLU does not decrease, so
     * relu(max(a, b, c, d)) = max(relu(a), ..., relu(d)), and the window's gradient goes to the same pixel or, when
     * every pixel is at most 0, to none) with a quarter of the elements through the activation, forward and backward
     * (5% of a training step; the parameters after training are bit for bit those of conv - ReLU - maxpool).
     */
    public static Model cnn(int[] inputShape, int classes, long seed) {
        if (inputShape.length != 3 || inputShape[1] % 4 != 0 || inputShape[2] % 4 != 0) {
            throw new IllegalArgumentException("cnn needs [C, H, W] input with H and W divisible by 4");
        }
        return Sequential.input(inputShape)
                .add(new Conv2d(16, 5)).add(new MaxPool2d(2)).add(new ActivationLayer(Activation.RELU))
                .add(new Conv2d(32, 5)).add(new MaxPool2d(2)).add(new ActivationLayer(Activation.RELU))
                .add(new Flatten())
                .add(new Linear(128)).add(new ActivationLayer(Activation.RELU))
                .add(new Linear(classes))
                .build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, seed);
    }

    /**
     * A decoder-only transformer over sequences of {@code seqLen} token ids: Embedding(vocab, width) + learned
     * positions, {@code layers} pre-norm blocks (heads, MLP 4x, GELU), a final LayerNorm, the last position,
     * Linear(vocab) — predicts the token that follows (e.g. the answer of {@code a op b =} modulo p).
     * Weights N(0, 0.02) as in GPT-2, zero biases.
     */
    public static Model transformer(int vocab, int seqLen, int width, int heads, int layers, long seed) {
        Sequential s = Sequential.input(seqLen).add(new Embedding(vocab, width));
        for (int l = 0; l < layers; l++) {
            s.add(new TransformerBlock(heads));
        }
        return s.add(new LayerNorm()).add(new LastToken()).add(new Linear(vocab))
                .build().initialize(Init.normal(0.02), Init.ZEROS, seed);
    }

    /**
     * As {@link #transformer(int, int, int, int, int, long)} with an output layer of {@code classes} logits instead
     * of {@code vocab} (e.g. the p residues of {@code a op b =} while the vocabulary also holds the operator and '=').
     */
    public static Model transformer(int vocab, int seqLen, int width, int heads, int layers, int classes, long seed) {
        if (vocab < 1 || seqLen < 1 || width < 1 || heads < 1 || layers < 0 || classes < 1 || width % heads != 0) {
            throw new IllegalArgumentException("transformer: vocab, seqLen, width, heads, classes >= 1, layers >= 0 "
                    + "and width divisible by heads required, was vocab=" + vocab + " seqLen=" + seqLen + " width="
                    + width + " heads=" + heads + " layers=" + layers + " classes=" + classes);
        }
        Sequential s = Sequential.input(seqLen).add(new Embedding(vocab, width));
        for (int l = 0; l < layers; l++) {
            s.add(new TransformerBlock(heads));
        }
        return s.add(new LayerNorm()).add(new LastToken()).add(new Linear(classes))
                .build().initialize(Init.normal(0.02), Init.ZEROS, seed);
    }

    /**
     * Token embedding + MLP over a short sequence: Embedding(vocab, dim) (token + position), Flatten to
     * {@code seqLen · dim}, then Linear(h) + ReLU per hidden width, then Linear(classes). The fast grokking model:
     * on {@code a op b =} it sees both operands' embeddings at once. Weights Kaiming normal (embeddings N(0, 1/dim)
     * by their fan-in), zero biases.
     */
    public static Model embeddingMlp(int vocab, int seqLen, int dim, int[] hidden, int classes, long seed) {
        if (vocab < 1 || seqLen < 1 || dim < 1 || classes < 1) {
            throw new IllegalArgumentException("embedding MLP: vocab, seqLen, dim and classes must be >= 1, was vocab="
                    + vocab + " seqLen=" + seqLen + " dim=" + dim + " classes=" + classes);
        }
        Sequential s = Sequential.input(seqLen).add(new Embedding(vocab, dim)).add(new Flatten());
        for (int h : hidden) {
            if (h < 1) {
                throw new IllegalArgumentException("embedding MLP: hidden widths must be >= 1, got "
                        + java.util.Arrays.toString(hidden));
            }
            s.add(new Linear(h)).add(new ActivationLayer(Activation.RELU));
        }
        return s.add(new Linear(classes)).build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, seed);
    }
}
