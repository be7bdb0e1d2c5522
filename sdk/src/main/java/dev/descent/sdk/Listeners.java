package dev.descent.sdk;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import java.util.Arrays;
import org.slf4j.Logger;

/**
 * Copy-on-write listener set whose dispatch allocates nothing: events go out on the job supervisor's thread once
 * per step, so a per-event iterator (as a {@code CopyOnWriteArrayList} hands out) would be allocation in a
 * per-step handler. Adding or removing copies the array; dispatch reads one volatile array.
 */
final class Listeners {
    private static final TrainingListener[] NONE = new TrainingListener[0];

    private volatile TrainingListener[] all = NONE;

    synchronized void add(TrainingListener listener) {
        TrainingListener[] a = all;
        TrainingListener[] b = Arrays.copyOf(a, a.length + 1);
        b[a.length] = listener;
        all = b;
    }

    synchronized boolean remove(TrainingListener listener) {
        TrainingListener[] a = all;
        for (int i = 0; i < a.length; i++) {
            if (a[i].equals(listener)) {
                TrainingListener[] b = new TrainingListener[a.length - 1];
                System.arraycopy(a, 0, b, 0, i);
                System.arraycopy(a, i + 1, b, i, a.length - i - 1);
                all = b;
                return true;
            }
        }
        return false;
    }

    /** Sends {@code e} to every listener; one that throws is logged ({@code owner} names whose) and skipped. */
    void dispatch(TrainingEvent e, Logger log, String owner) {
        TrainingListener[] a = all;
        for (TrainingListener l : a) {
            try {
                l.onEvent(e);
            } catch (RuntimeException ex) {
                log.warn("{}: listener {} threw on {}", owner, l, e.getClass().getSimpleName(), ex);
            }
        }
    }
}
