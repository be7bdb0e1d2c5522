package dev.descent.sdk;

/**
 * One finished epoch: train values are means over the epoch's batches as trained; test values come from an
 * eval-mode pass after the epoch (NaN without a test set).
 */
public record EpochSummary(int epoch, long steps, double trainLoss, double trainAccuracy, double testLoss,
                           double testAccuracy, double learningRate, double seconds, double examplesPerSecond) {
}
