package dev.descent.engine.optim;

import java.util.Locale;

/** Factories for the optimizers (PyTorch defaults where it has them). */
public final class Optimizers {
    private Optimizers() {
    }

    public static Optimizer sgd(double lr) {
        return new Sgd(lr, 0.0, false, 0.0, false);
    }

    public static Optimizer momentum(double lr, double momentum) {
        return new Sgd(lr, momentum, false, 0.0, false);
    }

    public static Optimizer nesterov(double lr, double momentum) {
        return new Sgd(lr, momentum, true, 0.0, false);
    }

    /** Adam with betas 0.9/0.999, eps 1e-8. */
    public static Optimizer adam(double lr) {
        return new Adam(lr, 0.9, 0.999, 1e-8, 0.0, false);
    }

    public static Optimizer adam(double lr, double beta1, double beta2, double eps) {
        return new Adam(lr, beta1, beta2, eps, 0.0, false);
    }

    /** AdamW: decoupled weight decay {@code wd} (PyTorch default 0.01). */
    public static Optimizer adamW(double lr, double wd) {
        return new Adam(lr, 0.9, 0.999, 1e-8, wd, true);
    }

    /**
     * Parses a CLI name with the learning rate and momentum given separately: {@code sgd}, {@code momentum},
     * {@code nesterov}, {@code adam}, {@code adamw}.
     */
    public static Optimizer parse(String name, double lr, double momentum, double weightDecay) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "sgd" -> new Sgd(lr, 0.0, false, weightDecay, false);
            case "momentum" -> new Sgd(lr, momentum, false, weightDecay, false);
            case "nesterov" -> new Sgd(lr, momentum, true, weightDecay, false);
            case "adam" -> new Adam(lr, 0.9, 0.999, 1e-8, weightDecay, false);
            case "adamw" -> new Adam(lr, 0.9, 0.999, 1e-8, weightDecay, true);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name
                    + "'; expected sgd, momentum, nesterov, adam or adamw");
        };
    }

    /** SAM (Foret et al. 2020) around {@code base} with radius {@code rho}. */
    public static Optimizer sam(Optimizer base, double rho) {
        return new Sam(base, rho, false, Sam.ETA_DEFAULT);
    }

    /** Adaptive SAM (ASAM, Kwon et al. 2021) around {@code base} with radius {@code rho} and η = 0.01. */
    public static Optimizer asam(Optimizer base, double rho) {
        return new Sam(base, rho, true, Sam.ETA_DEFAULT);
    }

    static void check(String what, double v) {
        if (!(v >= 0.0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(what + " must be finite and >= 0, was " + v);
        }
    }
}
