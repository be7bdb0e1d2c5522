package dev.descent.engine.actor;

/**
 * Test hook: called by a worker before it computes its shard of a step; throwing simulates a worker crash (the
 * worker is restarted and the step retried). {@code attempt} is 0 for the first try.
 */
@FunctionalInterface
public interface FaultInjector {
    FaultInjector NONE = (worker, step, attempt) -> { };

    void beforeShard(int worker, long step, int attempt) throws Exception;
}
