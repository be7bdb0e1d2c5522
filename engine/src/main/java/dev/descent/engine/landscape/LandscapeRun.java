package dev.descent.engine.landscape;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.BooleanSupplier;

/**
 * Runs a projection through a {@link PointScheduler}, streaming each result to a listener and (optionally) to a
 * {@link PartialResults} file, so that a run that is interrupted resumes where it stopped:
 *
 * <pre>{@code
 * LandscapeResult r = LandscapeRun.run(projection, new ActorScheduler(factory, 2),
 *         out.resolve("points.partial.csv"), fingerprint, false, listener, () -> false);
 * }</pre>
 *
 * Because a point's result depends only on the point (see {@link PointEvaluator}), the numbers of a resumed run are
 * exactly those of an uninterrupted one.
 */
public final class LandscapeRun {
    /** Called on the scheduler's thread (the coordinator actor's), one call at a time, as points finish. */
    @FunctionalInterface
    public interface Listener {
        /** {@code done} of {@code total} points are finished (resumed ones included); {@code last} just arrived. */
        void onPoint(int done, int total, PointResult last);

        Listener NONE = (done, total, last) -> {
        };
    }

    private LandscapeRun() {
    }

    /**
     * @param partial     the partial-results file, or null to keep nothing on disk
     * @param fingerprint every setting that changes the numbers, as text (checked on resume)
     * @param fresh       ignore (overwrite) partial results of an earlier run
     * @param cancelled   polled between points: true stops the run early (the result is then incomplete)
     */
    public static LandscapeResult run(Projection projection, PointScheduler scheduler, Path partial, String fingerprint,
                                      boolean fresh, Listener listener, BooleanSupplier cancelled) throws IOException {
        int total = projection.points();
        PointResult[] results = new PointResult[total];
        PartialResults file = partial == null ? null : PartialResults.open(partial, fingerprint, total, fresh);
        try {
            int resumed = 0;
            if (file != null) {
                for (PointResult r : file.loaded()) {
                    if (results[r.index()] == null) {
                        resumed++;
                    }
                    results[r.index()] = r;
                }
            }
            int[] pending = new int[total - resumed];
            int n = 0;
            for (int k = 0; k < total; k++) {
                if (results[k] == null) {
                    pending[n++] = k;
                }
            }
            int[] done = {resumed};
            int[] evaluated = {0};
            long t0 = System.nanoTime();
            scheduler.run(projection, pending, r -> {
                results[r.index()] = r;
                evaluated[0]++;
                done[0]++;
                if (file != null) {
                    try {
                        file.append(r);
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot append to " + file.path() + ": " + e.getMessage(), e);
                    }
                }
                listener.onPoint(done[0], total, r);
            }, cancelled);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new LandscapeResult(projection, results, resumed, evaluated[0], seconds, scheduler.evaluators());
        } finally {
            if (file != null) {
                file.close();
            }
        }
    }
}
