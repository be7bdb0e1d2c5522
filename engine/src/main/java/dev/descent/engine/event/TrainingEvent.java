package dev.descent.engine.event;

import java.util.List;

/**
 * What a training job reports while it runs. The engine publishes these; it never calls a metrics library.
 * Listeners (SDK user code, the Micrometer binder in descent-monitoring) receive them in order per job.
 * Every event names its {@code job} and the optimizer {@code step} it belongs to (0 before the first step).
 */
public sealed interface TrainingEvent {
    /** The job's name (a bounded label: one per job, never per step). */
    String job();

    /** The optimizer step this event belongs to. */
    long step();

    /** One optimizer step finished. {@code examples} is the batch size; {@code loss} the batch's mean loss. */
    record StepCompleted(String job, long step, int epoch, double loss, double learningRate, int examples,
                         double seconds) implements TrainingEvent {
    }

    /**
     * Gradient health after a step (published every N steps): per-layer L2 norm of the gradient, and the
     * ratio ‖Δw‖/‖w‖ of the update each layer received. {@code layers}, {@code gradientNorms} and
     * {@code updateRatios} have the same length, first layer first.
     */
    record GradientStats(String job, long step, List<String> layers, double[] gradientNorms, double[] updateRatios,
                         double globalGradientNorm) implements TrainingEvent {
        public GradientStats {
            layers = List.copyOf(layers);
            if (gradientNorms.length != layers.size() || updateRatios.length != layers.size()) {
                throw new IllegalArgumentException("gradient stats for " + layers.size() + " layers but "
                        + gradientNorms.length + " norms and " + updateRatios.length + " update ratios");
            }
        }

        /** One readable line: {@code GradientStats[job=j, step=7, global=0.412, fc1: norm=0.31 update=1.2e-03, ...]}. */
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(64 + 40 * layers.size()).append("GradientStats[job=").append(job)
                    .append(", step=").append(step).append(", global=")
                    .append(String.format(java.util.Locale.ROOT, "%.4g", globalGradientNorm));
            for (int i = 0; i < layers.size(); i++) {
                sb.append(", ").append(layers.get(i)).append(String.format(java.util.Locale.ROOT,
                        ": norm=%.4g update=%.3g", gradientNorms[i], updateRatios[i]));
            }
            return sb.append(']').toString();
        }
    }

    /**
     * The gradient noise scale B_simple = tr(Σ)/‖G‖² (McCandlish et al. 2018), in examples, estimated from the
     * {@code units} per-worker or per-micro-batch gradients of the steps' batches of {@code batch} rows, each
     * half smoothed by a moving average ({@code dev.descent.engine.train.GradientNoiseScale}). NaN while the
     * smoothed ‖G‖² is not positive. A batch much smaller than B_simple wastes steps on noise; one much larger
     * wastes examples (the critical batch size is about B_simple).
     */
    record GradientNoiseScale(String job, long step, double noiseScale, double traceCovariance,
                              double gradientSquaredNorm, int units, int batch) implements TrainingEvent {
    }

    /** An epoch of training finished: mean training loss/accuracy over the epoch and its throughput. */
    record EpochCompleted(String job, long step, int epoch, double trainLoss, double trainAccuracy, double seconds,
                          double examplesPerSecond) implements TrainingEvent {
    }

    /** A split (train, test, validation) was evaluated in eval mode. */
    record EvaluationCompleted(String job, long step, int epoch, String split, double loss, double accuracy)
            implements TrainingEvent {
    }

    /** Activation memory of backprop under a strategy: exact peak live bytes and forward layer evaluations. */
    record BackpropMemory(String job, long step, String strategy, long peakActivationBytes, long forwardEvaluations)
            implements TrainingEvent {
    }

    /** A checkpoint was written. */
    record CheckpointWritten(String job, long step, String path, long bytes, double seconds) implements TrainingEvent {
    }

    /** Something went wrong that a user should see (NaN loss, exploding gradient, retried worker). */
    record Anomaly(String job, long step, String kind, String message) implements TrainingEvent {
    }
}
