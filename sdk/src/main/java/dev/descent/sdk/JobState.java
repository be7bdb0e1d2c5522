package dev.descent.sdk;

/** Lifecycle of a {@link TrainingJob}. */
public enum JobState {
    STARTING,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    /** True once the job can change no more. */
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
