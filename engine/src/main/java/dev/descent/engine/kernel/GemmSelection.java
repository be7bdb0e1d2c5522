package dev.descent.engine.kernel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the SIMD GEMM's {@link GemmShape} once at start-up, in this order:
 * <ol>
 *   <li>{@value #SHAPE_PROP_NAME}{@code =<bits>:<rows>x<vectors>} forces a tile (tests, experiments);</li>
 *   <li>else the tuning file of this CPU model written by {@code descent tune} ({@link GemmTuningFile}), if it is
 *       valid and its tile runs natively here (a broken file is reported with its path and ignored);</li>
 *   <li>else the built-in tile for the vector shape ({@link GemmTile#builtIn}) with the blocking derived from the
 *       detected caches ({@link GemmShape#blockingFor}).</li>
 * </ol>
 * {@code descent.gemm.kc}, {@code .mc} and {@code .nc} override the blocking of any of them.
 */
public final class GemmSelection {
    public static final String SHAPE_PROP_NAME = "descent.gemm.shape";
    public static final String KC_PROP_NAME = "descent.gemm.kc";
    public static final String MC_PROP_NAME = "descent.gemm.mc";
    public static final String NC_PROP_NAME = "descent.gemm.nc";

    private static final Logger LOG = LoggerFactory.getLogger(GemmSelection.class);

    private GemmSelection() {
    }

    /** The shape for this JVM: system properties, this CPU, the user's tuning folder. */
    public static GemmShape select(int preferredBits) {
        return select(preferredBits, CpuInfo.detected(), GemmTuningFile.dir(), System.getProperties());
    }

    /**
     * The shape for a machine with {@code preferredBits}-wide native vectors and {@code cpu}, reading tuning files
     * from {@code tuningDir} and overrides from {@code props}.
     *
     * @throws IllegalArgumentException if {@value #SHAPE_PROP_NAME} names an unknown tile or one wider than the
     *                                  native vectors (it would run in the Vector API's slow Java fallback)
     */
    public static GemmShape select(int preferredBits, CpuInfo cpu, Path tuningDir, Properties props) {
        int registers = GemmTile.registers(cpu.arch(), preferredBits);
        GemmShape shape;
        String forced = props.getProperty(SHAPE_PROP_NAME);
        if (forced != null && !forced.isBlank()) {
            GemmTile tile = GemmTile.parse(forced);
            if (tile.vectorBits() > preferredBits) {
                throw new IllegalArgumentException("-D" + SHAPE_PROP_NAME + "=" + forced + " needs " + tile.vectorBits()
                        + "-bit vectors, but this CPU's widest are " + preferredBits + "-bit; tiles that fit: "
                        + GemmTile.names(GemmTile.candidates(preferredBits, 64)));
            }
            shape = GemmShape.of(tile, cpu, "-D" + SHAPE_PROP_NAME);
        } else {
            shape = fromTuningFile(GemmTuningFile.path(tuningDir, cpu), cpu, preferredBits, registers);
            if (shape == null) {
                shape = GemmShape.of(GemmTile.builtIn(preferredBits, registers, cpu.intel()), cpu, "built-in");
            }
        }
        return withOverrides(shape, props);
    }

    private static GemmShape fromTuningFile(Path file, CpuInfo cpu, int preferredBits, int registers) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            GemmTuningFile.Entry e = GemmTuningFile.read(file);
            GemmTile tile = e.shape().tile();
            if (!e.cpu().equals(cpu.model())) {
                LOG.warn("GEMM tuning file {} was written for '{}', not this CPU '{}': ignored, using the built-in "
                        + "choice (run `descent tune` to tune this one)", file, e.cpu(), cpu.model());
                return null;
            }
            if (tile.vectorBits() > preferredBits || !tile.fits(registers)) {
                LOG.warn("GEMM tuning file {} names tile {}, which does not fit this JVM's {}-bit vectors and {} "
                        + "registers: ignored, using the built-in choice", file, tile.name(), preferredBits, registers);
                return null;
            }
            return e.shape();
        } catch (IllegalStateException e) {
            LOG.warn("{}. Using the built-in GEMM shape.", e.getMessage());
            return null;
        }
    }

    private static GemmShape withOverrides(GemmShape s, Properties props) {
        int kc = intProp(props, KC_PROP_NAME, s.kc());
        int mc = intProp(props, MC_PROP_NAME, s.mc());
        int nc = intProp(props, NC_PROP_NAME, s.nc());
        if (kc == s.kc() && mc == s.mc() && nc == s.nc()) {
            return s;
        }
        return new GemmShape(s.tile(), kc, mc, nc, s.source() + ", blocking from -Ddescent.gemm.kc/mc/nc");
    }

    private static int intProp(Properties props, String name, int dflt) {
        String v = props.getProperty(name);
        if (v == null || v.isBlank()) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("-D" + name + "=" + v + " is not an integer", e);
        }
    }
}
