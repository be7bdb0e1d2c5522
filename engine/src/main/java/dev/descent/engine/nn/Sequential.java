package dev.descent.engine.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Assembles modules in order into a {@link Model}:
 * {@code Sequential.input(1, 28, 28).add(new Flatten()).add(new Linear(10)).build()}.
 */
public final class Sequential {
    private final int[] inputShape;
    private final List<Module> modules = new ArrayList<>();

    private Sequential(int[] inputShape) {
        for (int d : inputShape) {
            if (d <= 0) {
                throw new IllegalArgumentException("input dimensions must be >= 1, was " + Arrays.toString(inputShape));
            }
        }
        this.inputShape = inputShape.clone();
    }

    /** Starts a model whose samples have this shape. */
    public static Sequential input(int... shape) {
        return new Sequential(shape);
    }

    public Sequential add(Module module) {
        modules.add(module);
        return this;
    }

    /** Configures every module, lays out and allocates the parameter and gradient slabs (all zero). */
    public Model build() {
        return new Model(inputShape, modules);
    }
}
