package dev.descent.samples.service;

import java.util.HashMap;
import java.util.Map;

/**
 * Admission control of the service: a job is admitted only if its estimated off-heap bytes, plus its datasets when
 * no running job holds them yet, fit the memory budget beside the jobs already admitted, and fewer than the maximum
 * number of jobs run. Reserve and release are atomic, so concurrent submits cannot both take the last of the budget.
 */
final class Admission {
    /** What one admitted job holds; give it back with {@link #release}. */
    record Ticket(long jobBytes, String dataset, long datasetBytes) {
    }

    private final long budgetBytes;
    private final int maxJobs;
    private final Map<String, Integer> datasetUsers = new HashMap<>();
    private long reservedBytes;
    private int jobs;

    Admission(long budgetBytes, int maxJobs) {
        this.budgetBytes = budgetBytes;
        this.maxJobs = maxJobs;
    }

    /** Reserves or throws a 4xx {@link JobService.HttpError} saying why not. */
    synchronized Ticket reserve(long jobBytes, String dataset, long datasetBytes) {
        if (jobs >= maxJobs) {
            throw new JobService.HttpError(io.netty.handler.codec.http.HttpResponseStatus.TOO_MANY_REQUESTS,
                    maxJobs + " jobs are running, the most this service admits; retry when one has finished");
        }
        long data = datasetUsers.containsKey(dataset) ? 0 : datasetBytes;
        long need = jobBytes + data;
        if (need > budgetBytes - reservedBytes) {
            throw new JobService.HttpError(io.netty.handler.codec.http.HttpResponseStatus.UNPROCESSABLE_ENTITY,
                    "the job needs about " + mib(need) + " MiB (" + mib(jobBytes) + " MiB for the job"
                            + (data > 0 ? ", " + mib(data) + " MiB for dataset " + dataset : "") + ") but only "
                            + mib(budgetBytes - reservedBytes) + " MiB of the service's " + mib(budgetBytes)
                            + " MiB budget are free; use a smaller batch, fewer workers or a smaller model");
        }
        reservedBytes += need;
        jobs++;
        datasetUsers.merge(dataset, 1, Integer::sum);
        return new Ticket(jobBytes, dataset, datasetBytes);
    }

    synchronized void release(Ticket t) {
        reservedBytes -= t.jobBytes();
        jobs--;
        if (datasetUsers.merge(t.dataset(), -1, Integer::sum) == 0) {
            datasetUsers.remove(t.dataset());
            reservedBytes -= t.datasetBytes();
        }
    }

    synchronized long reservedBytes() {
        return reservedBytes;
    }

    synchronized int jobs() {
        return jobs;
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }
}
