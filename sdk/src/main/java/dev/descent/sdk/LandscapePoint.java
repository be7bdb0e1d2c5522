package dev.descent.sdk;

/**
 * Loss and accuracy at one landscape point {@code w = base + a·d1 + b·d2} (a line or interpolation has
 * {@code b = 0}), on the plan's train subset and its test subset (NaN without one).
 *
 * @param index point {@code k} of the grid, {@code a = xs[k % nx]}, {@code b = ys[k / nx]}
 */
public record LandscapePoint(int index, double a, double b, double trainLoss, double trainAccuracy, double testLoss,
                             double testAccuracy) {
}
