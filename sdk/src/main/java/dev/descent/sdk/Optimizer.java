package dev.descent.sdk;

import dev.descent.engine.optim.Optimizers;

/**
 * An update rule (immutable): {@code Optimizer.momentum(0.01, 0.9)}, {@code Optimizer.adamW(1e-3, 0.01)}, or
 * {@code Optimizer.parse("nesterov", lr, momentum, weightDecay)}.
 */
public final class Optimizer {
    private final dev.descent.engine.optim.Optimizer engine;

    private Optimizer(dev.descent.engine.optim.Optimizer engine) {
        this.engine = engine;
    }

    public static Optimizer sgd(double lr) {
        return new Optimizer(Optimizers.sgd(lr));
    }

    public static Optimizer momentum(double lr, double momentum) {
        return new Optimizer(Optimizers.momentum(lr, momentum));
    }

    public static Optimizer nesterov(double lr, double momentum) {
        return new Optimizer(Optimizers.nesterov(lr, momentum));
    }

    /** Adam with betas 0.9/0.999, eps 1e-8. */
    public static Optimizer adam(double lr) {
        return new Optimizer(Optimizers.adam(lr));
    }

    /** AdamW with decoupled weight decay {@code wd}. */
    public static Optimizer adamW(double lr, double wd) {
        return new Optimizer(Optimizers.adamW(lr, wd));
    }

    /**
     * AdamW with its betas and eps given: decoupled weight decay {@code wd} (applied to every parameter), e.g.
     * {@code adamW(1e-3, 0.9, 0.98, 1e-8, 1.0)} as in the grokking paper.
     */
    public static Optimizer adamW(double lr, double beta1, double beta2, double eps, double wd) {
        return new Optimizer(new dev.descent.engine.optim.Adam(lr, beta1, beta2, eps, wd, true));
    }

    /** {@code sgd}, {@code momentum}, {@code nesterov}, {@code adam}, {@code adamw}. */
    public static Optimizer parse(String name, double lr, double momentum, double weightDecay) {
        return new Optimizer(Optimizers.parse(name, lr, momentum, weightDecay));
    }

    /** Base learning rate. */
    public double learningRate() {
        return engine.learningRate();
    }

    dev.descent.engine.optim.Optimizer engine() {
        return engine;
    }

    @Override
    public String toString() {
        return engine.describe();
    }
}
