package dev.descent.sdk.plot;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.text.NumberFormat;
import java.util.ArrayList;
import java.util.List;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.axis.Tick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;

/**
 * A base-10 log axis whose ticks sit where a reader expects them: at 1-2-5 steps of each decade when the range
 * spans at most two decades, at every decade up to eight, at every second or n-th decade beyond. JFreeChart's
 * {@link LogAxis} steps evenly in the exponent instead, which labels 0.158, 0.251, 6310.
 */
public final class DecadeLogAxis extends LogAxis {
    private static final long serialVersionUID = 1L;
    private static final NumberFormat LABELS = new Figures.SignificantFormat();

    public DecadeLogAxis(String label) {
        super(label);
        setBase(10);
        setSmallestValue(1e-30);
        setMinorTickMarksVisible(false);
    }

    /** The tick values for the range [lower, upper] (both > 0), ascending. */
    public static List<Double> tickValues(double lower, double upper) {
        List<Double> ticks = new ArrayList<>();
        if (!(lower > 0) || !(upper > lower) || !Double.isFinite(upper)) {
            return ticks;
        }
        int lo = (int) Math.floor(Math.log10(lower));
        int hi = (int) Math.ceil(Math.log10(upper));
        double decades = Math.log10(upper / lower);
        double[] mantissas = decades <= 2 ? new double[] {1, 2, 5} : new double[] {1};
        int every = decades <= 8 ? 1 : (int) Math.ceil(decades / 8);
        if (decades < 1 && countTicks(lo, hi, lower, upper, mantissas) < 3) {
            mantissas = new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9}; // under a decade: every digit
        }
        for (int e = lo; e <= hi; e++) {
            if (Math.floorMod(e, every) != 0) {
                continue;
            }
            for (double m : mantissas) {
                double v = m * Math.pow(10, e);
                // round to a clean decimal so labels read 0.2, not 0.20000000000000004
                v = Double.parseDouble(String.format(java.util.Locale.ROOT, "%.6g", v));
                if (v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9)) {
                    ticks.add(v);
                }
            }
        }
        return ticks;
    }

    private static int countTicks(int lo, int hi, double lower, double upper, double[] mantissas) {
        int n = 0;
        for (int e = lo; e <= hi; e++) {
            for (double m : mantissas) {
                double v = m * Math.pow(10, e);
                if (v >= lower * (1 - 1e-9) && v <= upper * (1 + 1e-9)) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * A linear axis over log10 values (a heatmap's colour bar) with the same ticks, placed at log10 of the values
     * and labelled with the values themselves.
     */
    public static org.jfree.chart.axis.NumberAxis overLog10(String label) {
        return new org.jfree.chart.axis.NumberAxis(label) {
            private static final long serialVersionUID = 1L;

            @Override
            protected List<Tick> refreshTicksVertical(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
                return log10Ticks(edge == RectangleEdge.LEFT ? TextAnchor.CENTER_RIGHT : TextAnchor.CENTER_LEFT);
            }

            @Override
            protected List<Tick> refreshTicksHorizontal(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
                return log10Ticks(edge == RectangleEdge.TOP ? TextAnchor.BOTTOM_CENTER : TextAnchor.TOP_CENTER);
            }

            private List<Tick> log10Ticks(TextAnchor anchor) {
                List<Tick> ticks = new ArrayList<>();
                for (double v : tickValues(Math.pow(10, getLowerBound()), Math.pow(10, getUpperBound()))) {
                    ticks.add(new NumberTick(TickType.MAJOR, Math.log10(v), LABELS.format(v), anchor,
                            TextAnchor.CENTER, 0.0));
                }
                return ticks;
            }
        };
    }

    @Override
    protected List<Tick> refreshTicksVertical(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
        return ticks(edge == RectangleEdge.LEFT ? TextAnchor.CENTER_RIGHT : TextAnchor.CENTER_LEFT);
    }

    @Override
    protected List<Tick> refreshTicksHorizontal(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
        return ticks(edge == RectangleEdge.TOP ? TextAnchor.BOTTOM_CENTER : TextAnchor.TOP_CENTER);
    }

    private List<Tick> ticks(TextAnchor anchor) {
        List<Tick> ticks = new ArrayList<>();
        for (double v : tickValues(getLowerBound(), getUpperBound())) {
            ticks.add(new NumberTick(TickType.MAJOR, v, LABELS.format(v), anchor, TextAnchor.CENTER, 0.0));
        }
        return ticks;
    }
}
