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
