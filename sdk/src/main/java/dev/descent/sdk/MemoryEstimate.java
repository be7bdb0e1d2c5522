package dev.descent.sdk;

import dev.descent.engine.nn.Model;

/**
 * About how many off-heap bytes a {@link TrainingPlan} needs while it runs, not counting its datasets (a service
 * that shares one copy of a dataset between jobs counts it once): parameters, gradients of every worker, the last
 * good model, optimizer moments, checkpoint staging, evaluator copies, activations and layer workspaces of every
 * worker and evaluator (as the vanilla backprop executor lays them out, an upper bound for the memory-saving
 * strategies), and the batch pool. For admission control: compare {@link #totalBytes()} with a budget before
 * {@link DescentEngine#submit}.
 *
 * @param parameterBytes  parameters, per-worker gradients, last good model, evaluator copies
 * @param optimizerBytes  optimizer moments and checkpoint staging
 * @param activationBytes activations, activation gradients and workspaces of all workers and evaluators
 * @param batchBytes      the batch pool (inputs and labels, triple-buffered per worker)
 */
public record MemoryEstimate(long parameterBytes, long optimizerBytes, long activationBytes, long batchBytes) {

    public long totalBytes() {
        return parameterBytes + optimizerBytes + activationBytes + batchBytes;
    }

    /**
     * The estimate for {@code plan} run by {@code workers} workers (the plan's own worker count wins when it sets
     * one). Builds the model once to measure it (a few milliseconds; its memory is freed before returning).
     */
    public static MemoryEstimate of(TrainingPlan plan, int workers) {
        int w = Math.max(1, plan.workers > 0 ? plan.workers : workers);
        try (Model m = plan.model.instantiate()) {
            long p = m.params().byteSize();
            int moments = Math.max(1, plan.optimizer.engine().momentSlabs());
            long params = Math.multiplyExact(p, 2L + w + plan.evaluators);
            long optimizer = Math.multiplyExact(p, moments + (plan.checkpointEvery > 0 ? 1L + moments : 0L));
            long activations = Math.addExact(Math.multiplyExact(w, activationBytes(m, plan.batchSize)),
                    Math.multiplyExact(plan.evaluators, activationBytes(m, plan.evalBatchSize)));
            long batches = Math.multiplyExact(3L * w * Float.BYTES, (long) plan.batchSize * (m.inputSize() + 1));
            return new MemoryEstimate(params, optimizer, activations, batches);
        }
    }

    /** One executor's activation slab for {@code batch} rows: every node, every workspace, two gradient buffers. */
    private static long activationBytes(Model m, int batch) {
        long floats = 0;
        long widest = 0;
        for (int j = 1; j <= m.layerCount(); j++) {
            floats = Math.addExact(floats, align((long) batch * m.nodeSize(j)));
            widest = Math.max(widest, m.nodeSize(j));
        }
        for (int i = 0; i < m.layerCount(); i++) {
            floats = Math.addExact(floats, align(m.layer(i).workspaceFloats(batch)));
        }
        floats = Math.addExact(floats, 2 * align(batch * widest) + 2L * batch * (m.outputSize() + 1)); // + loss
        return Math.multiplyExact(floats, (long) Float.BYTES);
    }

    private static long align(long floats) {
        return (floats + 15) / 16 * 16;
    }
}
