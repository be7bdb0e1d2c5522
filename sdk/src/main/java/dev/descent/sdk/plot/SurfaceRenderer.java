package dev.descent.sdk.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.geom.Line2D;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.joml.Matrix4f;
import org.joml.Vector3f;
import org.joml.Vector4f;

/**
 * A small software renderer for loss surfaces, with JOML for the math: the grid becomes a mesh in a unit box,
 * a perspective camera ({@link Matrix4f#perspective} · {@link Matrix4f#lookAt}) projects it, quads are drawn back
 * to front (painter's algorithm) in viridis by height, shaded by a directional light (Lambert + ambient) from
 * per-quad normals, with faint mesh lines, a floor frame, axis labels and the height range.
 */
public final class SurfaceRenderer {
    private static final int PANEL_WIDTH = 620;
    private static final int PANEL_HEIGHT = 540;
    private static final float HEIGHT = 0.9f;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private SurfaceRenderer() {
    }

    /** Writes the panels side by side under {@code title}. */
    public static Path write(Path png, String title, List<SurfacePanel> panels) {
        return Canvas.write(png, title, panels.size(), Math.max(1, panels.size()), PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> render(g, panels.get(i), w, h));
    }

    /**
     * As {@link #write}, in {@code columns} columns, all panels on ONE height and colour scale (the range of all their
     * values together), so that equal heights mean equal values across panels.
     */
    public static Path writeShared(Path png, String title, List<SurfacePanel> panels, int columns) {
        double[] shared = Heatmaps.sharedRange(panels.stream().map(SurfacePanel::z).toList(),
                !panels.isEmpty() && panels.get(0).logScale());
        return Canvas.write(png, title, panels.size(), columns, PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> render(g, panels.get(i), w, h, List.of(), shared));
    }

    /**
     * As {@link #write(Path, String, List)}, with {@code paths.get(i)} drawn on panel i: points (x, y, z) in the
     * panel's coordinates, z on the panel's height scale (drawn over the surface, not hidden behind hills).
     */
    public static Path write(Path png, String title, List<SurfacePanel> panels, List<List<PathOverlay>> paths) {
        if (paths.size() != panels.size()) {
            throw new IllegalArgumentException(panels.size() + " panels but " + paths.size() + " path lists");
        }
        return Canvas.write(png, title, panels.size(), Math.max(1, panels.size()), PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> render(g, panels.get(i), w, h, paths.get(i)));
    }

    /** Renders one panel into a {@code width × height} area at the graphics' origin. */
    public static void render(Graphics2D g, SurfacePanel p, int width, int height) {
        render(g, p, width, height, List.of());
    }

    /** Renders one panel with paths (x, y, z) drawn over it. */
    public static void render(Graphics2D g, SurfacePanel p, int width, int height, List<PathOverlay> paths) {
        render(g, p, width, height, paths, null);
    }

    /** {@code fixedRange}: the height and colour scale's {min, max} (null: this panel's own range). */
    private static void render(Graphics2D g, SurfacePanel p, int width, int height, List<PathOverlay> paths,
                               double[] fixedRange) {
        double[] xs = p.xs();
        double[] ys = p.ys();
        double[][] z = p.z();
        int nx = xs.length;
        int ny = ys.length;
        boolean log = p.logScale();
        double[] r = fixedRange != null ? fixedRange : Heatmaps.range(z, log);
        double lo = log ? Math.log10(r[0]) : r[0];
        double hi = log ? Math.log10(r[1]) : r[1];

        // world coordinates: x, y in [-1, 1], height in [0, HEIGHT]
        Vector3f[][] v = new Vector3f[ny][nx];
        double[][] t = new double[ny][nx];
        for (int j = 0; j < ny; j++) {
            for (int i = 0; i < nx; i++) {
                double zz = z[j][i];
                double tz = log ? (zz > 0 ? Math.log10(zz) : lo) : zz;
                double f = Double.isFinite(tz) ? (tz - lo) / (hi - lo) : 1;
                f = Math.max(0, Math.min(1, f));
                t[j][i] = f;
                v[j][i] = new Vector3f((float) (2.0 * i / (nx - 1) - 1), (float) (2.0 * j / (ny - 1) - 1),
                        (float) (f * HEIGHT));
            }
        }
        int top = 34;
        int plotH = height - top - 10;
        float aspect = (float) width / plotH;
        double az = Math.toRadians(p.azimuthDeg());
        double el = Math.toRadians(p.elevationDeg());
        float dist = 5.8f;
        Vector3f eye = new Vector3f((float) (dist * Math.cos(el) * Math.cos(az)),
                (float) (dist * Math.cos(el) * Math.sin(az)), (float) (dist * Math.sin(el) + HEIGHT / 2));
        Vector3f centre = new Vector3f(0, 0, HEIGHT / 2 - 0.05f);
        Matrix4f view = new Matrix4f().lookAt(eye, centre, new Vector3f(0, 0, 1));
        Matrix4f proj = new Matrix4f().perspective((float) Math.toRadians(30), aspect, 0.1f, 100f);
        Matrix4f mvp = new Matrix4f(proj).mul(view);
        Projector pr = new Projector(mvp, width, plotH, top);

        // quads, sorted far to near by view-space depth of their centre
        int quads = (nx - 1) * (ny - 1);
        Integer[] order = new Integer[quads];
        float[] depth = new float[quads];
        Vector3f tmp = new Vector3f();
        for (int j = 0; j + 1 < ny; j++) {
            for (int i = 0; i + 1 < nx; i++) {
                int q = j * (nx - 1) + i;
                order[q] = q;
                tmp.set(v[j][i]).add(v[j][i + 1]).add(v[j + 1][i]).add(v[j + 1][i + 1]).mul(0.25f);
                depth[q] = tmp.distance(eye);
            }
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer q) -> depth[q]).reversed());

        drawFloor(g, pr, p);
        Vector3f light = new Vector3f(-0.4f, -0.6f, 1f).normalize();
        Vector3f a = new Vector3f();
        Vector3f b = new Vector3f();
        Vector3f n = new Vector3f();
        BasicStroke mesh = new BasicStroke(0.6f);
        int[] px = new int[4];
        int[] py = new int[4];
        for (int q : order) {
            int j = q / (nx - 1);
            int i = q % (nx - 1);
            Vector3f p00 = v[j][i];
            Vector3f p10 = v[j][i + 1];
            Vector3f p11 = v[j + 1][i + 1];
            Vector3f p01 = v[j + 1][i];
            p11.sub(p00, a);
            p01.sub(p10, b);
            a.cross(b, n).normalize();
            float lambert = Math.abs(n.dot(light));
            float shade = 0.45f + 0.55f * lambert;
            double h = (t[j][i] + t[j][i + 1] + t[j + 1][i] + t[j + 1][i + 1]) / 4;
            Color c = ColorMaps.viridis(h);
            Color lit = new Color(clamp(c.getRed() * shade), clamp(c.getGreen() * shade), clamp(c.getBlue() * shade));
            Vector3f[] corners = {p00, p10, p11, p01};
            for (int k = 0; k < 4; k++) {
                float[] s = pr.project(corners[k]);
                px[k] = Math.round(s[0]);
                py[k] = Math.round(s[1]);
            }
            Polygon poly = new Polygon(px, py, 4);
            g.setColor(lit);
            g.fillPolygon(poly);
            g.setStroke(mesh);
            g.setColor(new Color(0, 0, 0, 45));
            g.drawPolygon(poly);
        }
        drawPaths(g, pr, p, lo, hi, paths);
        drawLabels(g, pr, p, r, width);
    }

    private static void drawPaths(Graphics2D g, Projector pr, SurfacePanel p, double lo, double hi,
                                  List<PathOverlay> paths) {
        double[] xs = p.xs();
        double[] ys = p.ys();
        BasicStroke halo = new BasicStroke(3.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        BasicStroke line = new BasicStroke(1.6f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
        for (PathOverlay o : paths) {
            double[][] pts = o.points();
            float[][] s = new float[pts.length][];
            for (int k = 0; k < pts.length; k++) {
                double zz = pts[k].length > 2 ? pts[k][2] : lo;
                double tz = p.logScale() ? (zz > 0 ? Math.log10(zz) : lo) : zz;
                double f = Math.max(0, Math.min(1, (tz - lo) / (hi - lo)));
                s[k] = pr.project(new Vector3f((float) (2 * (pts[k][0] - xs[0]) / (xs[xs.length - 1] - xs[0]) - 1),
                        (float) (2 * (pts[k][1] - ys[0]) / (ys[ys.length - 1] - ys[0]) - 1),
                        (float) (f * HEIGHT + 0.015)));
            }
            for (int pass = 0; pass < 2; pass++) {
                g.setStroke(pass == 0 ? halo : line);
                g.setColor(pass == 0 ? new Color(255, 255, 255, 150) : o.color());
                for (int k = 0; k + 1 < s.length; k++) {
                    g.draw(new Line2D.Float(s[k][0], s[k][1], s[k + 1][0], s[k + 1][1]));
                }
            }
            g.setStroke(line);
            float[] a = s[0];
            float[] b = s[s.length - 1];
            g.setColor(o.color());
            g.draw(new java.awt.geom.Ellipse2D.Float(a[0] - 4, a[1] - 4, 8, 8));
            g.fill(new java.awt.geom.Ellipse2D.Float(b[0] - 4.5f, b[1] - 4.5f, 9, 9));
            g.setColor(Color.BLACK);
            g.draw(new java.awt.geom.Ellipse2D.Float(b[0] - 4.5f, b[1] - 4.5f, 9, 9));
        }
    }

    private static int clamp(float v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }

    private static void drawFloor(Graphics2D g, Projector pr, SurfacePanel p) {
        g.setStroke(new BasicStroke(1f));
        g.setColor(new Color(0xBBBBBB));
        float[][] c = {pr.project(new Vector3f(-1, -1, 0)), pr.project(new Vector3f(1, -1, 0)),
            pr.project(new Vector3f(1, 1, 0)), pr.project(new Vector3f(-1, 1, 0))};
        for (int k = 0; k < 4; k++) {
            float[] s = c[k];
            float[] e = c[(k + 1) % 4];
            g.draw(new Line2D.Float(s[0], s[1], e[0], e[1]));
        }
        g.setColor(new Color(0xDDDDDD));
        for (int k = 1; k < 4; k++) {
            float u = -1 + k * 0.5f;
            float[] s = pr.project(new Vector3f(u, -1, 0));
            float[] e = pr.project(new Vector3f(u, 1, 0));
            g.draw(new Line2D.Float(s[0], s[1], e[0], e[1]));
            s = pr.project(new Vector3f(-1, u, 0));
            e = pr.project(new Vector3f(1, u, 0));
            g.draw(new Line2D.Float(s[0], s[1], e[0], e[1]));
        }
    }

    private static void drawLabels(Graphics2D g, Projector pr, SurfacePanel p, double[] r, int width) {
        double[] xs = p.xs();
        double[] ys = p.ys();
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        FontMetrics fm = g.getFontMetrics();
        g.drawString(p.title(), (width - fm.stringWidth(p.title())) / 2, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        fm = g.getFontMetrics();
        // axis names at the middle of the front floor edges, tick values at their ends
        label(g, pr.project(new Vector3f(0, -1.25f, 0)), p.xLabel(), fm);
        label(g, pr.project(new Vector3f(1.25f, 0, 0)), p.yLabel(), fm);
        g.setColor(new Color(0x555555));
        label(g, pr.project(new Vector3f(-1, -1.15f, 0)), fmt(xs[0]), fm);
        label(g, pr.project(new Vector3f(1, -1.15f, 0)), fmt(xs[xs.length - 1]), fm);
        label(g, pr.project(new Vector3f(1.15f, -1, 0)), fmt(ys[0]), fm);
        label(g, pr.project(new Vector3f(1.15f, 1, 0)), fmt(ys[ys.length - 1]), fm);
        String range = String.format(Locale.ROOT, "%s: %s .. %s%s", p.zLabel(), fmt(r[0]), fmt(r[1]),
                p.logScale() ? " (log height)" : "");
        g.setColor(Color.BLACK);
        g.drawString(range, 10, fm.getAscent() + 38);
    }

    private static void label(Graphics2D g, float[] at, String text, FontMetrics fm) {
        g.drawString(text, at[0] - fm.stringWidth(text) / 2f, at[1] + fm.getAscent() / 2f);
    }

    private static String fmt(double v) {
        double a = Math.abs(v);
        return a != 0 && (a < 1e-2 || a >= 1e4) ? String.format(Locale.ROOT, "%.2g", v)
                : String.format(Locale.ROOT, "%.3g", v);
    }

    /** World point -> screen pixel through the model-view-projection matrix. */
    private static final class Projector {
        private final Matrix4f mvp;
        private final int width;
        private final int height;
        private final int top;
        private final Vector4f tmp = new Vector4f();

        Projector(Matrix4f mvp, int width, int height, int top) {
            this.mvp = mvp;
            this.width = width;
            this.height = height;
            this.top = top;
        }

        float[] project(Vector3f w) {
            tmp.set(w, 1f);
            mvp.transform(tmp);
            float ndcX = tmp.x / tmp.w;
            float ndcY = tmp.y / tmp.w;
            return new float[] {(ndcX + 1) * 0.5f * width, top + (1 - ndcY) * 0.5f * height};
        }
    }
}
