package dev.descent.engine.nn;

import java.util.List;

/**
 * Applies a row-wise module to each position of a {@code [T, C]} sample independently: the inner module sees
 * samples of shape {@code [C]} and a batch of {@code batch * T} rows. {@code new PerToken(new Linear(512))}
 * is a position-wise dense layer {@code [T, C] -> [T, 512]}. Only for modules whose forward treats rows
 * independently (Linear, activations, LayerNorm) — not BatchNorm or Dropout keyed by sample.
 */
public final class PerToken extends ChainedModule {
    private final Module inner;
    int t;

    public PerToken(Module inner) {
        this.inner = inner;
        this.chain = new ModuleChain(List.of(inner));
    }

    @Override
    public List<Module> children() {
        return List.of(inner);
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        if (inputShape.length != 2) {
            throw new IllegalArgumentException("pertoken needs [T, C] samples, got rank " + inputShape.length);
        }
        this.layerIndex = layerIndex;
        t = inputShape[0];
        int[] o = chain.configure(layerIndex, new int[]{inputShape[1]}, t);
        return new int[]{t, Module.size(o)};
    }

    @Override
    public String spec() {
        return "pertoken " + chain.spec();
    }

    @Override
    public String kind() {
        return "pertoken";
    }
}
