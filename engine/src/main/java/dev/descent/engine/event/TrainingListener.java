package dev.descent.engine.event;

/** Receives {@link TrainingEvent}s. Called on the training thread: keep it quick, never block. */
@FunctionalInterface
public interface TrainingListener {
    void onEvent(TrainingEvent event);

    /** A listener that ignores everything. */
    TrainingListener NONE = event -> { };
}
