package dev.descent.samples;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for long work: {@code [#####.....] 52% epoch 3/10 loss 0.412 acc 0.853 81,200 ex/s ETA 0:42}.
 * On a terminal it redraws in place at most every {@value #REDRAW_NANOS} ns; when output is redirected (CI,
 * log files) it prints a plain line every 10% instead, so logs stay readable.
 */
public final class ProgressBar {
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int WIDTH = 28;

    private final PrintStream out;
    private final boolean interactive;
    private final String label;
    private final long total;
    private final long startNanos;
    private long lastDraw;
    private int lastDecile = -1;

    public ProgressBar(PrintStream out, String label, long total) {
        this(out, label, total, System.console() != null);
    }

    ProgressBar(PrintStream out, String label, long total, boolean interactive) {
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
        this.interactive = interactive;
        this.startNanos = System.nanoTime();
    }

    /** Reports {@code done} of {@code total} units, with a free-form status text after the bar. */
    public void update(long done, String status) {
        long now = System.nanoTime();
        double fraction = Math.min(1.0, (double) done / total);
        if (interactive) {
            if (now - lastDraw < REDRAW_NANOS && done < total) {
                return;
            }
            lastDraw = now;
            out.print("\r" + line(fraction, now, status) + "\u001b[K");
            out.flush();
        } else {
            int decile = (int) (fraction * 10);
            if (decile > lastDecile) {
                lastDecile = decile;
                out.println(line(fraction, now, status));
            }
        }
    }

    /** Ends the bar's line (on a terminal) so the next output starts on a fresh line. */
    public void finish(String status) {
        long now = System.nanoTime();
        if (interactive) {
            out.print("\r" + line(1.0, now, status) + "\u001b[K\n");
        } else {
            out.println(line(1.0, now, status));
        }
        out.flush();
    }

    String line(double fraction, long now, String status) {
        int filled = (int) Math.round(fraction * WIDTH);
        StringBuilder sb = new StringBuilder(100);
        sb.append(label).append(" [");
        for (int i = 0; i < WIDTH; i++) {
            sb.append(i < filled ? '#' : '.');
        }
        sb.append("] ").append(String.format(Locale.ROOT, "%3d%%", Math.round(fraction * 100)));
        if (status != null && !status.isEmpty()) {
            sb.append(' ').append(status);
        }
        double elapsed = (now - startNanos) / 1e9;
        if (fraction > 0 && fraction < 1) {
            sb.append(" ETA ").append(clock(elapsed * (1 - fraction) / fraction));
        } else if (fraction >= 1) {
            sb.append(" in ").append(clock(elapsed));
        }
        return sb.toString();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
