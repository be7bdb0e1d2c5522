package dev.descent.engine.nn;

import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Batch normalization per channel: 1-D over {@code [F]} samples (statistics over the batch), 2-D over
 * {@code [C, H, W]} samples (over batch and positions); any rank-2+ sample {@code [C, ...]} is normalized per
 * its first dimension.
 *
 * <p>Parameters: {@code gamma [C]}, the scale itself (a {@linkplain ParameterLayout.Builder#addScale scale tensor}:
 * every model starts it at 1 and initializers leave it there, while weight decay pulls it toward 0) and
 * {@code beta [C]}; both are bias-like tensors. Files written before this held γ−1 ({@code gamma_minus_1});
 * the model file and checkpoint readers convert them ({@link Model#upgradeLegacyScales}).
 *
 * <p>Modes:
 * <ul>
 *   <li>training ({@link ExecutionContext#isTraining()}): normalize with the batch statistics; update the running
 *       mean and (unbiased) variance with {@code momentum}, except during a recompute
 *       ({@link ExecutionContext#isRecompute()}) and while {@link #freezeStatistics frozen}: SAM's second pass and
 *       landscape probes use this so that evaluating a perturbed point leaves the statistics alone;</li>
 *   <li>eval: normalize with the running statistics (fixed affine map, so backward is dx = γ·rstd·dy).</li>
 * </ul>
 * The running statistics are buffers, not trainable parameters: they live in this module (two float arrays of C),
 * so no optimizer or weight decay ever touches them. They are part of the model's state through the buffer API
 * ({@link #bufferFloats()} = 2C: running mean [C], then running variance [C]), so model files, checkpoints and
 * snapshots carry them; {@link #runningMean()}, {@link #runningVar()} and {@link #setRunningStatistics} read and
 * set them one layer at a time. The update counter ({@link #statisticsUpdates()}) is diagnostic, not state.
 * Workspace: mean and 1/std used by the forward [2C].
 */
public final class BatchNorm implements Module {
    public static final double MOMENTUM_DEFAULT = 0.1;
    public static final double EPS_DEFAULT = 1e-5;

    private final float momentum;
    private final float eps;
    private int channels;
    int spatial;
    private float[] runningMean = new float[0];
    private float[] runningVar = new float[0];
    private volatile boolean frozen;
    private long updates;
    private int gammaIndex;
    private int betaIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long gOff; // [C] gamma
    private long bOff; // [C]

    public BatchNorm(double momentum, double eps) {
        if (!(momentum >= 0 && momentum <= 1) || !(eps > 0)) {
            throw new IllegalArgumentException("batchnorm: momentum must be in [0, 1] and eps > 0, was momentum="
                    + momentum + " eps=" + eps);
        }
        this.momentum = (float) momentum;
        this.eps = (float) eps;
    }

    public BatchNorm() {
        this(MOMENTUM_DEFAULT, EPS_DEFAULT);
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        channels = inputShape[0];
        spatial = Module.size(inputShape) / channels;
        runningMean = new float[channels];
        runningVar = new float[channels];
        Arrays.fill(runningVar, 1f);
        updates = 0;
        return inputShape.clone();
    }

    @Override
    public String spec() {
        return "batchnorm " + momentum + " " + eps;
    }

    @Override
    public String kind() {
        return "batchnorm";
    }

    public int channels() {
        return channels;
    }

    public float eps() {
        return eps;
    }

    /** While frozen, training-mode forwards still normalize with batch statistics but never update the running ones. */
    public BatchNorm freezeStatistics(boolean frozen) {
        this.frozen = frozen;
        return this;
    }

    public boolean statisticsFrozen() {
        return frozen;
    }

    /** Number of running-statistics updates so far (one per non-recompute training forward while not frozen). */
    public long statisticsUpdates() {
        return updates;
    }

    public float[] runningMean() {
        return runningMean.clone();
    }

    public float[] runningVar() {
        return runningVar.clone();
    }

    public void setRunningStatistics(float[] mean, float[] var) {
        if (mean.length != channels || var.length != channels) {
            throw new IllegalArgumentException("batchnorm has " + channels + " channels, got mean[" + mean.length
                    + "] var[" + var.length + "]");
        }
        System.arraycopy(mean, 0, runningMean, 0, channels);
        System.arraycopy(var, 0, runningVar, 0, channels);
    }

    @Override
    public long bufferFloats() {
        return 2L * channels;
    }

    @Override
    public void writeBuffers(MemorySegment dst, long off) {
        MemorySegment.copy(runningMean, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, off * Float.BYTES, channels);
        MemorySegment.copy(runningVar, 0, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, (off + channels) * Float.BYTES,
                channels);
    }

    @Override
    public void readBuffers(MemorySegment src, long off) {
        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, off * Float.BYTES, runningMean, 0, channels);
        MemorySegment.copy(src, ValueLayout.JAVA_FLOAT_UNALIGNED, (off + channels) * Float.BYTES, runningVar, 0,
                channels);
    }

    /** Freezes or unfreezes the statistics of every BatchNorm in a model, nested ones included. */
    public static void freezeStatistics(Model model, boolean frozen) {
        for (Module m : model.layers()) {
            freeze(m, frozen);
        }
    }

    private static void freeze(Module m, boolean frozen) {
        if (m instanceof BatchNorm bn) {
            bn.freezeStatistics(frozen);
        } else if (m instanceof CompositeModule c) {
            for (Module child : c.children()) {
                freeze(child, frozen);
            }
        }
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        gammaIndex = layout.addScale("gamma", new int[]{channels});
        betaIndex = layout.add("beta", new int[]{channels}, 1, 1, true);
    }

    @Override
    public void bindParameters(ParameterLayout layout, MemorySegment params, MemorySegment grads) {
        this.params = params;
        this.grads = grads;
        this.gOff = layout.entry(gammaIndex).offset();
        this.bOff = layout.entry(betaIndex).offset();
    }

    @Override
    public long workspaceFloats(int batch) {
        return 2L * channels;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        LayerKernels lk = LayerKernels.forBackend(ctx.kernels());
        long meanOff = wsOff;
        long rstdOff = wsOff + channels;
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT;
        if (ctx.isTraining()) {
            lk.batchNormStats(ws, meanOff, ws, rstdOff, in, inOff, batch, channels, spatial);
            boolean update = !ctx.isRecompute() && !frozen;
            long count = (long) batch * spatial;
            float unbias = count > 1 ? (float) count / (count - 1) : 1f;
            for (int ch = 0; ch < channels; ch++) {
                float var = ws.getAtIndex(f, rstdOff + ch);
                if (update) {
                    runningMean[ch] += momentum * (ws.getAtIndex(f, meanOff + ch) - runningMean[ch]);
                    runningVar[ch] += momentum * (var * unbias - runningVar[ch]);
                }
                ws.setAtIndex(f, rstdOff + ch, (float) (1.0 / Math.sqrt(var + eps)));
            }
            if (update) {
                updates++;
            }
        } else {
            for (int ch = 0; ch < channels; ch++) {
                ws.setAtIndex(f, meanOff + ch, runningMean[ch]);
                ws.setAtIndex(f, rstdOff + ch, (float) (1.0 / Math.sqrt(runningVar[ch] + eps)));
            }
        }
        lk.batchNormForward(out, outOff, in, inOff, ws, meanOff, ws, rstdOff, params, gOff, params, bOff, batch,
                channels, spatial);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        LayerKernels.forBackend(ctx.kernels()).batchNormBackward(needInputGrad ? dIn : null, dInOff, grads, gOff,
                grads, bOff, dOut, dOutOff, in, inOff, ws, wsOff, ws, wsOff + channels, params, gOff, batch, channels,
                spatial, ctx.isTraining());
    }
}
