package dev.descent.samples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Says once, early, how long a long run will take: after the first few seconds of steps it prints
 * {@code estimate: about 9 min 40 s for 4690 steps (at 0.12 s/step so far; the first steps are the slowest)} when the
 * whole run looks like more than a minute, so that nobody waits for a 10-epoch CNN without knowing it.
 */
public final class RunEstimate {
    /** Wall time of steps before the estimate is made. */
    static final double AFTER_SECONDS = 3.0;
    /** Runs estimated shorter than this are not announced. */
    static final double ANNOUNCE_ABOVE_SECONDS = 60.0;

    private final PrintStream out;
    private long startNanos = -1;
    private boolean done;

    public RunEstimate(PrintStream out) {
        this.out = out;
    }

    /** After each step: {@code stepsDone} of {@code totalSteps} steps of this process are done. */
    public void onStep(long stepsDone, long totalSteps) {
        onStep(stepsDone, totalSteps, System.nanoTime());
    }

    void onStep(long stepsDone, long totalSteps, long nowNanos) {
        if (done) {
            return;
        }
        if (startNanos < 0) {
            startNanos = nowNanos;
            return; // the clock starts at the first step: start-up is not a step
        }
        double elapsed = (nowNanos - startNanos) / 1e9;
        long timed = stepsDone - 1;
        if (elapsed < AFTER_SECONDS || timed < 1) {
            return;
        }
        done = true;
        double perStep = elapsed / timed;
        double total = perStep * (totalSteps - 1);
        if (total >= ANNOUNCE_ABOVE_SECONDS) {
            out.printf(Locale.ROOT, "estimate: about %s for %d steps (at %.3g s/step so far; the first steps are the "
                    + "slowest while the JIT compiles)%n", duration(total), totalSteps, perStep);
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d h %02d min", s / 3600, (s % 3600) / 60);
        }
        return s >= 60 ? String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60) : s + " s";
    }
}
