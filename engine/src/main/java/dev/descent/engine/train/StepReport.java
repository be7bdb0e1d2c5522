package dev.descent.engine.train;

import java.util.List;

/**
 * One training step.
 *
 * @param step               0-based optimizer step
 * @param epoch              0-based epoch
 * @param batchInEpoch       0-based batch index in the epoch
 * @param batchesPerEpoch    batches per epoch
 * @param loss               mean loss of this batch (before the update)
 * @param accuracy           accuracy of this batch (before the update)
 * @param learningRate       learning rate of this step
 * @param examplesPerSecond  training throughput of the epoch so far
 * @param gradientNorm       global gradient L2 norm before clipping (NaN unless clipping or norms requested)
 * @param layerNames         names of the parameter-owning layers ({@code 0:linear}); empty unless requested
 * @param layerGradientNorms per-layer gradient L2 norms, same order; empty unless requested
 */
public record StepReport(long step, int epoch, int batchInEpoch, int batchesPerEpoch, double loss, double accuracy,
                         double learningRate, double examplesPerSecond, double gradientNorm, List<String> layerNames,
                         double[] layerGradientNorms) {
}
