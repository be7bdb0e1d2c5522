package dev.descent.engine.train;

/**
 * One finished epoch. Train loss/accuracy are means over the epoch's batches as they were trained (weighted by
 * rows); test values come from an eval-mode pass after the epoch (NaN without a test set).
 *
 * @param epoch             0-based epoch
 * @param steps             optimizer steps completed so far
 * @param learningRate      learning rate of the epoch's last step
 * @param seconds           training seconds of the epoch (evaluation excluded)
 * @param examplesPerSecond training throughput of the epoch
 */
public record EpochReport(int epoch, long steps, double trainLoss, double trainAccuracy, double testLoss,
                          double testAccuracy, double learningRate, double seconds, double examplesPerSecond) {
}
