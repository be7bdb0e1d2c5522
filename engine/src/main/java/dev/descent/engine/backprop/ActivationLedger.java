package dev.descent.engine.backprop;

/**
 * Exact per-step accounting of what a backprop strategy holds: bytes of forward values (nodes x_j of
 * [batch, size_j] floats and module workspaces) live at each moment, their peak, and the number of module
 * forward evaluations. The executor calls {@link #hold}/{@link #release} at the moments the strategy starts
 * and stops needing a value (physical buffers are preallocated; this counts what the strategy must keep).
 * The input x_0 is counted; activation gradients (two ping-pong buffers of the widest node, the same for every
 * strategy) are not — see {@link BackpropExecutor#gradientBufferBytes(int)}.
 */
public final class ActivationLedger {
    private long current;
    private long peak;
    private long evaluations;

    void begin() {
        current = 0;
        peak = 0;
        evaluations = 0;
    }

    void hold(long bytes) {
        current += bytes;
        if (current > peak) {
            peak = current;
        }
    }

    void release(long bytes) {
        current -= bytes;
        if (current < 0) {
            throw new IllegalStateException("activation ledger went negative: " + current);
        }
    }

    void evaluated() {
        evaluations++;
    }

    /** Bytes live now. */
    public long currentBytes() {
        return current;
    }

    /** Peak live bytes of the current/last step. */
    public long peakBytes() {
        return peak;
    }

    /** Module forward evaluations of the current/last step (recomputes included). */
    public long forwardEvaluations() {
        return evaluations;
    }
}
