package dev.descent.sdk.plot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class LandscapePlotsTest {
    /** Written under target/ so a person can look at them after the build. */
    private static final Path OUT = Path.of("target", "plot-tests");

    private static double[] grid(int n) {
        double[] g = new double[n];
        for (int i = 0; i < n; i++) {
            g[i] = -1 + 2.0 * i / (n - 1);
        }
        return g;
    }

    /** A bowl with a ripple: z = 0.05 + x² + 2y² + 0.1 sin(6x). */
    private static double[][] bowl(double[] xs, double[] ys) {
        double[][] z = new double[ys.length][xs.length];
        for (int j = 0; j < ys.length; j++) {
            for (int i = 0; i < xs.length; i++) {
                z[j][i] = 0.05 + xs[i] * xs[i] + 2 * ys[j] * ys[j] + 0.1 * Math.sin(6 * xs[i]) + 0.1;
            }
        }
        return z;
    }

    @Test
    void shouldTraceCircularContoursOfAParaboloid() {
        double[] g = grid(41);
        double[][] z = new double[41][41];
        for (int j = 0; j < 41; j++) {
            for (int i = 0; i < 41; i++) {
                z[j][i] = g[i] * g[i] + g[j] * g[j];
            }
        }
        List<double[]> segs = Contours.segments(g, g, z, 0.25);
        assertThat(segs).hasSizeGreaterThan(40);
        double length = 0;
        for (double[] s : segs) {
            for (int e = 0; e < 2; e++) {
                assertThat(Math.hypot(s[2 * e], s[2 * e + 1])).isCloseTo(0.5, within(0.01));
            }
            length += Math.hypot(s[2] - s[0], s[3] - s[1]);
        }
        assertThat(length).as("circumference of r = 0.5").isCloseTo(Math.PI, within(0.02));
        assertThat(Contours.segments(g, g, z, 5.0)).as("level above every value").isEmpty();
    }

    @Test
    void shouldDrawAHeatmapWithContoursAndAPath() throws Exception {
        double[] g = grid(25);
        double[][] z = bowl(g, g);
        double[][] path = {{0.9, 0.8}, {0.6, 0.5}, {0.35, 0.2}, {0.1, 0.05}, {0.0, 0.0}};
        Path png = Heatmaps.write(OUT.resolve("heatmap.png"), "Bowl", List.of(
                HeatmapPanel.of("linear", "α", "β", g, g, z, "loss", false).withPath(path, "trajectory"),
                HeatmapPanel.of("log", "α", "β", g, g, z, "loss", true)));
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(1240);
        // the minimum (centre) is dark purple, the corners yellow-green: viridis ends
        Color centre = sampleNear(img, 0.30, 0.55);
        assertThat(centre.getBlue()).isGreaterThan(centre.getGreen());
        assertThat(countColour(img, new Color(0xD55E00), 30)).as("path pixels").isGreaterThan(50);
    }

    @Test
    void shouldColourAllPanelsOnOneScaleWhenShared() throws Exception {
        double[] g = grid(21);
        double[][] low = bowl(g, g);
        double[][] high = new double[g.length][g.length];
        for (int j = 0; j < g.length; j++) {
            for (int i = 0; i < g.length; i++) {
                high[j][i] = 100 * low[j][i];
            }
        }
        List<HeatmapPanel> panels = List.of(HeatmapPanel.of("low", "α", "β", g, g, low, "loss", true),
                HeatmapPanel.of("high", "α", "β", g, g, high, "loss", true));
        BufferedImage own = ImageIO.read(Heatmaps.write(OUT.resolve("heatmap-own.png"), "own", panels).toFile());
        BufferedImage shared = ImageIO.read(Heatmaps.writeShared(OUT.resolve("heatmap-shared.png"), "shared", panels,
                2).toFile());
        // each on its own scale, both minima get the darkest colour; on one scale the 100x higher bowl is lighter
        // each on its own scale, both minima get viridis' darkest colour; on one scale only the lower bowl has it
        Color darkest = ColorMaps.viridis(0.0);
        assertThat(countColour(own, darkest, 12, 0, 620)).isGreaterThan(200);
        assertThat(countColour(own, darkest, 12, 620, 1240)).isGreaterThan(200);
        assertThat(countColour(shared, darkest, 12, 0, 620)).isGreaterThan(200);
        assertThat(countColour(shared, darkest, 12, 620, 1240)).as("no cell of the higher bowl").isLessThan(20);
        assertThat(Heatmaps.sharedRange(List.of(low, high), true)[1]).isCloseTo(100 * Heatmaps.range(low, true)[1],
                within(1e-9));
        assertThat(SurfaceRenderer.writeShared(OUT.resolve("surface-shared.png"), "shared",
                List.of(SurfacePanel.of("low", "α", "β", g, g, low, "loss", true),
                        SurfacePanel.of("high", "α", "β", g, g, high, "loss", true)), 2)).isRegularFile();
    }

    /** Pixels within {@code tol} of {@code c} in columns [x0, x1), left of each panel's colour bar. */
    private static int countColour(BufferedImage img, Color c, int tol, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = x0; x < x1 - 100; x++) {
                Color p = new Color(img.getRGB(x, y));
                if (Math.abs(p.getRed() - c.getRed()) < tol && Math.abs(p.getGreen() - c.getGreen()) < tol
                        && Math.abs(p.getBlue() - c.getBlue()) < tol) {
                    n++;
                }
            }
        }
        return n;
    }

    @Test
    void shouldRenderAShadedSurfaceInPerspective() throws Exception {
        double[] g = grid(31);
        double[][] z = bowl(g, g);
        Path png = SurfaceRenderer.write(OUT.resolve("surface.png"), "Bowl in 3-D", List.of(
                SurfacePanel.of("linear height", "α", "β", g, g, z, "loss", false),
                SurfacePanel.of("log height", "α", "β", g, g, z, "loss", true)));
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(1240);
        int coloured = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < 620; x++) {
                Color c = new Color(img.getRGB(x, y));
                if (Math.abs(c.getRed() - c.getGreen()) > 25 || Math.abs(c.getGreen() - c.getBlue()) > 25) {
                    coloured++;
                }
            }
        }
        assertThat(coloured).as("the surface covers a good part of the panel").isGreaterThan(620 * 576 / 10);
        assertThat(Files.size(png)).isGreaterThan(10_000);
    }

    private static Color sampleNear(BufferedImage img, double fx, double fy) {
        return new Color(img.getRGB((int) (fx * img.getWidth() / 2 * 1.0 / 0.5 * 0.5), (int) (fy * img.getHeight())));
    }

    private static int countColour(BufferedImage img, Color c, int tol) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                Color p = new Color(img.getRGB(x, y));
                if (Math.abs(p.getRed() - c.getRed()) < tol && Math.abs(p.getGreen() - c.getGreen()) < tol
                        && Math.abs(p.getBlue() - c.getBlue()) < tol) {
                    n++;
                }
            }
        }
        return n;
    }
}
