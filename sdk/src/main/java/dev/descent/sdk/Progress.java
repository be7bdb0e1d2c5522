package dev.descent.sdk;

/**
 * A snapshot of a running job (cheap; take one whenever you like).
 *
 * @param step              optimizer steps completed
 * @param totalSteps        steps of the whole plan
 * @param epoch             0-based epoch in progress
 * @param lastLoss          mean loss of the last step's batch
 * @param examplesPerSecond training throughput of the current epoch
 * @param testLoss          last test evaluation (NaN before the first)
 * @param retries           worker restarts so far
 */
public record Progress(JobState state, long step, long totalSteps, int epoch, int epochs, double lastLoss,
                       double examplesPerSecond, double testLoss, double testAccuracy, long retries) {
    /** Fraction of the plan done, 0..1. */
    public double fraction() {
        return totalSteps == 0 ? 0 : (double) step / totalSteps;
    }
}
