package dev.descent.engine.init;

import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The initializers. Constants cover the usual choices (Kaiming with the ReLU gain sqrt 2, Xavier with gain 1);
 * factories take explicit parameters. Variance-scaling rules (std or bound a, fan from the tensor's layout
 * entry):
 * <ul>
 *   <li>Xavier/Glorot normal: std = gain·sqrt(2 / (fanIn + fanOut)); uniform: a = gain·sqrt(6 / (fanIn + fanOut));</li>
 *   <li>Kaiming/He normal: std = gain / sqrt(fan); uniform: a = gain·sqrt(3 / fan); fan = fanIn or fanOut.</li>
 * </ul>
 * Biases are zero unless a bias initializer is given explicitly.
 */
public final class Init {
    /** The ReLU gain sqrt(2). */
    public static final double RELU_GAIN = Math.sqrt(2.0);

    public static final Initializer ZEROS = constant(0.0);
    public static final Initializer XAVIER_NORMAL = xavierNormal(1.0);
    public static final Initializer XAVIER_UNIFORM = xavierUniform(1.0);
    public static final Initializer KAIMING_NORMAL = kaimingNormal(FanMode.FAN_IN, RELU_GAIN);
    public static final Initializer KAIMING_UNIFORM = kaimingUniform(FanMode.FAN_IN, RELU_GAIN);

    private Init() {
    }

    public static Initializer constant(double value) {
        float v = (float) value;
        return new Named("constant(" + value + ")", (p, o, c, fi, fo, r) -> Initializer.constant(p, o, c, v));
    }

    public static Initializer normal(double std) {
        requireNonNegative("std", std);
        return new Named("normal(std=" + std + ")", (p, o, c, fi, fo, r) -> Initializer.gaussian(p, o, c, r, std));
    }

    /** U(-a, a). */
    public static Initializer uniform(double a) {
        requireNonNegative("a", a);
        return new Named("uniform(a=" + a + ")", (p, o, c, fi, fo, r) -> Initializer.uniform(p, o, c, r, a));
    }

    public static Initializer xavierNormal(double gain) {
        return new Named("xavier_normal(gain=" + fmt(gain) + ")", (p, o, c, fi, fo, r) ->
                Initializer.gaussian(p, o, c, r, gain * Math.sqrt(2.0 / (fi + fo))));
    }

    public static Initializer xavierUniform(double gain) {
        return new Named("xavier_uniform(gain=" + fmt(gain) + ")", (p, o, c, fi, fo, r) ->
                Initializer.uniform(p, o, c, r, gain * Math.sqrt(6.0 / (fi + fo))));
    }

    public static Initializer kaimingNormal(FanMode mode, double gain) {
        return new Named("kaiming_normal(" + mode.name().toLowerCase(Locale.ROOT) + ", gain=" + fmt(gain) + ")",
                (p, o, c, fi, fo, r) -> Initializer.gaussian(p, o, c, r, gain / Math.sqrt(fan(fi, fo, mode))));
    }

    public static Initializer kaimingUniform(FanMode mode, double gain) {
        return new Named("kaiming_uniform(" + mode.name().toLowerCase(Locale.ROOT) + ", gain=" + fmt(gain) + ")",
                (p, o, c, fi, fo, r) -> Initializer.uniform(p, o, c, r, gain * Math.sqrt(3.0 / fan(fi, fo, mode))));
    }

    /**
     * {@code base} with every value multiplied by {@code factor}: the standard deviation (or uniform bound, or
     * constant) times {@code factor}, e.g. {@code scaled(KAIMING_NORMAL, 2)} for an initialization twice as wide as
     * He's (the "exploding" configuration). The random draws are those of {@code base} for the same seed.
     */
    public static Initializer scaled(Initializer base, double factor) {
        if (!Double.isFinite(factor)) {
            throw new IllegalArgumentException("initializer scale must be finite, was " + factor);
        }
        float f = (float) factor;
        return new Named(base.describe() + "*" + fmt(factor), (p, o, c, fi, fo, r) -> {
            base.fill(p, o, c, fi, fo, r);
            for (int i = 0; i < c; i++) {
                p.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, o + i,
                        p.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, o + i) * f);
            }
        });
    }

    /**
     * Parses a CLI name: {@code zeros}, {@code constant:0.1}, {@code normal:0.01}, {@code uniform:0.05},
     * {@code xavier-normal}, {@code xavier-uniform}, {@code kaiming-normal}, {@code kaiming-uniform}
     * (underscores also accepted). The variance-scaling rules take an explicit gain, {@code kaiming-normal:gain=1}
     * or {@code xavier-uniform:gain=1.414} (defaults: sqrt 2 for Kaiming, 1 for Xavier). Any initializer may end in
     * {@code *K} to multiply its values by K, e.g. {@code kaiming-normal*2} (standard deviation doubled).
     */
    public static Initializer parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        int star = t.lastIndexOf('*');
        if (star >= 0) {
            String k = t.substring(star + 1).trim();
            double factor;
            try {
                factor = Double.parseDouble(k);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("initializer '" + text + "': scale '" + k
                        + "' after '*' is not a number (expected e.g. kaiming-normal*2)", e);
            }
            return scaled(parse(t.substring(0, star)), factor);
        }
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon);
        String arg = colon < 0 ? null : t.substring(colon + 1);
        boolean variance = name.startsWith("xavier") || name.startsWith("glorot") || name.startsWith("kaiming")
                || name.startsWith("he-");
        if (variance && arg != null) {
            if (!arg.startsWith("gain=")) {
                throw new IllegalArgumentException("initializer '" + text + "': expected " + name
                        + ":gain=G, e.g. " + name + ":gain=1");
            }
            double gain = number(text, arg.substring(5));
            requireNonNegative("gain", gain);
            return switch (name) {
                case "xavier-normal", "glorot-normal" -> xavierNormal(gain);
                case "xavier-uniform", "glorot-uniform" -> xavierUniform(gain);
                case "kaiming-normal", "he-normal" -> kaimingNormal(FanMode.FAN_IN, gain);
                case "kaiming-uniform", "he-uniform" -> kaimingUniform(FanMode.FAN_IN, gain);
                default -> throw unknown(text);
            };
        }
        return switch (name) {
            case "zeros", "zero" -> ZEROS;
            case "constant" -> constant(number(text, arg));
            case "normal" -> normal(number(text, arg));
            case "uniform" -> uniform(number(text, arg));
            case "xavier-normal", "glorot-normal" -> XAVIER_NORMAL;
            case "xavier-uniform", "glorot-uniform" -> XAVIER_UNIFORM;
            case "kaiming-normal", "he-normal" -> KAIMING_NORMAL;
            case "kaiming-uniform", "he-uniform" -> KAIMING_UNIFORM;
            default -> throw unknown(text);
        };
    }

    private static IllegalArgumentException unknown(String text) {
        return new IllegalArgumentException("unknown initializer '" + text + "'; expected zeros, constant:V, "
                + "normal:STD, uniform:A, xavier-normal, xavier-uniform, kaiming-normal, kaiming-uniform (optionally "
                + ":gain=G for the last four, and *K to scale any of them)");
    }

    private static double number(String text, String arg) {
        if (arg == null) {
            throw new IllegalArgumentException("initializer '" + text + "' needs a value, e.g. normal:0.01");
        }
        try {
            return Double.parseDouble(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("initializer '" + text + "': '" + arg + "' is not a number", e);
        }
    }

    private static int fan(int fanIn, int fanOut, FanMode mode) {
        return mode == FanMode.FAN_IN ? fanIn : fanOut;
    }

    private static void requireNonNegative(String what, double v) {
        if (!(v >= 0.0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("initializer " + what + " must be finite and >= 0, was " + v);
        }
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    @FunctionalInterface
    private interface Fill {
        void fill(MemorySegment params, long offset, int count, int fanIn, int fanOut, SplittableRandom rng);
    }

    private record Named(String describe, Fill filler) implements Initializer {
        @Override
        public void fill(MemorySegment params, long offset, int count, int fanIn, int fanOut, SplittableRandom rng) {
            filler.fill(params, offset, count, fanIn, fanOut, rng);
        }

        @Override
        public String toString() {
            return describe;
        }
    }
}
