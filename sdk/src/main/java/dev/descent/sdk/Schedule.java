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

    /** Linear warmup from lr/warmupSteps to lr over {@code warmupSteps}, then constant at lr. */
    public static Schedule warmup(long warmupSteps, double lr) {
        return new Schedule(LrSchedule.warmup(warmupSteps, LrSchedule.constant(lr)));
    }

    LrSchedule engine() {
        return engine;
    }

    @Override
    public String toString() {
        return engine.toString();
    }
}
