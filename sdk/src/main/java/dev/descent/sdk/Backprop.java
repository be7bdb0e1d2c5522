package dev.descent.sdk;

import dev.descent.engine.backprop.BackpropStrategy;

/**
 * How much of the forward pass backprop keeps: {@link #VANILLA} (all), {@link #RECOMPUTE} (memory-poor),
 * {@link #checkpointed(int)} (every k-th activation). Gradients are bitwise identical under all three.
 */
public final class Backprop {
    public static final Backprop VANILLA = new Backprop(BackpropStrategy.VANILLA);
    public static final Backprop RECOMPUTE = new Backprop(BackpropStrategy.RECOMPUTE);

    private final BackpropStrategy engine;

    private Backprop(BackpropStrategy engine) {
        this.engine = engine;
    }

    /** Keep every {@code every}-th activation ({@code <= 0}: ceil(sqrt(layers))). */
    public static Backprop checkpointed(int every) {
        return new Backprop(BackpropStrategy.checkpointed(every));
    }

    /** {@code vanilla}, {@code recompute}, {@code checkpointed} or {@code checkpointed:K}. */
    public static Backprop parse(String text) {
        return new Backprop(BackpropStrategy.parse(text));
    }

    public String name() {
        return engine.name();
    }

    BackpropStrategy engine() {
        return engine;
    }

    /** The command line's spelling, which {@link #parse} reads back: {@code vanilla}, {@code checkpointed:4}. */
    @Override
    public String toString() {
        return engine.spelling();
    }
}
