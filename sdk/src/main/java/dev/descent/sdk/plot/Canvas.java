package dev.descent.sdk.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Path;

/**
 * The layout every figure shares: a white, antialiased image with an optional bold title on top and {@code count}
 * panels of one size in rows of {@code columns}, written atomically to PNG.
 */
final class Canvas {
    private static final int TITLE_HEIGHT = 36;

    /** Draws panel {@code index} into a graphics whose origin is the panel's top-left corner. */
    @FunctionalInterface
    interface PanelPainter {
        void paint(Graphics2D g, int index, int width, int height);
    }

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Canvas() {
    }

    static Path write(Path png, String title, int count, int columns, int panelWidth, int panelHeight,
                      PanelPainter painter) {
        if (count < 1) {
            throw new IllegalArgumentException("a figure needs at least one panel: " + png);
        }
        if (columns < 1) {
            throw new IllegalArgumentException("columns must be >= 1, was " + columns);
        }
        int cols = Math.min(columns, count);
        int rows = (count + cols - 1) / cols;
        int titleHeight = title == null ? 0 : TITLE_HEIGHT;
        BufferedImage image = new BufferedImage(panelWidth * cols, panelHeight * rows + titleHeight,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, image.getWidth(), image.getHeight());
            if (title != null) {
                g.setColor(Color.BLACK);
                g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
                int w = g.getFontMetrics().stringWidth(title);
                g.drawString(title, (image.getWidth() - w) / 2, 25);
            }
            for (int i = 0; i < count; i++) {
                Graphics2D sub = (Graphics2D) g.create(i % cols * panelWidth, titleHeight + i / cols * panelHeight,
                        panelWidth, panelHeight);
                try {
                    painter.paint(sub, i, panelWidth, panelHeight);
                } finally {
                    sub.dispose();
                }
            }
        } finally {
            g.dispose();
        }
        Figures.writePng(image, png);
        return png;
    }
}
