package dev.descent.engine.actor;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.train.TrainingStep;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The update half of a step, shared by {@link GradientAggregator} and {@link ParameterServer}: clipping, one
 * optimizer step on the job's parameter slab from its gradient slab (the same calls, in the same order, as
 * {@link TrainingStep}), and every N steps the per-layer gradient norms and update ratios. Allocates only on
 * statistics steps (the event).
 */
final class Updater implements AutoCloseable {
    private final String job;
    private final Model model;
    private final OptimizerState optimizer;
    private final LrSchedule schedule;
    private final KernelBackend kernels;
    private final double clipNorm;
    private final int statsEvery;
    private final int parts;
    private final List<String> layerNames;
    private final OffHeapBlock before; // parameters before a statistics step's update; null when stats are off
    private double lastLr;
    private double lastNorm = Double.NaN;
    private TrainingEvent.GradientStats lastStats;

    Updater(JobSpec spec, OptimizerState optimizer, LrSchedule resolved) {
        this.job = spec.name();
        this.model = spec.model();
        this.optimizer = optimizer;
        this.schedule = resolved;
        this.kernels = spec.kernels();
        this.clipNorm = spec.clipNorm();
        this.statsEvery = spec.gradientStatsEverySteps();
        // sync workers wait while the step is applied: split the elementwise update over the cores they free
        this.parts = spec.mode() == JobSpec.Mode.SYNC ? Math.min(spec.workers(), Kernels.pool().size()) : 1;
        this.layerNames = model.parameterLayerNames();
        this.before = statsEvery > 0 ? OffHeapBlock.allocate(model.params().byteSize(), Purpose.WORKSPACE) : null;
    }

    /** Applies the update of optimizer step {@code step} from the model's gradient slab. */
    void apply(long step) {
        boolean stats = statsStep(step);
        MemorySegment g = model.grads().segment();
        long total = model.layout().totalFloats();
        double norm = TrainingStep.clipGradients(kernels, g, total, clipNorm, stats);
        double[] gradNorms = null;
        if (stats) {
            gradNorms = model.layerGradientNorms(kernels, new double[layerNames.size()]);
            MemorySegment.copy(model.params().segment(), 0, before.segment(), 0, before.byteSize());
        }
        double lr = schedule.lr(step);
        optimizer.step(kernels, (float) lr, Kernels.pool(), parts);
        lastLr = lr;
        lastNorm = norm;
        lastStats = null;
        if (stats) {
            lastStats = new TrainingEvent.GradientStats(job, step + 1, layerNames, gradNorms, updateRatios(), norm);
        }
    }

    /**
     * True when step {@code step} may be applied by {@link #apply(long, OptimizerState.GradientSource)}: nothing
     * needs the whole gradient before the update (no clipping, no statistics) and no tensor is frozen.
     */
    boolean takesGradientInBlocks(long step) {
        return clipNorm <= 0 && !statsStep(step) && optimizer.interleavesGradient();
    }

    /**
     * Applies the update of step {@code step}, {@code source} writing each block of the gradient slab just before
     * the block is updated; bit-identical to writing the whole slab and then {@link #apply(long)}. Only when
     * {@link #takesGradientInBlocks} is true.
     */
    void apply(long step, OptimizerState.GradientSource source) {
        double lr = schedule.lr(step);
        optimizer.step(kernels, (float) lr, Kernels.pool(), parts, source);
        lastLr = lr;
        lastNorm = Double.NaN; // what clipGradients reports when it neither clips nor measures
        lastStats = null;
    }

    private boolean statsStep(long step) {
        return statsEvery > 0 && (step + 1) % statsEvery == 0;
    }

    private double[] updateRatios() {
        MemorySegment p = model.params().segment();
        MemorySegment d = before.segment();
        kernels.axpy(d, 0, -1f, p, 0, model.layout().totalFloats()); // d = before - after
        double[] delta = new double[layerNames.size()];
        double[] weight = new double[layerNames.size()];
        int slot = -1;
        int lastLayer = -1;
        for (ParameterLayout.Entry e : model.layout().entries()) {
            if (e.layerIndex() != lastLayer) {
                slot++;
                lastLayer = e.layerIndex();
            }
            delta[slot] += kernels.sumSquares(d, e.offset(), e.count());
            weight[slot] += kernels.sumSquares(p, e.offset(), e.count());
        }
        for (int i = 0; i < delta.length; i++) {
            delta[i] = weight[i] == 0 ? 0 : Math.sqrt(delta[i]) / Math.sqrt(weight[i]);
        }
        return delta;
    }

    double lastLearningRate() {
        return lastLr;
    }

    double lastGradientNorm() {
        return lastNorm;
    }

    /** The statistics event of the last step, or null when it was not a statistics step. */
    TrainingEvent.GradientStats lastStats() {
        return lastStats;
    }

    LrSchedule schedule() {
        return schedule;
    }

    @Override
    public void close() {
        if (before != null) {
            before.close();
        }
    }
}
