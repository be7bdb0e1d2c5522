package dev.descent.engine.actor;

import org.apache.pekko.actor.typed.Behavior;

/**
 * Places a sync job's workers outside this JVM (e.g. on cluster nodes): the supervisor spawns
 * {@link #worker(Worker.Setup)} instead of a local {@link Worker}. The behavior speaks the worker's protocol towards
 * the job's {@link DataLoader} and {@link GradientAggregator} and receives whatever its transport needs.
 */
public interface RemoteWorkers {
    /** The actor standing in for logical worker {@code setup.index()} (never called for one that {@link #runsHere}). */
    Behavior<Object> worker(Worker.Setup setup);

    /** True: logical worker {@code worker} is an ordinary local {@link Worker} of the submitting JVM. */
    default boolean runsHere(int worker) {
        return false;
    }

    /** One line for logs (where the workers run). */
    String describe();
}
