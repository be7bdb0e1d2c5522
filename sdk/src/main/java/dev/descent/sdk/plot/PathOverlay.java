package dev.descent.sdk.plot;

import java.awt.Color;

/**
 * A path drawn over a heatmap ({@link Heatmaps#write(java.nio.file.Path, String, java.util.List, java.util.List)})
 * or a 3-D surface ({@link SurfaceRenderer#write(java.nio.file.Path, String, java.util.List, java.util.List)}):
 * {@code points[n]} are (x, y) in the panel's coordinates, plus the height z as a third value for a surface.
 * The start is marked with an open circle, the end with a filled one.
 */
public record PathOverlay(String label, double[][] points, Color color) {
    public PathOverlay {
        if (points.length == 0) {
            throw new IllegalArgumentException("path '" + label + "' has no points");
        }
        for (double[] p : points) {
            if (p.length < 2) {
                throw new IllegalArgumentException("path '" + label + "': points need (x, y[, z])");
            }
        }
    }
}
