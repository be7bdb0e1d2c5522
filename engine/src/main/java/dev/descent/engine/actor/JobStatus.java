package dev.descent.engine.actor;

/**
 * Live progress of one job, written by its supervisor (one writer) and read from any thread. Plain volatile
 * fields, so updating it per step allocates nothing; a reader may see fields from two adjacent steps.
 */
public final class JobStatus {
    /** Lifecycle of a job. */
    public enum State { STARTING, RUNNING, SUCCEEDED, FAILED, CANCELLED }

    volatile State state = State.STARTING;
    volatile long step;
    volatile long totalSteps;
    volatile int epoch;
    volatile int epochs;
    volatile double lastLoss = Double.NaN;
    volatile double examplesPerSecond;
    volatile double testAccuracy = Double.NaN;
    volatile double testLoss = Double.NaN;
    volatile long retries;
    volatile long rejectedGradients;

    public State state() {
        return state;
    }

    /** Optimizer steps completed. */
    public long step() {
        return step;
    }

    public long totalSteps() {
        return totalSteps;
    }

    /** 0-based epoch in progress (or last finished). */
    public int epoch() {
        return epoch;
    }

    public int epochs() {
        return epochs;
    }

    /** Mean loss of the last step's batch. */
    public double lastLoss() {
        return lastLoss;
    }

    /** Training throughput of the current epoch so far. */
    public double examplesPerSecond() {
        return examplesPerSecond;
    }

    /** Test accuracy of the last evaluation (NaN before the first). */
    public double testAccuracy() {
        return testAccuracy;
    }

    public double testLoss() {
        return testLoss;
    }

    /** Worker restarts so far. */
    public long retries() {
        return retries;
    }

    /** Gradients the parameter server rejected as too stale (async mode). */
    public long rejectedGradients() {
        return rejectedGradients;
    }
}
