package dev.descent.monitoring;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingEvent.Anomaly;
import dev.descent.engine.event.TrainingEvent.EpochCompleted;
import dev.descent.engine.event.TrainingEvent.EvaluationCompleted;
import dev.descent.engine.event.TrainingEvent.StepCompleted;
import dev.descent.engine.event.TrainingListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The status of every job seen in the events, for {@code GET /api/jobs}: last step, epoch, loss, accuracy per
 * split, state. A job is {@link State#RUNNING} from its first event; {@link State#STALLED} when no event came
 * for {@code stalledAfterMs}; {@link State#FINISHED} or {@link State#FAILED} once the host says so (the events
 * carry no end-of-job marker, so whoever runs the job reports its end through {@link #finished}/{@link #failed}).
 *
 * <p>Per-step updates are volatile writes into the job's entry (no allocation); the split maps change only on
 * epoch and evaluation events.
 */
public final class JobBoard implements TrainingListener {
    /** The life-cycle state of a job as the board sees it. */
    public enum State { RUNNING, STALLED, FINISHED, FAILED }

    /** One job's status at the time of {@link #snapshot()}. Non-finite numbers are reported as NaN. */
    public record JobStatus(String job, State state, long step, int epoch, double loss, Map<String, Double> lossBySplit,
                            Map<String, Double> accuracyBySplit, long examples, long anomalies, String lastAnomaly,
                            String message, long updatedAtMillis) {
    }

    private final Map<String, Entry> jobs = new ConcurrentHashMap<>();
    private final LongSupplier clockMillis;
    private final long stalledAfterMs;

    /** A board on the wall clock. */
    public JobBoard(long stalledAfterMs) {
        this(stalledAfterMs, System::currentTimeMillis);
    }

    /** A board on the given clock (tests). */
    public JobBoard(long stalledAfterMs, LongSupplier clockMillis) {
        if (stalledAfterMs <= 0) {
            throw new IllegalArgumentException("stalledAfterMs must be > 0: " + stalledAfterMs);
        }
        this.stalledAfterMs = stalledAfterMs;
        this.clockMillis = Objects.requireNonNull(clockMillis, "clockMillis");
    }

    @Override
    public void onEvent(TrainingEvent event) {
        Entry e = entry(event.job());
        e.step = Math.max(e.step, event.step());
        e.updatedAt = clockMillis.getAsLong();
        switch (event) {
            case StepCompleted s -> {
                e.epoch = s.epoch();
                e.loss = s.loss();
                e.examples += s.examples();
            }
            case EpochCompleted s -> {
                e.epoch = s.epoch();
                synchronized (e) {
                    e.lossBySplit.put(JobMeters.SPLIT_TRAIN, s.trainLoss());
                    e.accuracyBySplit.put(JobMeters.SPLIT_TRAIN, s.trainAccuracy());
                }
            }
            case EvaluationCompleted s -> {
                synchronized (e) {
                    e.lossBySplit.put(s.split(), s.loss());
                    e.accuracyBySplit.put(s.split(), s.accuracy());
                }
            }
            case Anomaly s -> {
                e.anomalies++;
                e.lastAnomaly = s.kind() + ": " + s.message();
            }
            default -> {
            }
        }
    }

    /** Marks a job as finished (it keeps its last values). */
    public void finished(String job) {
        Entry e = entry(job);
        e.state = State.FINISHED;
        e.updatedAt = clockMillis.getAsLong();
    }

    /** Marks a job as failed, with a message for the status page. */
    public void failed(String job, String message) {
        Entry e = entry(job);
        e.state = State.FAILED;
        e.message = message;
        e.updatedAt = clockMillis.getAsLong();
    }

    /** Forgets a job. */
    public void remove(String job) {
        jobs.remove(job);
    }

    /** Every job's status, sorted by name. */
    public List<JobStatus> snapshot() {
        long now = clockMillis.getAsLong();
        List<JobStatus> out = new ArrayList<>(jobs.size());
        for (Map.Entry<String, Entry> kv : jobs.entrySet()) {
            Entry e = kv.getValue();
            State state = e.state;
            long updated = e.updatedAt;
            if (state == State.RUNNING && now - updated > stalledAfterMs) {
                state = State.STALLED;
            }
            Map<String, Double> losses;
            Map<String, Double> accuracies;
            synchronized (e) {
                losses = new TreeMap<>(e.lossBySplit);
                accuracies = new TreeMap<>(e.accuracyBySplit);
            }
            out.add(new JobStatus(kv.getKey(), state, e.step, e.epoch, e.loss, losses, accuracies, e.examples,
                    e.anomalies, e.lastAnomaly, e.message, updated));
        }
        out.sort(Comparator.comparing(JobStatus::job));
        return out;
    }

    private Entry entry(String job) {
        Entry e = jobs.get(job);
        if (e == null) {
            e = jobs.computeIfAbsent(job, j -> new Entry());
        }
        return e;
    }

    /** Written by the job's (one) reporting thread, read by the HTTP thread. */
    private static final class Entry {
        volatile State state = State.RUNNING;
        volatile long step;
        volatile int epoch;
        volatile double loss = Double.NaN;
        volatile long examples;
        volatile long anomalies;
        volatile String lastAnomaly;
        volatile String message;
        volatile long updatedAt;
        final Map<String, Double> lossBySplit = new TreeMap<>();     // guarded by this
        final Map<String, Double> accuracyBySplit = new TreeMap<>(); // guarded by this
    }
}
