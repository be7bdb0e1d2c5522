package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.scalar.ScalarLayerKernels;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API layer kernels. Overrides the arithmetic loops of {@link ScalarLayerKernels} (its oracle in the
 * tests): per-channel bias and sums, batch norm, layer norm, and the head-size dot products and axpys that
 * attention is made of, embedding gradients; the direct stride-1 convolution ({@link SimdConv}) and its padded planes,
 * im2col and col2im with stride 1 ({@link SimdPlanes}); 2x2 stride-2 max pooling ({@link SimdPooling}). The rest of
 * the data movement (strided unfold, other pooling, transposes, embedding lookup) is inherited.
 *
 * <p>Loops run whole vectors and finish the tail with narrower vectors and scalar code: no masked access at all,
 * since masked loads and stores (in a loop body, or on the 8-float heads of a small transformer) made C2 fall back
 * to boxed vectors that allocate on every call. Sums are accumulated lane-wise in float (the scalar reference
 * accumulates in double; the tests bound the difference).
 */
public final class SimdLayerKernels extends ScalarLayerKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();

    @Override
    public String name() {
        return "simd";
    }

    // ---------------------------------------------------------------- BLAS-1 helpers used by attention

    @Override
    protected float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O)
                    .fma(FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O), acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; i < n; i++) {
            s += get(x, xOff + i) * get(y, yOff + i);
        }
        return s;
    }

    @Override
    protected void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromMemorySegment(S, x, (xOff + i) * Float.BYTES, O)
                    .fma(a, FloatVector.fromMemorySegment(S, y, (yOff + i) * Float.BYTES, O))
                    .intoMemorySegment(y, (yOff + i) * Float.BYTES, O);
        }
        for (; i < n; i++) {
            set(y, yOff + i, get(y, yOff + i) + alpha * get(x, xOff + i));
        }
    }

    /** Σ x[n] in float lanes. */
    private static float vsum(MemorySegment x, long off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.add(FloatVector.fromMemorySegment(S, x, (off + i) * Float.BYTES, O));
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; i < n; i++) {
            s += get(x, off + i);
        }
        return s;
    }

    // ---------------------------------------------------------------- convolutions: direct (SimdConv), unfold

    @Override
    public int convWidePlane(int oh, int wp, int k) {
        return SimdConv.widePlane(oh, wp, k);
    }

    @Override
    public void padPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                          int top, int left, int hp, int wp, int dstPlane, long tail) {
        checkPad(h, w, top, left, hp, wp, dstPlane);
        SimdPlanes.padPlanes(dst, dstOff, src, srcOff, c, h, w, top, left, hp, wp, dstPlane, tail);
    }

    @Override
    public void convWide(MemorySegment out, long outOff, long outStride, int oh, int qp, MemorySegment in, long inOff,
                         long inStride, int n, int cin, int plane, int wp, MemorySegment wT, long wTOff,
                         MemorySegment bias, long biasOff, int cout, int k, int threads) {
        SimdConv.convWide(out, outOff, outStride, oh, qp, in, inOff, inStride, n, cin, plane, wp, wT, wTOff, bias,
                biasOff, cout, k, threads);
    }

    @Override
    public void convPadded(MemorySegment out, long outOff, long outStride, MemorySegment in, long inOff,
                           long inStride, int n, int cin, int h, int w, int pad, MemorySegment wT, long wTOff,
                           MemorySegment bias, long biasOff, int cout, int k, int threads) {
        SimdConv.convPadded(out, outOff, outStride, in, inOff, inStride, n, cin, h, w, pad, wT, wTOff, bias, biasOff,
                cout, k, threads);
    }

    @Override
    public void convWideWeightGrad(MemorySegment dw, long dwOff, MemorySegment dy, long dyOff, long dyStride, int oh,
                                   int ow, MemorySegment in, long inOff, long inStride, int n, int cin, int plane,
                                   int wp, int cout, int k, boolean accumulate, int threads) {
        SimdConv.convWideWeightGrad(dw, dwOff, dy, dyOff, dyStride, oh, ow, in, inOff, inStride, n, cin, plane, wp,
                cout, k, accumulate, threads);
    }

    @Override
    public void im2col(MemorySegment col, long colOff, int colStride, MemorySegment in, long inOff,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        if (stride != 1) {
            super.im2col(col, colOff, colStride, in, inOff, c, h, w, kh, kw, stride, pad, oh, ow);
            return;
        }
        SimdPlanes.im2col(col, colOff, colStride, in, inOff, c, h, w, kh, kw, pad, oh, ow);
    }

    @Override
    public void col2im(MemorySegment dIn, long dInOff, MemorySegment col, long colOff, int colStride,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        if (stride != 1) {
            super.col2im(dIn, dInOff, col, colOff, colStride, c, h, w, kh, kw, stride, pad, oh, ow);
            return;
        }
        SimdPlanes.col2im(dIn, dInOff, col, colOff, colStride, c, h, w, kh, kw, pad, oh, ow);
    }

    // ---------------------------------------------------------------- 2x2 stride-2 max pooling (SimdPooling)

    @Override
    public void maxPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h,
                               int w, int k, int stride, int pad, int oh, int ow) {
        if (!SimdPooling.applies(h, w, k, stride, pad, oh, ow)) {
            super.maxPoolForward(out, outOff, in, inOff, planes, h, w, k, stride, pad, oh, ow);
            return;
        }
        SimdPooling.forward(out, outOff, in, inOff, planes, w, oh, ow);
    }

    @Override
    public void maxPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                                long inOff, int planes, int h, int w, int k, int stride, int pad, int oh, int ow) {
        if (!SimdPooling.applies(h, w, k, stride, pad, oh, ow)) {
            super.maxPoolBackward(dIn, dInOff, dOut, dOutOff, in, inOff, planes, h, w, k, stride, pad, oh, ow);
            return;
        }
        SimdPooling.backward(dIn, dInOff, dOut, dOutOff, in, inOff, planes, w, oh, ow);
    }

    // ---------------------------------------------------------------- convolution bias

    @Override
    public void channelBiasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int channels,
                               int p) {
        for (int ch = 0; ch < channels; ch++) {
            FloatVector bv = FloatVector.broadcast(S, get(bias, biasOff + ch));
            long o = outOff + (long) ch * p;
            int i = 0;
            for (; i <= p - L; i += L) {
                FloatVector.fromMemorySegment(S, out, (o + i) * Float.BYTES, O)
                        .add(bv).intoMemorySegment(out, (o + i) * Float.BYTES, O);
            }
            float b = get(bias, biasOff + ch);
            for (; i < p; i++) {
                set(out, o + i, get(out, o + i) + b);
            }
        }
    }

    @Override
    public void channelSum(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int channels,
                           int p, boolean accumulate) {
        for (int ch = 0; ch < channels; ch++) {
            float s = vsum(dOut, dOutOff + (long) ch * p, p);
            set(dBias, dBiasOff + ch, accumulate ? get(dBias, dBiasOff + ch) + s : s);
        }
    }

    // ---------------------------------------------------------------- batch norm
    // Every loop runs whole vectors and one masked tail (masked accesses in the body stop C2 from keeping the
    // vectors in registers: they allocate and run several times slower).

    @Override
    public void batchNormForward(MemorySegment out, long outOff, MemorySegment in, long inOff, MemorySegment mean,
                                 long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gamma, long gOff,
                                 MemorySegment beta, long betaOff, int n, int c, int s) {
        if (s == 1) {
            for (int i = 0; i < n; i++) {
                long o = (long) i * c;
                int j = 0;
                for (; j <= c - L; j += L) {
                    bn1dForward(out, outOff + o + j, in, inOff + o + j, mean, meanOff + j, rstd, rstdOff + j, gamma,
                            gOff + j, beta, betaOff + j);
                }
                for (; j < c; j++) {
                    float a = get(rstd, rstdOff + j) * get(gamma, gOff + j);
                    set(out, outOff + o + j, (get(in, inOff + o + j) - get(mean, meanOff + j)) * a + get(beta, betaOff + j));
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                float mu = get(mean, meanOff + ch);
                float a = get(rstd, rstdOff + ch) * get(gamma, gOff + ch);
                float bt = get(beta, betaOff + ch);
                long o = ((long) i * c + ch) * s;
                affine(out, outOff + o, in, inOff + o, mu, a, bt, s);
            }
        }
    }

    private static void bn1dForward(MemorySegment out, long o, MemorySegment in, long x, MemorySegment mean, long m,
                                    MemorySegment rstd, long r, MemorySegment g, long gi, MemorySegment beta, long b) {
        FloatVector a = FloatVector.fromMemorySegment(S, rstd, r * Float.BYTES, O)
                .mul(FloatVector.fromMemorySegment(S, g, gi * Float.BYTES, O));
        FloatVector.fromMemorySegment(S, in, x * Float.BYTES, O)
                .sub(FloatVector.fromMemorySegment(S, mean, m * Float.BYTES, O))
                .fma(a, FloatVector.fromMemorySegment(S, beta, b * Float.BYTES, O))
                .intoMemorySegment(out, o * Float.BYTES, O);
    }

    /** out[n] = (in[n] - mu) * a + b. */
    private static void affine(MemorySegment out, long o, MemorySegment in, long x, float mu, float a, float b, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector av = FloatVector.broadcast(S, a);
        FloatVector bv = FloatVector.broadcast(S, b);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O)
                    .sub(muv).fma(av, bv).intoMemorySegment(out, (o + j) * Float.BYTES, O);
        }
        for (; j < n; j++) {
            set(out, o + j, (get(in, x + j) - mu) * a + b);
        }
    }

    @Override
    public void batchNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gamma, long gOff, int n, int c, int s,
                                  boolean batchStats) {
        if (s < L) {
            // [n, c] and tiny planes: the reference loops (per-channel sums over rows do not vectorize along s)
            super.batchNormBackward(dIn, dInOff, dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff, in, inOff, mean,
                    meanOff, rstd, rstdOff, gamma, gOff, n, c, s, batchStats);
            return;
        }
        float count = (float) n * s;
        for (int ch = 0; ch < c; ch++) {
            float mu = get(mean, meanOff + ch);
            float r = get(rstd, rstdOff + ch);
            float sdy = 0f;
            float sdyx = 0f;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                sdy += vsum(dOut, dOutOff + o, s);
                sdyx += dotCentered(dOut, dOutOff + o, in, inOff + o, mu, s) * r;
            }
            set(dGamma, dGammaOff + ch, sdyx);
            set(dBeta, dBetaOff + ch, sdy);
            if (dIn == null) {
                continue;
            }
            float gr = get(gamma, gOff + ch) * r;
            float mdy = batchStats ? sdy / count : 0f;
            float mdyx = batchStats ? sdyx / count : 0f;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                normBackwardRow(dIn, dInOff + o, dOut, dOutOff + o, in, inOff + o, mu, r, gr, mdy, mdyx, s);
            }
        }
    }

    /** Σ dy[j] * (x[j] - mu). */
    private static float dotCentered(MemorySegment dy, long d, MemorySegment x, long xo, float mu, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= n - L; j += L) {
            acc = FloatVector.fromMemorySegment(S, dy, (d + j) * Float.BYTES, O)
                    .fma(FloatVector.fromMemorySegment(S, x, (xo + j) * Float.BYTES, O).sub(muv), acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < n; j++) {
            s += get(dy, d + j) * (get(x, xo + j) - mu);
        }
        return s;
    }

    /** dx[j] = gr * (dy[j] - mdy - (x[j] - mu) * r * mdyx). */
    private static void normBackwardRow(MemorySegment dx, long dxo, MemorySegment dy, long d, MemorySegment x, long xo,
                                        float mu, float r, float gr, float mdy, float mdyx, int n) {
        FloatVector muv = FloatVector.broadcast(S, mu);
        FloatVector rv = FloatVector.broadcast(S, r);
        FloatVector grv = FloatVector.broadcast(S, gr);
        FloatVector mdyv = FloatVector.broadcast(S, mdy);
        FloatVector mdyxv = FloatVector.broadcast(S, mdyx);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector xh = FloatVector.fromMemorySegment(S, x, (xo + j) * Float.BYTES, O).sub(muv).mul(rv);
            FloatVector.fromMemorySegment(S, dy, (d + j) * Float.BYTES, O)
                    .sub(mdyv).sub(xh.mul(mdyxv)).mul(grv).intoMemorySegment(dx, (dxo + j) * Float.BYTES, O);
        }
        for (; j < n; j++) {
            float xh = (get(x, xo + j) - mu) * r;
            set(dx, dxo + j, gr * (get(dy, d + j) - mdy - xh * mdyx));
        }
    }

    // ---------------------------------------------------------------- layer norm

    @Override
    public void layerNormForward(MemorySegment out, long outOff, MemorySegment mean, long meanOff,
                                 MemorySegment rstd, long rstdOff, MemorySegment in, long inOff,
                                 MemorySegment gammaM1, long gOff, MemorySegment beta, long betaOff, int rows, int c,
                                 float eps) {
        for (int r = 0; r < rows; r++) {
            long o = inOff + (long) r * c;
            float m = vsum(in, o, c) / c;
            float sq = sumSquaredDeviations(in, o, m, c);
            float rs = (float) (1.0 / Math.sqrt(sq / c + eps));
            set(mean, meanOff + r, m);
            set(rstd, rstdOff + r, rs);
            long dst = outOff + (long) r * c;
            int j = 0;
            for (; j <= c - L; j += L) {
                lnForwardVector(out, dst + j, in, o + j, m, rs, gammaM1, gOff + j, beta, betaOff + j);
            }
            for (; j < c; j++) {
                float xh = (get(in, o + j) - m) * rs;
                set(out, dst + j, xh * (1f + get(gammaM1, gOff + j)) + get(beta, betaOff + j));
            }
        }
    }

    private static float sumSquaredDeviations(MemorySegment x, long o, float m, int n) {
        FloatVector mv = FloatVector.broadcast(S, m);
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= n - L; j += L) {
            FloatVector d = FloatVector.fromMemorySegment(S, x, (o + j) * Float.BYTES, O).sub(mv);
            acc = d.fma(d, acc);
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < n; j++) {
            float d = get(x, o + j) - m;
            s += d * d;
        }
        return s;
    }

    private static void lnForwardVector(MemorySegment out, long o, MemorySegment in, long x, float m, float rs,
                                        MemorySegment g, long gi, MemorySegment beta, long b) {
        FloatVector xh = FloatVector.fromMemorySegment(S, in, x * Float.BYTES, O).sub(m).mul(rs);
        FloatVector gamma = FloatVector.fromMemorySegment(S, g, gi * Float.BYTES, O).add(1f);
        xh.fma(gamma, FloatVector.fromMemorySegment(S, beta, b * Float.BYTES, O)).intoMemorySegment(out, o * Float.BYTES, O);
    }

    @Override
    public void layerNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gammaM1, long gOff, int rows, int c) {
        zero(dGamma, dGammaOff, c);
        zero(dBeta, dBetaOff, c);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * c;
            float m = get(mean, meanOff + r);
            float rs = get(rstd, rstdOff + r);
            // dGamma += dy * x̂, dBeta += dy; the two row sums of g = dy * γ come back through the scratch pair
            float sg = lnParamGradRow(dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff + o, in, inOff + o, gammaM1,
                    gOff, m, rs, c, false);
            float sgx = lnParamGradRow(dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff + o, in, inOff + o, gammaM1,
                    gOff, m, rs, c, true);
            if (dIn != null) {
                lnInputGradRow(dIn, dInOff + o, dOut, dOutOff + o, in, inOff + o, gammaM1, gOff, m, rs, sg / c,
                        sgx / c, c);
            }
        }
    }

    /**
     * One row of the LayerNorm parameter gradients. Called twice per row: first ({@code second} false) it
     * accumulates dGamma and dBeta and returns Σ g; then it returns Σ g·x̂ only. Two small loops keep C2 able to
     * hold every vector in registers (one big loop body made it box them).
     */
    private static float lnParamGradRow(MemorySegment dGamma, long dGammaOff, MemorySegment dBeta, long dBetaOff,
                                        MemorySegment dOut, long d, MemorySegment in, long x, MemorySegment gammaM1,
                                        long gOff, float m, float rs, int c, boolean second) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0;
        for (; j <= c - L; j += L) {
            FloatVector dy = FloatVector.fromMemorySegment(S, dOut, (d + j) * Float.BYTES, O);
            FloatVector g = dy.mul(FloatVector.fromMemorySegment(S, gammaM1, (gOff + j) * Float.BYTES, O).add(1f));
            if (second) {
                acc = g.fma(FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs), acc);
            } else {
                FloatVector xh = FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs);
                dy.fma(xh, FloatVector.fromMemorySegment(S, dGamma, (dGammaOff + j) * Float.BYTES, O))
                        .intoMemorySegment(dGamma, (dGammaOff + j) * Float.BYTES, O);
                FloatVector.fromMemorySegment(S, dBeta, (dBetaOff + j) * Float.BYTES, O)
                        .add(dy).intoMemorySegment(dBeta, (dBetaOff + j) * Float.BYTES, O);
                acc = acc.add(g);
            }
        }
        // fixed-order lane sum (see SimdOps: reduceLanes(ADD) adds in a different order in C2 and the fallback)
        if (L > 32) {
            acc = acc.add(acc.rearrange(SimdOps.FX32));
        }
        if (L > 16) {
            acc = acc.add(acc.rearrange(SimdOps.FX16));
        }
        if (L > 8) {
            acc = acc.add(acc.rearrange(SimdOps.FX8));
        }
        if (L > 4) {
            acc = acc.add(acc.rearrange(SimdOps.FX4));
        }
        acc = acc.add(acc.rearrange(SimdOps.FX2));
        acc = acc.add(acc.rearrange(SimdOps.FX1));
        float s = acc.lane(0);
        for (; j < c; j++) {
            float dy = get(dOut, d + j);
            float xh = (get(in, x + j) - m) * rs;
            float g = dy * (1f + get(gammaM1, gOff + j));
            if (second) {
                s += g * xh;
            } else {
                set(dGamma, dGammaOff + j, get(dGamma, dGammaOff + j) + dy * xh);
                set(dBeta, dBetaOff + j, get(dBeta, dBetaOff + j) + dy);
                s += g;
            }
        }
        return s;
    }

    /** dx = rstd * (g - mean(g) - x̂ * mean(g·x̂)) for one row. */
    private static void lnInputGradRow(MemorySegment dIn, long dx, MemorySegment dOut, long d, MemorySegment in,
                                       long x, MemorySegment gammaM1, long gOff, float m, float rs, float mg, float mgx,
                                       int c) {
        int j = 0;
        for (; j <= c - L; j += L) {
            FloatVector xh = FloatVector.fromMemorySegment(S, in, (x + j) * Float.BYTES, O).sub(m).mul(rs);
            FloatVector g = FloatVector.fromMemorySegment(S, dOut, (d + j) * Float.BYTES, O)
                    .mul(FloatVector.fromMemorySegment(S, gammaM1, (gOff + j) * Float.BYTES, O).add(1f));
            g.sub(mg).sub(xh.mul(mgx)).mul(rs).intoMemorySegment(dIn, (dx + j) * Float.BYTES, O);
        }
        for (; j < c; j++) {
            float xh = (get(in, x + j) - m) * rs;
            float g = get(dOut, d + j) * (1f + get(gammaM1, gOff + j));
            set(dIn, dx + j, rs * (g - mg - xh * mgx));
        }
    }

    // ---------------------------------------------------------------- embedding

    @Override
    public void embeddingBackward(MemorySegment dTok, long dTokOff, MemorySegment dPos, long dPosOff,
                                  MemorySegment dOut, long dOutOff, MemorySegment ids, long idsOff, int b, int t, int c,
                                  int vocab) {
        SimdPlanes.zeroRow(dTok, dTokOff, (long) vocab * c);
        SimdPlanes.zeroRow(dPos, dPosOff, (long) t * c);
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < t; i++) {
                long r = (long) bi * t + i;
                int id = tokenId(ids, idsOff + r, vocab);
                SimdPlanes.addRow(dTok, dTokOff + (long) id * c, dOut, dOutOff + r * c, c);
                SimdPlanes.addRow(dPos, dPosOff + (long) i * c, dOut, dOutOff + r * c, c);
            }
        }
    }
}
