package dev.descent.sdk.plot;

import java.util.List;

/**
 * One chart of a figure: title, axis labels, the series drawn against the left axis and (optionally) the
 * series drawn against a second, right axis. {@code logY} draws the left axis on a log scale, {@code logX} the
 * horizontal axis.
 */
public record Panel(String title, String xLabel, String yLabel, List<Series> series, String y2Label,
                    List<Series> series2, boolean logY, boolean logX) {
    public Panel {
        series = List.copyOf(series);
        series2 = series2 == null ? List.of() : List.copyOf(series2);
    }

    /** A panel with a linear horizontal axis. */
    public Panel(String title, String xLabel, String yLabel, List<Series> series, String y2Label,
                 List<Series> series2, boolean logY) {
        this(title, xLabel, yLabel, series, y2Label, series2, logY, false);
    }

    /** A single-axis panel. */
    public static Panel of(String title, String xLabel, String yLabel, List<Series> series) {
        return new Panel(title, xLabel, yLabel, series, null, List.of(), false);
    }

    /** The same panel with a log-scale left axis. */
    public Panel withLogY() {
        return new Panel(title, xLabel, yLabel, series, y2Label, series2, true, logX);
    }

    /** The same panel with a second (right) axis. */
    public Panel withSecondAxis(String label, List<Series> right) {
        return new Panel(title, xLabel, yLabel, series, label, right, logY, logX);
    }

    /** The same panel with a log-scale horizontal axis (points at x <= 0 are left out). */
    public Panel withLogX() {
        return new Panel(title, xLabel, yLabel, series, y2Label, series2, logY, true);
    }
}
