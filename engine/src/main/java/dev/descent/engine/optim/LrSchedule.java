package dev.descent.engine.optim;

/**
 * Learning rate as a function of the 0-based optimizer step. Small immutable objects; compose them with
 * {@link #then}. Schedules that need the run length (cosine) may leave it open ({@code totalSteps <= 0}) and
 * the trainer fills it in through {@link #resolve(long)}.
 */
public interface LrSchedule {

    double lr(long step);

    /** This schedule with an open run length set to {@code totalSteps}. Default: unchanged. */
    default LrSchedule resolve(long totalSteps) {
        return this;
    }

    /** This schedule for {@code steps} steps, then {@code next} (whose step count restarts at 0). */
    default LrSchedule then(long steps, LrSchedule next) {
        return new Sequence(this, steps, next);
    }

    static LrSchedule constant(double lr) {
        return new Constant(lr);
    }

    /** lr · gamma^floor(step / everySteps). */
    static LrSchedule step(double lr, double gamma, long everySteps) {
        return new StepDecay(lr, gamma, everySteps);
    }

    /** Cosine from lr to minLr over totalSteps ({@literal <=} 0: the whole run, resolved by the trainer). */
    static LrSchedule cosine(double lr, double minLr, long totalSteps) {
        return new Cosine(lr, minLr, totalSteps);
    }

    /** lr · gamma^step. */
    static LrSchedule exponential(double lr, double gamma) {
        return new Exponential(lr, gamma);
    }

    /** Linear ramp from lr/warmupSteps to the target over warmupSteps steps, then {@code after}. */
    static LrSchedule warmup(long warmupSteps, LrSchedule after) {
        return new Warmup(warmupSteps, after);
    }

    /** Linear warmup then cosine decay to minLr over the rest of the run (resolved by the trainer). */
    static LrSchedule warmupCosine(long warmupSteps, double lr, double minLr) {
        return new Warmup(warmupSteps, new Cosine(lr, minLr, 0));
    }

    private static void check(String what, double v) {
        if (!(v >= 0.0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("schedule " + what + " must be finite and >= 0, was " + v);
        }
    }

    record Constant(double lr) implements LrSchedule {
        public Constant {
            check("lr", lr);
        }

        @Override
        public double lr(long step) {
            return lr;
        }
    }

    record StepDecay(double lr, double gamma, long everySteps) implements LrSchedule {
        public StepDecay {
            check("lr", lr);
            check("gamma", gamma);
            if (everySteps < 1) {
                throw new IllegalArgumentException("step schedule period must be >= 1 step, was " + everySteps);
            }
        }

        @Override
        public double lr(long step) {
            return lr * Math.pow(gamma, (double) (step / everySteps));
        }
    }

    record Cosine(double lr, double minLr, long totalSteps) implements LrSchedule {
        public Cosine {
            check("lr", lr);
            check("min lr", minLr);
        }

        @Override
        public double lr(long step) {
            if (totalSteps <= 0) {
                throw new IllegalStateException("cosine schedule run length not set: call resolve(totalSteps)");
            }
            double progress = Math.min(1.0, (double) step / totalSteps);
            return minLr + 0.5 * (lr - minLr) * (1.0 + Math.cos(Math.PI * progress));
        }

        @Override
        public LrSchedule resolve(long steps) {
            return totalSteps > 0 ? this : new Cosine(lr, minLr, steps);
        }
    }

    record Exponential(double lr, double gamma) implements LrSchedule {
        public Exponential {
            check("lr", lr);
            check("gamma", gamma);
        }

        @Override
        public double lr(long step) {
            return lr * Math.pow(gamma, (double) step);
        }
    }

    record Warmup(long warmupSteps, LrSchedule after) implements LrSchedule {
        public Warmup {
            if (warmupSteps < 0) {
                throw new IllegalArgumentException("warmup steps must be >= 0, was " + warmupSteps);
            }
        }

        @Override
        public double lr(long step) {
            if (step < warmupSteps) {
                return after.lr(0) * (step + 1) / warmupSteps;
            }
            return after.lr(step - warmupSteps);
        }

        @Override
        public LrSchedule resolve(long totalSteps) {
            return new Warmup(warmupSteps, after.resolve(Math.max(1, totalSteps - warmupSteps)));
        }
    }

    record Sequence(LrSchedule first, long switchAt, LrSchedule second) implements LrSchedule {
        @Override
        public double lr(long step) {
            return step < switchAt ? first.lr(step) : second.lr(step - switchAt);
        }

        @Override
        public LrSchedule resolve(long totalSteps) {
            return new Sequence(first.resolve(switchAt), switchAt, second.resolve(Math.max(1, totalSteps - switchAt)));
        }
    }
}
