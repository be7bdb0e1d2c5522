package dev.descent.samples.story.mpo;

import dev.descent.samples.UserError;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The picture a plane is trained to draw: a square grid of cells, dark (low loss) or light (high loss). Built-in icons
 * are text grids ({@code #} dark, {@code .} light) shipped as resources; a user's icon is a text grid of the same
 * form ({@code .txt}) or an image (PNG, GIF, BMP, JPEG) converted to grayscale — transparent pixels count as light, as
 * in the paper's icons — and resized to the grid by averaging each cell's area. A cell is dark when its mean darkness
 * is at least one half.
 *
 * @param name     the built-in name or the file
 * @param darkness [rows][cols] top row first, in [0, 1] (1 = black)
 */
public record Icon(String name, double[][] darkness) {
    /** The icons shipped with the story. */
    public static final List<String> BUILT_IN = List.of("heart", "smiley", "letter-d");

    /** A built-in icon by name, or the icon in {@code file}, resized to {@code grid} x {@code grid}. */
    public static Icon load(String nameOrFile, int grid) {
        if (BUILT_IN.contains(nameOrFile)) {
            try (InputStream in = Icon.class.getResourceAsStream(nameOrFile + ".txt")) {
                if (in == null) {
                    throw new IllegalStateException("the built-in icon " + nameOrFile + " is missing from the jar");
                }
                return new Icon(nameOrFile, resize(parseText(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                        nameOrFile), grid));
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the built-in icon " + nameOrFile, e);
            }
        }
        Path file = Path.of(nameOrFile);
        if (!Files.isRegularFile(file)) {
            throw new UserError("--icon " + nameOrFile + ": no such file, and not a built-in icon (" + String.join(", ",
                    BUILT_IN) + ")");
        }
        double[][] d;
        try {
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".txt")) {
                d = parseText(Files.readString(file), file.toString());
            } else {
                BufferedImage img = ImageIO.read(file.toFile());
                if (img == null) {
                    throw new UserError("--icon " + file + ": not an image this JVM can read (PNG, GIF, BMP, JPEG) "
                            + "nor a .txt grid");
                }
                d = darkness(img);
            }
        } catch (IOException e) {
            throw new UserError("--icon " + file + ": cannot read it: " + e.getMessage(), e);
        }
        return new Icon(file.toString(), resize(d, grid));
    }

    /** Side of the (square) grid. */
    public int grid() {
        return darkness.length;
    }

    /** [rows][cols] top row first: true = dark (low loss). */
    public boolean[][] dark() {
        boolean[][] d = new boolean[darkness.length][darkness[0].length];
        for (int r = 0; r < d.length; r++) {
            for (int c = 0; c < d[r].length; c++) {
                d[r][c] = darkness[r][c] >= 0.5;
            }
        }
        return d;
    }

    /**
     * The plane's target {@code [ny][nx]}, row j = b from -range (bottom) up: the icon's bottom row is j = 0, so
     * the picture stands upright in a heatmap whose b axis points up.
     */
    public boolean[][] target() {
        boolean[][] d = dark();
        boolean[][] t = new boolean[d.length][];
        for (int j = 0; j < d.length; j++) {
            t[j] = d[d.length - 1 - j];
        }
        return t;
    }

    /** Dark cells. */
    public int darkCells() {
        int n = 0;
        for (boolean[] row : dark()) {
            for (boolean x : row) {
                n += x ? 1 : 0;
            }
        }
        return n;
    }

    /** The grid as text, {@code #} dark and {@code .} light, top row first. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        for (boolean[] row : dark()) {
            for (boolean x : row) {
                sb.append(x ? '#' : '.');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static double[][] parseText(String text, String source) {
        List<String> rows = new ArrayList<>();
        for (String line : text.split("\\R")) {
            String s = line.strip();
            if (s.matches("[#.]+")) {
                rows.add(s);
            } else if (!s.isEmpty() && !s.startsWith("#")) {
                throw new UserError("--icon " + source + ": line '" + s + "' is neither a row of '#' (dark) and '.' "
                        + "(light) nor a comment ('# ...')");
            }
        }
        if (rows.isEmpty() || rows.stream().anyMatch(r -> r.length() != rows.get(0).length())) {
            throw new UserError("--icon " + source + ": needs rows of '#' and '.' of one length");
        }
        double[][] d = new double[rows.size()][rows.get(0).length()];
        for (int r = 0; r < d.length; r++) {
            for (int c = 0; c < d[r].length; c++) {
                d[r][c] = rows.get(r).charAt(c) == '#' ? 1 : 0;
            }
        }
        return d;
    }

    /** Darkness of each pixel: 1 − luminance, times alpha (transparent = light). */
    static double[][] darkness(BufferedImage img) {
        double[][] d = new double[img.getHeight()][img.getWidth()];
        boolean alpha = img.getColorModel().hasAlpha();
        for (int y = 0; y < d.length; y++) {
            for (int x = 0; x < d[y].length; x++) {
                int argb = img.getRGB(x, y);
                double lum = (0.299 * (argb >> 16 & 0xff) + 0.587 * (argb >> 8 & 0xff) + 0.114 * (argb & 0xff)) / 255;
                double a = alpha ? (argb >>> 24) / 255.0 : 1;
                d[y][x] = (1 - lum) * a;
            }
        }
        return d;
    }

    /** Area-average resampling to {@code grid} x {@code grid} (each output cell the mean over its source area). */
    static double[][] resize(double[][] src, int grid) {
        int h = src.length;
        int w = src[0].length;
        double[][] out = new double[grid][grid];
        for (int r = 0; r < grid; r++) {
            double y0 = (double) r * h / grid;
            double y1 = (double) (r + 1) * h / grid;
            for (int c = 0; c < grid; c++) {
                double x0 = (double) c * w / grid;
                double x1 = (double) (c + 1) * w / grid;
                double sum = 0;
                double area = 0;
                for (int y = (int) Math.floor(y0); y < Math.min(h, Math.ceil(y1)); y++) {
                    double fy = Math.min(y + 1, y1) - Math.max(y, y0);
                    for (int x = (int) Math.floor(x0); x < Math.min(w, Math.ceil(x1)); x++) {
                        double fx = Math.min(x + 1, x1) - Math.max(x, x0);
                        sum += src[y][x] * fx * fy;
                        area += fx * fy;
                    }
                }
                out[r][c] = sum / area;
            }
        }
        return out;
    }
}
