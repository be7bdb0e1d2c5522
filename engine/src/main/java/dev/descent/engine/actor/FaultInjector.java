package dev.descent.engine.actor;

/**
 * Test hook for fault injection: called by a worker before it computes its shard of a step; throwing simulates a
 * worker crash (the worker is restarted and the step retried), sleeping a stall. {@code attempt} is 0 for the first
 * try. {@link #beforeCheckpointWrite} injects disk faults.
 */
@FunctionalInterface
public interface FaultInjector {
    FaultInjector NONE = (worker, step, attempt) -> { };

    void beforeShard(int worker, long step, int attempt) throws Exception;

    /**
     * Called by the checkpoint store before it writes the checkpoint of {@code step}; throwing simulates a failed
     * write (a full disk: {@code IOException("No space left on device")}, a lost mount). Default: nothing.
     */
    default void beforeCheckpointWrite(long step) throws java.io.IOException {
    }
}
