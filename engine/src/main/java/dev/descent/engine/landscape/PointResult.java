package dev.descent.engine.landscape;

/**
 * The loss and accuracy at one point {@code base + a·d1 + b·d2}, on the train subset and (NaN when none) the test
 * subset.
 */
public record PointResult(int index, double a, double b, double trainLoss, double trainAccuracy, double testLoss,
                          double testAccuracy) {
}
