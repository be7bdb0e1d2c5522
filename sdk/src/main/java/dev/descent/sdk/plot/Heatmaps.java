package dev.descent.sdk.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYLineAnnotation;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Heatmap + contour figures with JFreeChart (block renderer, viridis colours, a colour bar, contour lines as
 * annotations with their values, an optional path with its start and end marked), panels side by side, written
 * atomically to PNG.
 */
public final class Heatmaps {
    private static final int PANEL_WIDTH = 620;
    private static final int PANEL_HEIGHT = 540;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Heatmaps() {
    }

    public static Path write(Path png, String title, List<HeatmapPanel> panels) {
        return Canvas.write(png, title, panels.size(), Math.max(1, panels.size()), PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> chart(panels.get(i)).draw(g, new Rectangle2D.Double(0, 0, w, h)));
    }

    /**
     * As {@link #write}, in {@code columns} columns, with ONE colour scale and ONE set of contour levels for all
     * panels (the range of all their values together), so that equal colours mean equal values across panels.
     */
    public static Path writeShared(Path png, String title, List<HeatmapPanel> panels, int columns) {
        double[] shared = sharedRange(panels.stream().map(HeatmapPanel::z).toList(),
                !panels.isEmpty() && panels.get(0).logScale());
        return Canvas.write(png, title, panels.size(), columns, PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> chart(panels.get(i), shared).draw(g, new Rectangle2D.Double(0, 0, w, h)));
    }

    /** Finite range over several grids (for log scale only positive values count). */
    static double[] sharedRange(List<double[][]> grids, boolean log) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[][] z : grids) {
            double[] r = range(z, log);
            lo = Math.min(lo, r[0]);
            hi = Math.max(hi, r[1]);
        }
        return new double[] {lo, hi};
    }

    /**
     * As {@link #write(Path, String, List)}, with {@code paths.get(i)} drawn over panel i (e.g. many optimizer
     * trajectories); the panels' own single paths are drawn too.
     */
    public static Path write(Path png, String title, List<HeatmapPanel> panels, List<List<PathOverlay>> paths) {
        if (paths.size() != panels.size()) {
            throw new IllegalArgumentException(panels.size() + " panels but " + paths.size() + " path lists");
        }
        return Canvas.write(png, title, panels.size(), Math.max(1, panels.size()), PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> overlay(chart(panels.get(i)), paths.get(i)).draw(g, new Rectangle2D.Double(0, 0, w, h)));
    }

    /**
     * One row: the line charts {@code charts} first, then the heatmaps with {@code paths.get(i)} over map i (e.g. a
     * loss curve beside the path on the surface).
     */
    public static Path write(Path png, String title, List<Panel> charts, List<HeatmapPanel> panels,
                             List<List<PathOverlay>> paths) {
        if (paths.size() != panels.size()) {
            throw new IllegalArgumentException(panels.size() + " panels but " + paths.size() + " path lists");
        }
        int count = charts.size() + panels.size();
        return Canvas.write(png, title, count, Math.max(1, count), PANEL_WIDTH, PANEL_HEIGHT, (g, i, w, h) -> {
            JFreeChart c = i < charts.size() ? Figures.chart(charts.get(i))
                    : overlay(chart(panels.get(i - charts.size())), paths.get(i - charts.size()));
            c.draw(g, new Rectangle2D.Double(0, 0, w, h));
        });
    }

    private static JFreeChart overlay(JFreeChart chart, List<PathOverlay> paths) {
        XYPlot plot = chart.getXYPlot();
        if (!paths.isEmpty() && plot.getDatasetCount() > 1) {
            plot.setDataset(1, null); // the overlaid paths replace the centre mark (a landscape's origin)
        }
        BasicStroke stroke = new BasicStroke(1.1f);
        double rx = plot.getDomainAxis().getRange().getLength() * 0.007; // marker radii: ~4 px on a 600 px panel
        double ry = plot.getRangeAxis().getRange().getLength() * 0.007;
        for (PathOverlay o : paths) {
            double[][] pts = o.points();
            for (int k = 0; k + 1 < pts.length; k++) {
                plot.addAnnotation(new XYLineAnnotation(pts[k][0], pts[k][1], pts[k + 1][0], pts[k + 1][1], stroke,
                        o.color()), false);
            }
            double[] a = pts[0];
            double[] b = pts[pts.length - 1];
            plot.addAnnotation(new org.jfree.chart.annotations.XYShapeAnnotation(
                    new Ellipse2D.Double(a[0] - rx, a[1] - ry, 2 * rx, 2 * ry), stroke, o.color()), false);
            plot.addAnnotation(new org.jfree.chart.annotations.XYShapeAnnotation(
                    new Ellipse2D.Double(b[0] - 1.2 * rx, b[1] - 1.2 * ry, 2.4 * rx, 2.4 * ry), stroke, Color.BLACK,
                    o.color()), false);
        }
        return chart;
    }

    /** Finite range of z as {min, max}; for log scale only positive values count. */
    static double[] range(double[][] z, boolean log) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double[] row : z) {
            for (double v : row) {
                if (Double.isFinite(v) && (!log || v > 0)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo > hi) {
            return new double[] {0, 1};
        }
        if (lo == hi) {
            hi = log ? lo * 1.01 : lo + 1e-9;
        }
        return new double[] {lo, hi};
    }

    static JFreeChart chart(HeatmapPanel p) {
        return chart(p, range(p.z(), p.logScale()));
    }

    /** The panel with colours and contour levels over {@code r} = {min, max}. */
    static JFreeChart chart(HeatmapPanel p, double[] r) {
        double[] xs = p.xs();
        double[] ys = p.ys();
        double[][] z = p.z();
        boolean log = p.logScale();
        double tLo = log ? Math.log10(r[0]) : r[0];
        double tHi = log ? Math.log10(r[1]) : r[1];
        PaintScale scale = new ViridisScale(r[0], r[1], log);

        int nx = xs.length;
        int ny = ys.length;
        double[][] data = new double[3][nx * ny];
        for (int j = 0; j < ny; j++) {
            for (int i = 0; i < nx; i++) {
                int k = j * nx + i;
                data[0][k] = xs[i];
                data[1][k] = ys[j];
                data[2][k] = z[j][i];
            }
        }
        DefaultXYZDataset ds = new DefaultXYZDataset();
        ds.addSeries("z", data);
        XYBlockRenderer blocks = new XYBlockRenderer();
        blocks.setBlockWidth(nx > 1 ? (xs[nx - 1] - xs[0]) / (nx - 1) : 1);
        blocks.setBlockHeight(ny > 1 ? (ys[ny - 1] - ys[0]) / (ny - 1) : 1);
        blocks.setPaintScale(scale);
        blocks.setSeriesVisibleInLegend(0, false);

        NumberAxis x = new NumberAxis(p.xLabel());
        x.setRange(xs[0] - blocks.getBlockWidth() / 2, xs[nx - 1] + blocks.getBlockWidth() / 2);
        NumberAxis y = new NumberAxis(p.yLabel());
        y.setRange(ys[0] - blocks.getBlockHeight() / 2, ys[ny - 1] + blocks.getBlockHeight() / 2);
        XYPlot plot = new XYPlot(ds, x, y, blocks);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        // contour lines, in transformed space, labelled with their values
        double[][] tz = new double[ny][nx];
        for (int j = 0; j < ny; j++) {
            for (int i = 0; i < nx; i++) {
                double v = z[j][i];
                tz[j][i] = log ? (v > 0 ? Math.log10(v) : Double.NaN) : v;
            }
        }
        BasicStroke line = new BasicStroke(1.1f);
        Font labelFont = new Font(Font.SANS_SERIF, Font.PLAIN, 10);
        double[] levels = Contours.levels(tLo, tHi, Math.max(1, p.levels()));
        int labelEvery = levels.length >= 9 ? 3 : 2;
        for (int li = 0; li < levels.length; li++) {
            double c = levels[li];
            Color col = (c - tLo) / (tHi - tLo) > 0.6 ? new Color(40, 40, 40, 200) : new Color(255, 255, 255, 210);
            List<double[]> segs = Contours.segments(xs, ys, tz, c);
            for (double[] s : segs) {
                plot.addAnnotation(new XYLineAnnotation(s[0], s[1], s[2], s[3], line, col), false);
            }
            if (!segs.isEmpty() && li % labelEvery == 0) {
                double[] s = topmost(segs);
                XYTextAnnotation t = new XYTextAnnotation(label(log ? Math.pow(10, c) : c), s[0], s[1]);
                t.setFont(labelFont);
                t.setPaint(col.getAlpha() > 0 && col.getRed() > 128 ? Color.WHITE : Color.BLACK);
                t.setTextAnchor(TextAnchor.BOTTOM_CENTER);
                plot.addAnnotation(t, false);
            }
        }
        // the centre point
        XYSeriesCollection marks = new XYSeriesCollection();
        XYLineAndShapeRenderer markRenderer = new XYLineAndShapeRenderer(false, true);
        int series = 0;
        if (xs[0] < 0 && xs[nx - 1] > 0 && ys[0] < 0 && ys[ny - 1] > 0 && p.path() == null) {
            XYSeries centre = new XYSeries("centre", false, true);
            centre.add(0, 0);
            marks.addSeries(centre);
            markRenderer.setSeriesPaint(series, new Color(0xD55E00));
            markRenderer.setSeriesShape(series, new Ellipse2D.Double(-5, -5, 10, 10));
            series++;
        }
        if (p.path() != null) {
            XYSeries path = new XYSeries(p.pathLabel() == null ? "path" : p.pathLabel(), false, true);
            for (double[] pt : p.path()) {
                path.add(pt[0], pt[1]);
            }
            marks.addSeries(path);
            markRenderer.setSeriesLinesVisible(series, true);
            markRenderer.setSeriesPaint(series, new Color(0xD55E00));
            markRenderer.setSeriesStroke(series, new BasicStroke(2.2f));
            markRenderer.setSeriesShape(series, new Ellipse2D.Double(-3.5, -3.5, 7, 7));
            double[][] pts = p.path();
            XYTextAnnotation start = new XYTextAnnotation("start", pts[0][0], pts[0][1]);
            start.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
            start.setPaint(Color.WHITE);
            start.setTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addAnnotation(start, false);
            XYTextAnnotation end = new XYTextAnnotation("end", pts[pts.length - 1][0], pts[pts.length - 1][1]);
            end.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 11));
            end.setPaint(Color.WHITE);
            end.setTextAnchor(TextAnchor.TOP_RIGHT);
            plot.addAnnotation(end, false);
            series++;
        }
        if (series > 0) {
            plot.setDatasetRenderingOrder(org.jfree.chart.plot.DatasetRenderingOrder.FORWARD);
            plot.setDataset(1, marks);
            plot.setRenderer(1, markRenderer);
        }

        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, p.path() != null);
        chart.setTitle(new TextTitle(p.title(), new Font(Font.SANS_SERIF, Font.BOLD, 15)));
        chart.setBackgroundPaint(Color.WHITE);
        // the colour bar runs over the transformed values (log10 for a log scale), labelled with the values themselves
        NumberAxis barAxis = log ? DecadeLogAxis.overLog10(p.zLabel() + " (log scale)") : new NumberAxis(p.zLabel());
        barAxis.setRange(tLo, tHi);
        PaintScale barScale = new ViridisScale(tLo, tHi, false);
        PaintScaleLegend bar = new PaintScaleLegend(barScale, barAxis);
        bar.setPosition(RectangleEdge.RIGHT);
        bar.setAxisLocation(AxisLocation.TOP_OR_RIGHT);
        bar.setMargin(new RectangleInsets(8, 6, 30, 6));
        bar.setStripWidth(14);
        bar.setSubdivisionCount(128);
        chart.addSubtitle(bar);
        return chart;
    }

    /** The segment reaching highest on the plot (labels of nested rings then stack along one column). */
    private static double[] topmost(List<double[]> segs) {
        double[] best = segs.get(0);
        for (double[] s : segs) {
            if (Math.max(s[1], s[3]) > Math.max(best[1], best[3])) {
                best = s;
            }
        }
        return best[1] >= best[3] ? best : new double[] {best[2], best[3], best[0], best[1]};
    }

    private static String label(double v) {
        double a = Math.abs(v);
        return a != 0 && (a < 1e-2 || a >= 1e4) ? String.format(Locale.ROOT, "%.1e", v)
                : String.format(Locale.ROOT, a < 1 ? "%.3f" : a < 10 ? "%.2f" : "%.1f", v);
    }


    /** Viridis over [lo, hi], linear or on log10. */
    static final class ViridisScale implements PaintScale {
        private final double lo;
        private final double hi;
        private final boolean log;

        ViridisScale(double lo, double hi, boolean log) {
            this.lo = lo;
            this.hi = hi;
            this.log = log;
        }

        @Override
        public double getLowerBound() {
            return lo;
        }

        @Override
        public double getUpperBound() {
            return hi;
        }

        @Override
        public Paint getPaint(double v) {
            return ColorMaps.viridis(fraction(v));
        }

        double fraction(double v) {
            if (!Double.isFinite(v)) {
                return Double.NaN;
            }
            if (log) {
                return v <= 0 ? 0 : (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
            }
            return (v - lo) / (hi - lo);
        }
    }
}
