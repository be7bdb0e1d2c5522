package dev.descent.engine.nn;

import dev.descent.engine.kernel.Activation;
import java.util.Locale;

/** Parses the one-line module specs written by {@link Module#spec()}. */
public final class ModuleSpecs {
    private ModuleSpecs() {
    }

    public static Module parse(String line) {
        String[] t = line.strip().split("\\s+");
        try {
            return switch (t[0]) {
                case "linear" -> {
                    if (t.length > 3 || t.length == 3 && !t[2].equals("nobias")) {
                        throw new IllegalArgumentException("expected 'linear OUT' or 'linear OUT nobias'");
                    }
                    yield new Linear(Integer.parseInt(t[1]), t.length == 2);
                }
                case "activation" -> new ActivationLayer(Activation.valueOf(t[1].toUpperCase(Locale.ROOT)));
                case "dropout" -> new Dropout(Double.parseDouble(t[1]));
                case "flatten" -> new Flatten();
                default -> {
                    Module m = LayerSpecs.parseOwn(line);
                    if (m == null) {
                        throw new IllegalArgumentException("unknown module '" + t[0] + "'");
                    }
                    yield m;
                }
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad module spec '" + line + "': " + e.getMessage(), e);
        }
    }
}
