package dev.descent.sdk.plot;

/**
 * A loss surface seen from above: values {@code z[ny][nx]} on the grid {@code xs × ys}, drawn as a heatmap with
 * contour lines and a colour bar; optionally a path (e.g. an optimizer's trajectory, {@code [n][2]}) on top.
 * {@code logScale} maps colours and contour levels on log10(z) (losses span decades).
 */
public record HeatmapPanel(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[][] z,
                           String zLabel, boolean logScale, int levels, double[][] path, String pathLabel) {
    public HeatmapPanel {
        if (z.length != ys.length || z.length == 0 || z[0].length != xs.length) {
            throw new IllegalArgumentException("heatmap '" + title + "': z must be [" + ys.length + "][" + xs.length
                    + "]");
        }
        xs = xs.clone();
        ys = ys.clone();
        double[][] c = new double[z.length][];
        for (int j = 0; j < z.length; j++) {
            c[j] = z[j].clone();
        }
        z = c;
    }

    /** A heatmap with 12 contour levels and no path. */
    public static HeatmapPanel of(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[][] z,
                                  String zLabel, boolean logScale) {
        return new HeatmapPanel(title, xLabel, yLabel, xs, ys, z, zLabel, logScale, 12, null, null);
    }

    /** The same panel with a path drawn on it. */
    public HeatmapPanel withPath(double[][] points, String label) {
        return new HeatmapPanel(title, xLabel, yLabel, xs, ys, z, zLabel, logScale, levels, points, label);
    }
}
