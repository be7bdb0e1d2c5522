package dev.descent.engine.nn;

import dev.descent.engine.kernel.Activation;
import java.util.List;
import java.util.Locale;

/**
 * A decoder block over {@code [T, C]} samples: causal self-attention and a position-wise MLP (C -> ratio*C ->
 * C with ReLU or GELU), each with a residual connection and a LayerNorm.
 * <ul>
 *   <li>pre-norm (GPT-2): x = x + attn(ln1(x)); x = x + mlp(ln2(x))</li>
 *   <li>post-norm (original Transformer): x = ln1(x + attn(x)); x = ln2(x + mlp(x))</li>
 * </ul>
 * One module for the backprop strategies (a checkpoint unit); its parts run inside its workspace.
 */
public final class TransformerBlock extends ChainedModule {
    private final int heads;
    private final int mlpRatio;
    private final Activation activation;
    private final boolean preNorm;

    public TransformerBlock(int heads, int mlpRatio, Activation activation, boolean preNorm) {
        if (heads < 1 || mlpRatio < 1) {
            throw new IllegalArgumentException("transformer block: heads and mlp ratio must be >= 1, was " + heads
                    + ", " + mlpRatio);
        }
        this.heads = heads;
        this.mlpRatio = mlpRatio;
        this.activation = activation;
        this.preNorm = preNorm;
    }

    /** Pre-norm, MLP ratio 4, GELU. */
    public TransformerBlock(int heads) {
        this(heads, 4, Activation.GELU, true);
    }

    @Override
    public List<Module> children() {
        return chain.modules();
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 2) {
            throw new IllegalArgumentException("transformer block needs [T, C] samples, got rank "
                    + inputShape.length);
        }
        this.layerIndex = layerIndex;
        int c = inputShape[1];
        Module[] mlp = {new PerToken(new Linear(mlpRatio * c)), new ActivationLayer(activation),
                new PerToken(new Linear(c))};
        if (preNorm) {
            chain = new ModuleChain(List.of(
                    new Residual(true, new LayerNorm(), new CausalSelfAttention(heads)),
                    new Residual(true, new LayerNorm(), mlp[0], mlp[1], mlp[2])));
        } else {
            chain = new ModuleChain(List.of(
                    new Residual(true, new CausalSelfAttention(heads)), new LayerNorm(),
                    new Residual(true, mlp), new LayerNorm()));
        }
        return chain.configure(layerIndex, inputShape, 1);
    }

    @Override
    public String spec() {
        return "transformer " + heads + " " + mlpRatio + " " + activation.name().toLowerCase(Locale.ROOT) + " "
                + (preNorm ? "pre" : "post");
    }

    @Override
    public String kind() {
        return "transformer";
    }
}
