package dev.descent.sdk.plot;

/**
 * A loss surface in 3-D: heights {@code z[ny][nx]} over the grid {@code xs × ys}. {@code logScale} draws log10(z)
 * (a sharp minimum next to huge walls stays visible). {@code azimuthDeg}/{@code elevationDeg} place the camera.
 */
public record SurfacePanel(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[][] z,
                           String zLabel, boolean logScale, double azimuthDeg, double elevationDeg) {
    public SurfacePanel {
        if (z.length != ys.length || z.length < 2 || z[0].length != xs.length || xs.length < 2) {
            throw new IllegalArgumentException("surface '" + title + "': z must be [" + ys.length + "][" + xs.length
                    + "], at least 2 x 2");
        }
        xs = xs.clone();
        ys = ys.clone();
        double[][] c = new double[z.length][];
        for (int j = 0; j < z.length; j++) {
            c[j] = z[j].clone();
        }
        z = c;
    }

    /** Camera at azimuth -55°, elevation 32°. */
    public static SurfacePanel of(String title, String xLabel, String yLabel, double[] xs, double[] ys, double[][] z,
                                  String zLabel, boolean logScale) {
        return new SurfacePanel(title, xLabel, yLabel, xs, ys, z, zLabel, logScale, -55, 32);
    }
}
