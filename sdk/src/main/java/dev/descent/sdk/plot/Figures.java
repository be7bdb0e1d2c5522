package dev.descent.sdk.plot;

import dev.descent.engine.io.AtomicFiles;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Writes line-chart figures to PNG with JFreeChart: one or more {@link Panel}s side by side, each with its
 * own axes and legend. Runs headless. Files are written atomically (temp file + rename), so a reader never
 * sees half a PNG.
 */
public final class Figures {
    /** Colour-blind-friendly palette (Okabe-Ito). */
    private static final Color[] PALETTE = {
        new Color(0x0072B2), new Color(0xD55E00), new Color(0x009E73), new Color(0xCC79A7),
        new Color(0xE69F00), new Color(0x56B4E9), new Color(0xF0E442), new Color(0x000000)
    };
    private static final int PANEL_WIDTH = 640;
    private static final int PANEL_HEIGHT = 440;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Figures() {
    }

    /** Writes {@code panels} side by side under {@code title} to {@code png}; returns the path. */
    public static Path write(Path png, String title, List<Panel> panels) {
        return write(png, title, panels, Math.max(1, panels.size()));
    }

    /** Writes {@code panels} in rows of {@code columns} (left to right, top to bottom) under {@code title}. */
    public static Path write(Path png, String title, List<Panel> panels, int columns) {
        return Canvas.write(png, title, panels.size(), columns, PANEL_WIDTH, PANEL_HEIGHT,
                (g, i, w, h) -> chart(panels.get(i)).draw(g, new java.awt.geom.Rectangle2D.Double(0, 0, w, h)));
    }

    /** Writes a rendered image to PNG atomically. */
    public static void writePng(BufferedImage image, Path png) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 16);
            try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                if (!ImageIO.write(image, "png", out)) {
                    throw new IOException("no PNG writer available");
                }
            }
            AtomicFiles.write(png, ch -> AtomicFiles.writeFully(ch, ByteBuffer.wrap(bytes.toByteArray())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write figure " + png + ": " + e.getMessage(), e);
        }
    }

    static JFreeChart chart(Panel panel) {
        XYPlot plot = new XYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xDDDDDD));
        plot.setRangeGridlinePaint(new Color(0xDDDDDD));
        if (panel.logX()) {
            plot.setDomainAxis(new DecadeLogAxis(panel.xLabel())); // ticks at decades / 1-2-5 steps
        } else {
            NumberAxis x = new NumberAxis(panel.xLabel());
            x.setAutoRangeIncludesZero(false);
            if (integerValued(panel)) {
                x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            }
            plot.setDomainAxis(x);
        }
        if (panel.logY()) {
            plot.setRangeAxis(0, new DecadeLogAxis(panel.yLabel())); // ticks at decades / 1-2-5 steps
        } else {
            NumberAxis y = new NumberAxis(panel.yLabel());
            y.setAutoRangeIncludesZero(false);
            plot.setRangeAxis(0, y);
        }
        int colour = 0;
        colour = addDataset(plot, 0, panel.series(), colour, false);
        if (!panel.series2().isEmpty()) {
            NumberAxis y2 = new NumberAxis(panel.y2Label());
            y2.setAutoRangeIncludesZero(false);
            plot.setRangeAxis(1, y2);
            addDataset(plot, 1, panel.series2(), colour, true);
            plot.mapDatasetToRangeAxis(1, 1);
        }
        JFreeChart chart = new JFreeChart(null, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.setTitle(new TextTitle(panel.title(), new Font(Font.SANS_SERIF, Font.BOLD, 15)));
        chart.setBackgroundPaint(Color.WHITE);
        return chart;
    }

    private static boolean integerValued(Panel panel) {
        for (List<Series> list : List.of(panel.series(), panel.series2())) {
            for (Series s : list) {
                for (int i = 0; i < s.size(); i++) {
                    if (s.xAt(i) != Math.rint(s.xAt(i))) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    private static int addDataset(XYPlot plot, int index, List<Series> series, int colour, boolean dashed) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int s = 0; s < series.size(); s++) {
            Series in = series.get(s);
            XYSeries out = new XYSeries(in.name(), false, true);
            for (int i = 0; i < in.size(); i++) {
                double yv = in.yAt(i);
                if (Double.isFinite(yv) && !(plot.getRangeAxis(index) instanceof LogAxis && yv <= 0)
                        && !(plot.getDomainAxis() instanceof LogAxis && in.xAt(i) <= 0)) {
                    out.add(in.xAt(i), yv);
                }
            }
            data.addSeries(out);
            renderer.setSeriesPaint(s, PALETTE[colour++ % PALETTE.length]);
            renderer.setSeriesStroke(s, dashed
                    ? new BasicStroke(2.2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2.2f));
            renderer.setSeriesShapesVisible(s, in.size() <= 30);
        }
        plot.setDataset(index, data);
        plot.setRenderer(index, renderer);
        return colour;
    }

    /** Three significant digits; scientific notation outside [0.001, 1e6). */
    static final class SignificantFormat extends java.text.NumberFormat {
        private static final long serialVersionUID = 1L;

        @Override
        public StringBuffer format(double v, StringBuffer out, java.text.FieldPosition pos) {
            double a = Math.abs(v);
            if (a != 0 && (a < 1e-3 || a >= 1e6)) {
                return out.append(String.format(java.util.Locale.ROOT, "%.2g", v));
            }
            java.math.BigDecimal d = new java.math.BigDecimal(v).round(new java.math.MathContext(3));
            return out.append(d.stripTrailingZeros().toPlainString());
        }

        @Override
        public StringBuffer format(long v, StringBuffer out, java.text.FieldPosition pos) {
            return format((double) v, out, pos);
        }

        @Override
        public Number parse(String source, java.text.ParsePosition pos) {
            throw new UnsupportedOperationException("format only");
        }
    }
}
