package dev.descent.sdk.plot;

import java.awt.Color;

/** Perceptually uniform colour map (viridis, from its published anchor colours) for heatmaps and surfaces. */
public final class ColorMaps {
    private static final int[] VIRIDIS = {
        0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21908D, 0x22A884, 0x43BF71, 0x7AD151, 0xBBDF27, 0xFDE725
    };

    private ColorMaps() {
    }

    /** Viridis at {@code t} in [0, 1] (clamped; NaN gives light grey). */
    public static Color viridis(double t) {
        if (Double.isNaN(t)) {
            return new Color(0xDDDDDD);
        }
        double u = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int i = Math.min(VIRIDIS.length - 2, (int) Math.floor(u));
        double f = u - i;
        int a = VIRIDIS[i];
        int b = VIRIDIS[i + 1];
        return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
    }

    private static int mix(int a, int b, double f) {
        int x = a & 0xFF;
        int y = b & 0xFF;
        return (int) Math.round(x + (y - x) * f);
    }
}
