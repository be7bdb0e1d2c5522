package dev.descent.engine.backprop;

import java.util.Locale;

/**
 * How much of the forward pass backprop keeps (Chen et al. 2016, "Training deep nets with sublinear memory
 * cost"). For a chain of n modules with nodes x_0 (input) .. x_n (output):
 * <ul>
 *   <li>{@link #VANILLA}: keep every node; n forward evaluations; memory ∝ n.</li>
 *   <li>{@link #RECOMPUTE} (memory-poor): keep only x_0; before the backward of module i rebuild x_i from x_0
 *       (i evaluations): n + (n-1)(n-2)/2 ≈ n²/2 evaluations; O(1) nodes live.</li>
 *   <li>{@link #checkpointed(int) CHECKPOINTED(k)}: keep every k-th node (default k = ceil(sqrt n)); during
 *       backward rebuild each segment once from its checkpoint: about n + (n/k - 1)(k - 1) evaluations;
 *       about n/k + k nodes live (∝ sqrt n at the default).</li>
 * </ul>
 * All three run the same kernels in the same order on the same values, so gradients are bitwise identical.
 */
public sealed interface BackpropStrategy {
    BackpropStrategy VANILLA = new Vanilla();
    BackpropStrategy RECOMPUTE = new Recompute();

    /** Checkpoint every ceil(sqrt(n)) nodes. */
    static BackpropStrategy checkpointed() {
        return new Checkpointed(0);
    }

    /** Checkpoint every {@code every} nodes ({@code every <= 0}: ceil(sqrt(n))). */
    static BackpropStrategy checkpointed(int every) {
        return new Checkpointed(every);
    }

    /** {@code vanilla}, {@code recompute}, {@code checkpointed}. */
    String name();

    /** The spelling {@link #parse} reads back: {@code vanilla}, {@code recompute}, {@code checkpointed[:K]}. */
    default String spelling() {
        return this instanceof Checkpointed c && c.every() > 0 ? name() + ":" + c.every() : name();
    }

    /**
     * Parses {@code vanilla}, {@code recompute} (also {@code memory-poor}), {@code checkpointed} or
     * {@code checkpointed:K}.
     */
    static BackpropStrategy parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("vanilla")) {
            return VANILLA;
        }
        if (t.equals("recompute") || t.equals("memory-poor")) {
            return RECOMPUTE;
        }
        if (t.equals("checkpointed")) {
            return checkpointed();
        }
        if (t.startsWith("checkpointed:")) {
            try {
                return checkpointed(Integer.parseInt(t.substring("checkpointed:".length())));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad checkpoint interval in '" + text + "'", e);
            }
        }
        throw new IllegalArgumentException("unknown backprop strategy '" + text
                + "'; expected vanilla, recompute or checkpointed[:K]");
    }

    record Vanilla() implements BackpropStrategy {
        @Override
        public String name() {
            return "vanilla";
        }
    }

    record Recompute() implements BackpropStrategy {
        @Override
        public String name() {
            return "recompute";
        }
    }

    /** @param every checkpoint interval in nodes; {@code <= 0} means ceil(sqrt(n)). */
    record Checkpointed(int every) implements BackpropStrategy {
        @Override
        public String name() {
            return "checkpointed";
        }

        /** The interval for a chain of {@code n} modules. */
        public int intervalFor(int n) {
            return every > 0 ? every : Math.max(1, (int) Math.ceil(Math.sqrt(n)));
        }
    }
}
