package dev.descent.engine.nn;

import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;

/**
 * Layer normalization over the last dimension of each sample ({@code [T, C]}: each of the T rows over its C
 * features; {@code [C]}: the whole sample). Parameters {@code gamma_minus_1 [C]} (scale = 1 + it) and
 * {@code beta [C]}. Workspace: the mean and 1/std of each row [2 * rows].
 */
public final class LayerNorm implements Module {
    public static final double EPS_DEFAULT = 1e-5;

    private final float eps;
    int c;
    private int rowsPerSample;
    private int gammaIndex;
    private int betaIndex;
    private MemorySegment params;
    private MemorySegment grads;
    private long gOff; // [C]
    private long bOff; // [C]

    public LayerNorm(double eps) {
        if (!(eps > 0)) {
            throw new IllegalArgumentException("layernorm: eps must be > 0, was " + eps);
        }
        this.eps = (float) eps;
    }

    public LayerNorm() {
        this(EPS_DEFAULT);
    }

    @Override
    public int[] configure(int layerIndex, int[] inputShape) {
        c = inputShape[inputShape.length - 1];
        rowsPerSample = Module.size(inputShape) / c;
        return inputShape.clone();
    }

    @Override
    public String spec() {
        return "layernorm " + eps;
    }

    @Override
    public String kind() {
        return "layernorm";
    }

    public float eps() {
        return eps;
    }

    @Override
    public void declareParameters(ParameterLayout.Builder layout) {
        gammaIndex = layout.add("gamma_minus_1", new int[]{c}, 1, 1, true);
        betaIndex = layout.add("beta", new int[]{c}, 1, 1, true);
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
        return 2L * batch * rowsPerSample;
    }

    @Override
    public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                        MemorySegment in, long inOff, int batch) {
        int rows = batch * rowsPerSample;
        LayerKernels.forBackend(ctx.kernels()).layerNormForward(out, outOff, ws, wsOff, ws, wsOff + rows, in, inOff,
                params, gOff, params, bOff, rows, c, eps);
    }

    @Override
    public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                         MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                         boolean needInputGrad) {
        int rows = batch * rowsPerSample;
        LayerKernels.forBackend(ctx.kernels()).layerNormBackward(needInputGrad ? dIn : null, dInOff, grads, gOff,
                grads, bOff, dOut, dOutOff, in, inOff, ws, wsOff, ws, wsOff + rows, params, gOff, rows, c);
    }
}
