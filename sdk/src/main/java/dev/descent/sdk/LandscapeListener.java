package dev.descent.sdk;

/**
 * Progress of a landscape run, called as points finish, one call at a time, on an evaluator-coordinating thread
 * (keep it quick). A listener that throws is logged and skipped.
 */
@FunctionalInterface
public interface LandscapeListener {
    /** {@code done} of {@code total} points are finished (points resumed from a partial file included). */
    void onPoint(int done, int total, LandscapePoint last);
}
