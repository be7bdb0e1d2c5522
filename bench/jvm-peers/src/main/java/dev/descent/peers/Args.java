package dev.descent.peers;

import java.util.HashMap;
import java.util.Map;

/** {@code --key value} pairs. */
final class Args {
    private final Map<String, String> map = new HashMap<>();

    Args(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --key value pairs, got " + argv[i]);
            }
            map.put(argv[i].substring(2), argv[++i]);
        }
    }

    String str(String key, String def) {
        return map.getOrDefault(key, def);
    }

    int integer(String key, int def) {
        return Integer.parseInt(str(key, Integer.toString(def)));
    }

    double real(String key, double def) {
        return Double.parseDouble(str(key, Double.toString(def)));
    }

    int[] widths() {
        String w = str("widths", "256,128");
        if (w.isBlank()) {
            return new int[0];
        }
        String[] parts = w.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Integer.parseInt(parts[i].trim());
        }
        return out;
    }
}
