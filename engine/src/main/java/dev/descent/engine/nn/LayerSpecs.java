package dev.descent.engine.nn;

import dev.descent.engine.kernel.Activation;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Parses the specs of the layers beyond the MLP (conv, pooling, norms, residual, attention ...), including the
 * nested ones: {@code residual skip [linear 64; activation relu; linear 64] proj [linear 64]}. Other kinds are
 * left to {@link ModuleSpecs}.
 */
public final class LayerSpecs {
    private LayerSpecs() {
    }

    /** Parses any module spec: these layers here, the others through {@link ModuleSpecs}. */
    public static Module parse(String line) {
        Module m = parseOwn(line);
        return m != null ? m : ModuleSpecs.parse(line);
    }

    /** Parses a spec of one of these layers, or returns null when the kind is not one of them. */
    public static Module parseOwn(String line) {
        String s = line.strip();
        int sp = s.indexOf(' ');
        String head = sp < 0 ? s : s.substring(0, sp);
        String rest = sp < 0 ? "" : s.substring(sp + 1).strip();
        String[] t = rest.isEmpty() ? new String[0] : rest.split("\\s+");
        try {
            return switch (head) {
                case "conv2d" -> new Conv2d(i(t[0]), i(t[1]), i(t[2]), i(t[3]));
                case "maxpool2d" -> new MaxPool2d(i(t[0]), i(t[1]), i(t[2]));
                case "avgpool2d" -> new AvgPool2d(i(t[0]), i(t[1]), i(t[2]));
                case "globalavgpool" -> new GlobalAvgPool();
                case "batchnorm" -> new BatchNorm(Double.parseDouble(t[0]), Double.parseDouble(t[1]));
                case "layernorm" -> new LayerNorm(Double.parseDouble(t[0]));
                case "embedding" -> new Embedding(i(t[0]), i(t[1]));
                case "attention" -> new CausalSelfAttention(i(t[0]));
                case "lasttoken" -> new LastToken();
                case "transformer" -> new TransformerBlock(i(t[0]), i(t[1]),
                        Activation.valueOf(t[2].toUpperCase(Locale.ROOT)), t[3].equals("pre"));
                case "pertoken" -> {
                    List<Module> inner = list(rest, 0);
                    if (inner.size() != 1) {
                        throw new IllegalArgumentException("pertoken wraps exactly one module");
                    }
                    yield new PerToken(inner.get(0));
                }
                case "residual" -> residual(rest);
                default -> null;
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad module spec '" + line + "': " + e.getMessage(), e);
        }
    }

    private static int i(String s) {
        return Integer.parseInt(s);
    }

    private static Residual residual(String rest) {
        boolean skip;
        if (rest.startsWith("skip ")) {
            skip = true;
        } else if (rest.startsWith("noskip ")) {
            skip = false;
        } else {
            throw new IllegalArgumentException("expected 'skip' or 'noskip'");
        }
        int open = rest.indexOf('[');
        int close = matching(rest, open);
        List<Module> body = list(rest, open);
        String tail = rest.substring(close + 1).strip();
        Module proj = null;
        if (tail.startsWith("proj")) {
            List<Module> p = list(tail, tail.indexOf('['));
            proj = p.get(0);
        } else if (!tail.isEmpty()) {
            throw new IllegalArgumentException("unexpected '" + tail + "'");
        }
        return new Residual(skip, proj, body);
    }

    private static int matching(String s, int open) {
        if (open < 0 || s.charAt(open) != '[') {
            throw new IllegalArgumentException("expected '['");
        }
        int depth = 0;
        for (int j = open; j < s.length(); j++) {
            char ch = s.charAt(j);
            if (ch == '[') {
                depth++;
            } else if (ch == ']' && --depth == 0) {
                return j;
            }
        }
        throw new IllegalArgumentException("unbalanced '['");
    }

    /** Parses {@code [a; b; ...]} starting at {@code open}, splitting on top-level semicolons. */
    private static List<Module> list(String s, int open) {
        int close = matching(s, open);
        List<Module> out = new ArrayList<>();
        int depth = 0;
        int start = open + 1;
        for (int j = open + 1; j <= close; j++) {
            char ch = s.charAt(j);
            if (ch == '[') {
                depth++;
            } else if (ch == ']' && depth > 0) {
                depth--;
            } else if ((ch == ';' && depth == 0) || j == close) {
                String part = s.substring(start, j).strip();
                if (!part.isEmpty()) {
                    out.add(parse(part));
                }
                start = j + 1;
            }
        }
        return out;
    }
}
