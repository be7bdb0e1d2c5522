package dev.descent.sdk;

import dev.descent.engine.optim.LrSchedule;

/**
 * Learning rate as a function of the optimizer step: {@code Schedule.cosine(0.02, 0)} (over the whole run),
 * {@code Schedule.warmupCosine(500, 0.1, 0)}, {@code Schedule.step(0.1, 0.5, 1000)} ...
 */
public final class Schedule {
    private final LrSchedule engine;

    private Schedule(LrSchedule engine) {
        this.engine = engine;
    }

    public static Schedule constant(double lr) {
        return new Schedule(LrSchedule.constant(lr));
    }

    /** lr · gamma^floor(step / everySteps). */
    public static Schedule step(double lr, double gamma, long everySteps) {
        return new Schedule(LrSchedule.step(lr, gamma, everySteps));
    }

    /** Cosine from lr to minLr over the whole run. */
    public static Schedule cosine(double lr, double minLr) {
        return new Schedule(LrSchedule.cosine(lr, minLr, 0));
    }

    /** lr · gamma^step. */
    public static Schedule exponential(double lr, double gamma) {
        return new Schedule(LrSchedule.exponential(lr, gamma));
    }

    /**
     * The per-step exponential schedule lr_t = lr·α^(−2t−1) (t = 0, 1, ... the optimizer step) that makes SGD
     * <em>without</em> weight decay follow SGD with weight decay {@code weightDecay} at the constant rate {@code lr}
     * on a scale-invariant network (Li &amp; Arora 2019, "An exponential learning rate schedule for deep learning"):
     * the weights of the second run are those of the first divided by α^t, so the network function is the same at
     * every step. α = {@link #weightDecayShrinkFactor}; without momentum α = 1 − lr·weightDecay. With momentum μ
     * (PyTorch's convention, the same μ in both runs) the equivalence holds from the second step on: the first
     * step of the run with weight decay also shrinks the weights by 1 − lr·wd, not by α.
     */
    public static Schedule exponentialForWeightDecay(double lr, double weightDecay, double momentum) {
        double alpha = weightDecayShrinkFactor(lr, weightDecay, momentum);
        return exponential(lr / alpha, 1 / (alpha * alpha));
    }

    /**
     * α, the factor by which weight decay shrinks the weights per step in Li &amp; Arora's equivalence: the larger
     * root of x² − (1 + μ − lr·wd)·x + μ = 0 (1 − lr·wd without momentum). Throws when lr·wd is too large for
     * a real root in (0, 1].
     */
    public static double weightDecayShrinkFactor(double lr, double weightDecay, double momentum) {
        if (!(lr > 0) || !(weightDecay >= 0) || !(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("need lr > 0, weight decay >= 0 and momentum in [0, 1), was lr=" + lr
                    + " weightDecay=" + weightDecay + " momentum=" + momentum);
        }
        double b = 1 + momentum - lr * weightDecay;
        double disc = b * b - 4 * momentum;
        if (disc < 0 || b <= 0) {
            throw new IllegalArgumentException("lr·weightDecay = " + lr * weightDecay + " is too large for momentum "
                    + momentum + ": x² − " + b + "x + " + momentum + " has no real root in (0, 1]");
        }
        return (b + Math.sqrt(disc)) / 2;
    }

    /** Linear warmup over {@code warmupSteps}, then cosine to minLr over the rest of the run. */
    public static Schedule warmupCosine(long warmupSteps, double lr, double minLr) {
        return new Schedule(LrSchedule.warmupCosine(warmupSteps, lr, minLr));
    }

    /**
     * This schedule after a gradual linear warm-up (Goyal et al. 2017): over the first {@code steps} steps the
     * rate ramps linearly up to this schedule's first rate (step k: lr(0)·(k+1)/steps), then this schedule runs
     * from its own step 0 (a run-length schedule such as cosine spans the rest of the run). Composes with any
     * schedule: {@code Schedule.constant(0.8).withWarmup(500)}, {@code Schedule.step(0.1, 0.1, 3000).withWarmup(200)}.
     * 0 steps: this schedule unchanged.
     */
    public Schedule withWarmup(long steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("warm-up steps must be >= 0, was " + steps);
        }
        return steps == 0 ? this : new Schedule(LrSchedule.warmup(steps, engine));
    }

    LrSchedule engine() {
        return engine;
    }

    @Override
    public String toString() {
        return engine.toString();
    }
}
