package dev.descent.engine.landscape;

import dev.descent.engine.backprop.BackpropExecutor;
import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;

/**
 * Mean loss, accuracy and (optionally) the gradient of the mean loss of a model over a whole dataset, at whatever
 * parameters the model holds, in batches straight from the dataset's rows. Eval mode (Dropout off); BatchNorm uses
 * its running statistics ({@link BnMode#RUNNING}) or each batch's statistics with the running ones frozen
 * ({@link BnMode#RECOMPUTE}). One thread's worth of state: its own activation slab and loss workspace.
 */
final class LossProbe implements AutoCloseable {
    private final Model model;
    private final KernelBackend kernels;
    private final int batchSize;
    private final BackpropExecutor executor;
    private final Loss loss;
    private final ExecutionContext ctx;
    private double lastLoss;
    private double lastAccuracy;

    /** @param gradients true: keep what backward needs (vanilla strategy); false: forward only, two scratch nodes. */
    LossProbe(Model model, KernelBackend kernels, LossKind lossKind, int batchSize, BnMode bn, boolean gradients) {
        if (bn == BnMode.RECOMPUTE) {
            if (ModelState.hasDropout(model)) {
                throw new IllegalArgumentException("BatchNorm mode 'recompute' runs training-mode forwards, which "
                        + "would turn this model's Dropout on; use BatchNorm mode 'running'");
            }
            BatchNorm.freezeStatistics(model, true);
        }
        this.model = model;
        this.kernels = kernels;
        this.batchSize = batchSize;
        this.executor = gradients ? new BackpropExecutor(model, BackpropStrategy.VANILLA, batchSize)
                : BackpropExecutor.forwardOnly(model, batchSize);
        Loss l;
        try {
            l = lossKind.create(batchSize, model.outputSize());
        } catch (RuntimeException | Error e) {
            executor.close();
            throw e;
        }
        this.loss = l;
        this.ctx = new ExecutionContext(kernels).threads(1).training(bn == BnMode.RECOMPUTE);
    }

    /** Evaluates the data; returns the mean loss (accuracy in {@link #lastAccuracy()}). */
    double evaluate(Dataset data) {
        return run(data, null);
    }

    /**
     * Evaluates the data and writes the gradient of the mean loss into {@code grad} (the parameter layout); uses the
     * model's gradient slab as scratch. Returns the mean loss.
     */
    double gradient(Dataset data, MemorySegment grad) {
        grad.asSlice(0, model.params().byteSize()).fill((byte) 0);
        return run(data, grad);
    }

    private double run(Dataset data, MemorySegment grad) {
        if (data.featureSize() != model.inputSize()) {
            throw new IllegalArgumentException("dataset " + data.name() + " has " + data.featureSize()
                    + " features per sample, the model expects " + model.inputSize());
        }
        MemorySegment f = data.features().segment();
        MemorySegment y = data.labels().segment();
        MemorySegment g = model.grads().segment();
        long total = model.params().floatCount();
        int count = data.count();
        double lossSum = 0;
        long correct = 0;
        for (int start = 0; start < count; start += batchSize) {
            int rows = Math.min(batchSize, count - start);
            executor.forward(ctx, f, (long) start * data.featureSize(), rows);
            MemorySegment out = executor.segment();
            long outOff = executor.outputOffset();
            lossSum += loss.forward(kernels, out, outOff, y, start, rows) * rows;
            correct += Loss.correct(out, outOff, y, start, rows, model.outputSize());
            if (grad != null) {
                loss.backward(kernels, executor.outputGradient(), executor.outputGradientOffset(), y, start, rows);
                executor.backward(ctx);
                kernels.axpy(grad, 0, (float) rows / count, g, 0, total);
            }
        }
        lastLoss = count == 0 ? Double.NaN : lossSum / count;
        lastAccuracy = count == 0 ? Double.NaN : (double) correct / count;
        return lastLoss;
    }

    double lastLoss() {
        return lastLoss;
    }

    double lastAccuracy() {
        return lastAccuracy;
    }

    @Override
    public void close() {
        executor.close();
        loss.close();
    }
}
