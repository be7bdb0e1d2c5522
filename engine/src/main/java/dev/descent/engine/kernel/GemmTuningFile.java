package dev.descent.engine.kernel;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Locale;
import java.util.Properties;

/**
 * The result of {@code descent tune} for one CPU model: a small properties file
 * {@code <dir>/gemm-<cpu key>.properties} in the user's Descent folder ({@value #DIR_PROP_NAME}, default
 * {@code ~/.descent/tuning}), read at start-up by {@link GemmSelection}.
 *
 * <pre>
 * # Descent GEMM tuning (descent tune)
 * cpu=AMD EPYC (AuthenticAMD family 26 model 2)
 * tile=512:8x2
 * kc=1024
 * mc=128
 * nc=1024
 * gflops=171.3
 * </pre>
 */
public final class GemmTuningFile {
    /** Folder of the tuning files; default {@code ${user.home}/.descent/tuning}. */
    public static final String DIR_PROP_NAME = "descent.tuning.dir";

    private GemmTuningFile() {
    }

    /** The tuning folder: -D{@value #DIR_PROP_NAME}, else {@code ~/.descent/tuning}. */
    public static Path dir() {
        String d = System.getProperty(DIR_PROP_NAME);
        return d != null && !d.isBlank() ? Path.of(d) : Path.of(System.getProperty("user.home"), ".descent", "tuning");
    }

    /** The file for {@code cpu} in {@code dir}. */
    public static Path path(Path dir, CpuInfo cpu) {
        return dir.resolve("gemm-" + cpu.key() + ".properties");
    }

    /** A tuning file's content. */
    public record Entry(String cpu, GemmShape shape, double gflops) {
    }

    /**
     * Writes {@code shape} (measured at {@code gflops}) for {@code cpu} to {@code file} atomically (temp file +
     * rename), creating the folder.
     *
     * @throws UncheckedIOException naming the file
     */
    public static void write(Path file, CpuInfo cpu, GemmShape shape, double gflops) {
        Properties p = new Properties();
        p.setProperty("cpu", cpu.model());
        p.setProperty("tile", shape.tile().name());
        p.setProperty("kc", Integer.toString(shape.kc()));
        p.setProperty("mc", Integer.toString(shape.mc()));
        p.setProperty("nc", Integer.toString(shape.nc()));
        p.setProperty("gflops", String.format(Locale.ROOT, "%.1f", gflops));
        p.setProperty("written", Instant.now().toString());
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
            try {
                try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                    p.store(w, "Descent GEMM tuning (descent tune); delete this file to return to the built-in choice");
                }
                try {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the tuning file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a tuning file.
     *
     * @throws IllegalStateException naming the file and what is wrong with it (unreadable, missing or bad keys)
     */
    public static Entry read(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException | IllegalArgumentException e) {
            throw invalid(file, "unreadable (" + e.getMessage() + ")");
        }
        String cpu = required(p, file, "cpu");
        GemmTile tile;
        try {
            tile = GemmTile.parse(required(p, file, "tile"));
        } catch (IllegalArgumentException e) {
            throw invalid(file, e.getMessage());
        }
        int kc = intValue(p, file, "kc");
        int mc = intValue(p, file, "mc");
        int nc = intValue(p, file, "nc");
        double gflops;
        try {
            gflops = Double.parseDouble(p.getProperty("gflops", "0"));
        } catch (NumberFormatException e) {
            throw invalid(file, "gflops is not a number: '" + p.getProperty("gflops") + "'");
        }
        try {
            return new Entry(cpu, new GemmShape(tile, kc, mc, nc, "tuning file " + file), gflops);
        } catch (IllegalArgumentException e) {
            throw invalid(file, e.getMessage());
        }
    }

    private static String required(Properties p, Path file, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            throw invalid(file, "no '" + key + "' entry");
        }
        return v.trim();
    }

    private static int intValue(Properties p, Path file, String key) {
        String v = required(p, file, key);
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw invalid(file, key + " is not an integer: '" + v + "'");
        }
    }

    private static IllegalStateException invalid(Path file, String why) {
        return new IllegalStateException("GEMM tuning file " + file + " is invalid: " + why
                + "; delete it or run `descent tune` again");
    }
}
