package dev.descent.engine.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What the GEMM needs to know about the CPU: its model (the key of a tuning file) and its cache sizes (the
 * default cache blocking). Read once from Linux: per-level caches from
 * {@code /sys/devices/system/cpu/cpu0/cache/index*} (level, type, size), else the {@code cache size} line of
 * {@code /proc/cpuinfo} (AMD reports the L2 per core there, Intel the L3), else defaults; the model from
 * {@code /proc/cpuinfo} ({@code model name}, {@code vendor_id}, {@code cpu family}, {@code model}; ARM:
 * {@code CPU implementer}/{@code CPU part}), else {@code os.arch}. Some VMs hide sysfs caches (this project's
 * Zen 5 machines do), hence the chain.
 *
 * @param arch        {@code os.arch}
 * @param model       human-readable model, e.g. {@code AMD EPYC (AuthenticAMD family 26 model 2)}
 * @param l1dBytes    L1 data cache per core, 0 when unknown
 * @param l2Bytes     L2 per core, 0 when unknown
 * @param l3Bytes     L3 (shared), 0 when unknown
 * @param cacheSource where the cache sizes came from: {@code sysfs}, {@code /proc/cpuinfo} or {@code unknown}
 */
public record CpuInfo(String arch, String model, long l1dBytes, long l2Bytes, long l3Bytes, String cacheSource) {
    private static final Path SYS_CACHE = Path.of("/sys/devices/system/cpu/cpu0/cache");
    private static final Path PROC_CPUINFO = Path.of("/proc/cpuinfo");

    private static final class Holder {
        static final CpuInfo DETECTED = detect(SYS_CACHE, PROC_CPUINFO, System.getProperty("os.arch", "unknown"));
    }

    /** This machine's CPU, detected once. */
    public static CpuInfo detected() {
        return Holder.DETECTED;
    }

    /**
     * A file-name-safe key of the model (lower case, [a-z0-9-]), e.g. {@code amd-epyc-authenticamd-family-26-model-2}.
     */
    public String key() {
        String k = model.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        return k.isEmpty() ? "unknown" : k;
    }

    /** True for an Intel CPU ({@code vendor_id} GenuineIntel in {@code /proc/cpuinfo}, kept in {@link #model}). */
    public boolean intel() {
        return model.contains("(GenuineIntel ");
    }

    /** e.g. {@code AMD EPYC (AuthenticAMD family 26 model 2), L1d 48 KiB, L2 1024 KiB (/proc/cpuinfo)}. */
    public String describe() {
        StringBuilder sb = new StringBuilder(model);
        if (l1dBytes > 0) {
            sb.append(", L1d ").append(l1dBytes >> 10).append(" KiB");
        }
        if (l2Bytes > 0) {
            sb.append(", L2 ").append(l2Bytes >> 10).append(" KiB");
        }
        if (l3Bytes > 0) {
            sb.append(", L3 ").append(l3Bytes >> 20).append(" MiB");
        }
        return sb.append(" (caches: ").append(cacheSource).append(')').toString();
    }

    /** Detection from the given sysfs cache folder and cpuinfo file (either may be missing); for tests. */
    static CpuInfo detect(Path sysCache, Path cpuinfo, String arch) {
        List<String> info = readLines(cpuinfo);
        String model = model(info, arch);
        long[] sys = sysfsCaches(sysCache);
        if (sys[1] > 0 || sys[2] > 0) {
            return new CpuInfo(arch, model, sys[0], sys[1], sys[2], "sysfs");
        }
        long size = parseSize(field(info, "cache size"));
        if (size > 0) {
            boolean intel = "GenuineIntel".equals(field(info, "vendor_id"));
            return intel ? new CpuInfo(arch, model, 0, 0, size, "/proc/cpuinfo")
                    : new CpuInfo(arch, model, 0, size, 0, "/proc/cpuinfo");
        }
        return new CpuInfo(arch, model, 0, 0, 0, "unknown");
    }

    private static String model(List<String> info, String arch) {
        String name = field(info, "model name");
        String vendor = field(info, "vendor_id");
        String family = field(info, "cpu family");
        String mdl = field(info, "model");
        if (name != null) {
            StringBuilder sb = new StringBuilder(name.replaceAll("\\s+", " "));
            if (vendor != null || family != null) {
                sb.append(" (").append(vendor == null ? "" : vendor + " ");
                sb.append("family ").append(family).append(" model ").append(mdl).append(')');
            }
            return sb.toString();
        }
        String impl = field(info, "CPU implementer");
        String part = field(info, "CPU part");
        if (impl != null || part != null) {
            return arch + " implementer " + impl + " part " + part;
        }
        return arch;
    }

    /** {L1d, L2, L3} bytes from sysfs index folders (0 for levels not found). */
    private static long[] sysfsCaches(Path dir) {
        long[] out = new long[3];
        for (int i = 0; i < 8; i++) {
            Path idx = dir.resolve("index" + i);
            String level = first(idx.resolve("level"));
            String type = first(idx.resolve("type"));
            long size = parseSize(first(idx.resolve("size")));
            if (level == null || type == null || size <= 0 || type.equals("Instruction")) {
                continue;
            }
            switch (level) {
                case "1" -> out[0] = size;
                case "2" -> out[1] = size;
                case "3" -> out[2] = size;
                default -> { }
            }
        }
        return out;
    }

    /** "1024 KB", "48K", "32768K", "1M", "2 MiB" -> bytes; 0 when absent or unparsable. */
    static long parseSize(String s) {
        if (s == null) {
            return 0;
        }
        String t = s.trim().toUpperCase(Locale.ROOT).replace(" ", "").replace("IB", "").replace("B", "");
        long mult = 1;
        if (t.endsWith("K")) {
            mult = 1L << 10;
        } else if (t.endsWith("M")) {
            mult = 1L << 20;
        } else if (t.endsWith("G")) {
            mult = 1L << 30;
        }
        String digits = mult == 1 ? t : t.substring(0, t.length() - 1);
        try {
            return Long.parseLong(digits) * mult;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The value of the first {@code key : value} line whose key is exactly {@code key}, or null. */
    private static String field(List<String> lines, String key) {
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                String v = line.substring(colon + 1).trim();
                return v.isEmpty() ? null : v;
            }
        }
        return null;
    }

    private static String first(Path p) {
        List<String> lines = readLines(p);
        return lines.isEmpty() ? null : lines.get(0).trim();
    }

    private static List<String> readLines(Path p) {
        try {
            return Files.isReadable(p) ? Files.readAllLines(p, StandardCharsets.UTF_8) : List.of();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }
}
