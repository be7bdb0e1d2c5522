package dev.descent.engine.nn;

import dev.descent.engine.init.Init;
import dev.descent.engine.init.Initializer;
import dev.descent.engine.kernel.Activation;

/**
 * Fluent builder of a multilayer perceptron:
 * {@code Mlp.builder().input(784).hidden(256, 128).activation(RELU).output(10).dropout(0.0)
 * .init(Init.KAIMING_NORMAL).seed(1).build()}.
 * Each hidden layer is Linear, then BatchNorm when {@link #batchNorm} is on, then the activation, then Dropout
 * when p > 0; the output layer is a Linear (the loss applies softmax). Weights use {@link #init}, biases {@link #biasInit} (zeros by default).
 */
public final class Mlp {
    private int[] inputShape;
    private int[] hidden = {};
    private int outputs = -1;
    private Activation activation = Activation.RELU;
    private double dropout;
    private boolean batchNorm;
    private Initializer init = Init.KAIMING_NORMAL;
    private Initializer biasInit = Init.ZEROS;
    private long seed = 1;

    private Mlp() {
    }

    public static Mlp builder() {
        return new Mlp();
    }

    /** Per-sample input shape; more than one dimension inserts a Flatten first. */
    public Mlp input(int... shape) {
        this.inputShape = shape.clone();
        return this;
    }

    public Mlp hidden(int... widths) {
        this.hidden = widths.clone();
        return this;
    }

    public Mlp activation(Activation activation) {
        this.activation = activation;
        return this;
    }

    public Mlp output(int classes) {
        this.outputs = classes;
        return this;
    }

    public Mlp dropout(double p) {
        this.dropout = p;
        return this;
    }

    /** BatchNorm between every hidden Linear and its activation (off by default). */
    public Mlp batchNorm(boolean on) {
        this.batchNorm = on;
        return this;
    }

    public Mlp init(Initializer weights) {
        this.init = weights;
        return this;
    }

    public Mlp biasInit(Initializer biases) {
        this.biasInit = biases;
        return this;
    }

    public Mlp seed(long seed) {
        this.seed = seed;
        return this;
    }

    /** Builds, allocates and initializes the model. */
    public Model build() {
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("MLP: input(...) is required");
        }
        if (outputs <= 0) {
            throw new IllegalArgumentException("MLP: output(classes) must be >= 1, was " + outputs);
        }
        for (int w : hidden) {
            if (w <= 0) {
                throw new IllegalArgumentException("MLP: hidden widths must be >= 1, was " + w);
            }
        }
        if (!(dropout >= 0.0 && dropout < 1.0)) {
            throw new IllegalArgumentException("MLP: dropout must be in [0, 1), was " + dropout);
        }
        Sequential s = Sequential.input(inputShape);
        if (inputShape.length > 1) {
            s.add(new Flatten());
        }
        for (int w : hidden) {
            s.add(new Linear(w));
            if (batchNorm) {
                s.add(new BatchNorm());
            }
            s.add(new ActivationLayer(activation));
            if (dropout > 0.0) {
                s.add(new Dropout(dropout));
            }
        }
        s.add(new Linear(outputs));
        Model m = s.build();
        return m.initialize(init, biasInit, seed);
    }
}
