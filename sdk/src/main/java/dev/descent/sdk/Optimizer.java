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

    /**
     * Sharpness-Aware Minimization (Foret et al. 2020) around {@code base}: each step takes the gradient at
     * w + rho·g/‖g‖ (g the batch gradient at w) and lets {@code base} update w with it. Two forward/backward
     * passes per step; works with every backprop strategy, with workers (each perturbs with its own shard's
     * gradient: m-sharpness) and with checkpoints (the moments are the base rule's). Foret et al. use rho = 0.05.
     *
     * @throws IllegalArgumentException when rho is not finite and &gt; 0, or {@code base} is itself SAM
     */
    public static Optimizer sam(Optimizer base, double rho) {
        return sam(base, rho, false);
    }

    /**
     * SAM around {@code base}; {@code adaptive}: ASAM (Kwon et al. 2021), whose neighbourhood is scaled
     * elementwise by |w| + 0.01 on weight tensors, so rho is relative (the paper uses 0.5 to 2).
     */
    public static Optimizer sam(Optimizer base, double rho, boolean adaptive) {
        dev.descent.engine.optim.Optimizer b = base.engine;
        return new Optimizer(adaptive ? Optimizers.asam(b, rho) : Optimizers.sam(b, rho));
    }

    /** Adaptive SAM (ASAM, Kwon et al. 2021) around {@code base}; same as {@code sam(base, rho, true)}. */
    public static Optimizer asam(Optimizer base, double rho) {
        return sam(base, rho, true);
    }

    /** True for SAM/ASAM. */
    public boolean isSam() {
        return engine instanceof dev.descent.engine.optim.Sam;
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
