package dev.descent.engine.kernel.simd;

import dev.descent.engine.kernel.scalar.ScalarLayerKernels;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API layer kernels. Overrides the arithmetic loops of {@link ScalarLayerKernels} (its oracle in the
 * tests): per-channel bias and sums, batch norm, layer norm, and the head-size dot products and axpys that
 * attention is made of. Data movement (im2col, col2im, pooling, transposes, embedding lookup) is inherited:
 * it is bound by memory and {@link MemorySegment#copy} already moves whole rows.
 *
 * <p>Loops run whole vectors and finish with one masked vector. Sums are accumulated lane-wise in float
 * (the scalar reference accumulates in double; the tests bound the difference).
 */
public final class SimdLayerKernels extends ScalarLayerKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final ByteOrder O = ByteOrder.nativeOrder();

    private static FloatVector load(MemorySegment s, long i) {
        return FloatVector.fromMemorySegment(S, s, i * Float.BYTES, O);
    }

    private static FloatVector load(MemorySegment s, long i, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(S, s, i * Float.BYTES, O, m);
    }

    private static void store(FloatVector v, MemorySegment s, long i) {
        v.intoMemorySegment(s, i * Float.BYTES, O);
    }

    private static void store(FloatVector v, MemorySegment s, long i, VectorMask<Float> m) {
        v.intoMemorySegment(s, i * Float.BYTES, O, m);
    }

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
            acc = load(x, xOff + i).fma(load(y, yOff + i), acc);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            acc = load(x, xOff + i, m).fma(load(y, yOff + i, m), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    @Override
    protected void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            store(load(x, xOff + i).fma(a, load(y, yOff + i)), y, yOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            store(load(x, xOff + i, m).fma(a, load(y, yOff + i, m)), y, yOff + i, m);
        }
    }

    /** Σ x[n] in float lanes. */
    private static float vsum(MemorySegment x, long off, int n) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.add(load(x, off + i));
        }
        if (i < n) {
            acc = acc.add(load(x, off + i, S.indexInRange(i, n)));
        }
        return acc.reduceLanes(VectorOperators.ADD);
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
                store(load(out, o + i).add(bv), out, o + i);
            }
            if (i < p) {
                VectorMask<Float> m = S.indexInRange(i, p);
                store(load(out, o + i, m).add(bv), out, o + i, m);
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

    @Override
    public void batchNormForward(MemorySegment out, long outOff, MemorySegment in, long inOff, MemorySegment mean,
                                 long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gammaM1, long gOff,
                                 MemorySegment beta, long betaOff, int n, int c, int s) {
        if (s == 1) {
            // [n, c]: vectorize over the channels of each row
            FloatVector one = FloatVector.broadcast(S, 1f);
            for (int i = 0; i < n; i++) {
                long o = (long) i * c;
                for (int j = 0; j < c; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, c);
                    FloatVector a = load(rstd, rstdOff + j, m).mul(load(gammaM1, gOff + j, m).add(one));
                    FloatVector x = load(in, inOff + o + j, m).sub(load(mean, meanOff + j, m));
                    store(x.fma(a, load(beta, betaOff + j, m)), out, outOff + o + j, m);
                }
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                FloatVector mu = FloatVector.broadcast(S, get(mean, meanOff + ch));
                FloatVector a = FloatVector.broadcast(S, get(rstd, rstdOff + ch) * (1f + get(gammaM1, gOff + ch)));
                FloatVector bt = FloatVector.broadcast(S, get(beta, betaOff + ch));
                long o = ((long) i * c + ch) * s;
                int j = 0;
                for (; j <= s - L; j += L) {
                    store(load(in, inOff + o + j).sub(mu).fma(a, bt), out, outOff + o + j);
                }
                if (j < s) {
                    VectorMask<Float> m = S.indexInRange(j, s);
                    store(load(in, inOff + o + j, m).sub(mu).fma(a, bt), out, outOff + o + j, m);
                }
            }
        }
    }

    @Override
    public void batchNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gammaM1, long gOff, int n, int c, int s,
                                  boolean batchStats) {
        if (s == 1) {
            backward1d(dIn, dInOff, dGamma, dGammaOff, dBeta, dBetaOff, dOut, dOutOff, in, inOff, mean, meanOff,
                    rstd, rstdOff, gammaM1, gOff, n, c, batchStats);
            return;
        }
        float count = (float) n * s;
        for (int ch = 0; ch < c; ch++) {
            FloatVector mu = FloatVector.broadcast(S, get(mean, meanOff + ch));
            float r = get(rstd, rstdOff + ch);
            FloatVector rv = FloatVector.broadcast(S, r);
            FloatVector sdy = FloatVector.zero(S);
            FloatVector sdyx = FloatVector.zero(S);
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                for (int j = 0; j < s; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, s);
                    FloatVector dy = load(dOut, dOutOff + o + j, m);
                    sdy = sdy.add(dy);
                    sdyx = dy.fma(load(in, inOff + o + j, m).sub(mu).mul(rv), sdyx);
                }
            }
            float gsum = sdyx.reduceLanes(VectorOperators.ADD);
            float bsum = sdy.reduceLanes(VectorOperators.ADD);
            set(dGamma, dGammaOff + ch, gsum);
            set(dBeta, dBetaOff + ch, bsum);
            if (dIn == null) {
                continue;
            }
            FloatVector gr = FloatVector.broadcast(S, (1f + get(gammaM1, gOff + ch)) * r);
            FloatVector mdy = FloatVector.broadcast(S, batchStats ? bsum / count : 0f);
            FloatVector mdyx = FloatVector.broadcast(S, batchStats ? gsum / count : 0f);
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                for (int j = 0; j < s; j += L) {
                    VectorMask<Float> m = S.indexInRange(j, s);
                    FloatVector xh = load(in, inOff + o + j, m).sub(mu).mul(rv);
                    FloatVector d = load(dOut, dOutOff + o + j, m).sub(mdy).sub(xh.mul(mdyx));
                    store(d.mul(gr), dIn, dInOff + o + j, m);
                }
            }
        }
    }

    /** [n, c] layout: per-channel sums accumulate in dGamma/dBeta across rows, vectorized over channels. */
    private void backward1d(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff, MemorySegment dBeta,
                            long dBetaOff, MemorySegment dOut, long dOutOff, MemorySegment in, long inOff,
                            MemorySegment mean, long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gammaM1,
                            long gOff, int n, int c, boolean batchStats) {
        zero(dGamma, dGammaOff, c);
        zero(dBeta, dBetaOff, c);
        for (int i = 0; i < n; i++) {
            long o = (long) i * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> m = S.indexInRange(j, c);
                FloatVector dy = load(dOut, dOutOff + o + j, m);
                FloatVector xh = load(in, inOff + o + j, m).sub(load(mean, meanOff + j, m)).mul(load(rstd, rstdOff + j, m));
                store(load(dBeta, dBetaOff + j, m).add(dy), dBeta, dBetaOff + j, m);
                store(dy.fma(xh, load(dGamma, dGammaOff + j, m)), dGamma, dGammaOff + j, m);
            }
        }
        if (dIn == null) {
            return;
        }
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector inv = FloatVector.broadcast(S, batchStats ? 1f / n : 0f);
        for (int i = 0; i < n; i++) {
            long o = (long) i * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> m = S.indexInRange(j, c);
                FloatVector r = load(rstd, rstdOff + j, m);
                FloatVector xh = load(in, inOff + o + j, m).sub(load(mean, meanOff + j, m)).mul(r);
                FloatVector mdy = load(dBeta, dBetaOff + j, m).mul(inv);
                FloatVector mdyx = load(dGamma, dGammaOff + j, m).mul(inv);
                FloatVector gr = load(gammaM1, gOff + j, m).add(one).mul(r);
                FloatVector d = load(dOut, dOutOff + o + j, m).sub(mdy).sub(xh.mul(mdyx));
                store(d.mul(gr), dIn, dInOff + o + j, m);
            }
        }
    }

    // ---------------------------------------------------------------- layer norm

    @Override
    public void layerNormForward(MemorySegment out, long outOff, MemorySegment mean, long meanOff,
                                 MemorySegment rstd, long rstdOff, MemorySegment in, long inOff,
                                 MemorySegment gammaM1, long gOff, MemorySegment beta, long betaOff, int rows, int c,
                                 float eps) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int r = 0; r < rows; r++) {
            long o = inOff + (long) r * c;
            float m = vsum(in, o, c) / c;
            FloatVector mv = FloatVector.broadcast(S, m);
            FloatVector sq = FloatVector.zero(S);
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> k = S.indexInRange(j, c);
                FloatVector d = load(in, o + j, k).sub(mv);
                sq = d.fma(d, sq).blend(sq, k.not());
            }
            float rs = (float) (1.0 / Math.sqrt(sq.reduceLanes(VectorOperators.ADD) / c + eps));
            set(mean, meanOff + r, m);
            set(rstd, rstdOff + r, rs);
            FloatVector rv = FloatVector.broadcast(S, rs);
            long dst = outOff + (long) r * c;
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> k = S.indexInRange(j, c);
                FloatVector xh = load(in, o + j, k).sub(mv).mul(rv);
                FloatVector g = load(gammaM1, gOff + j, k).add(one);
                store(xh.fma(g, load(beta, betaOff + j, k)), out, dst + j, k);
            }
        }
    }

    @Override
    public void layerNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gammaM1, long gOff, int rows, int c) {
        zero(dGamma, dGammaOff, c);
        zero(dBeta, dBetaOff, c);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int r = 0; r < rows; r++) {
            long o = (long) r * c;
            FloatVector mv = FloatVector.broadcast(S, get(mean, meanOff + r));
            float rs = get(rstd, rstdOff + r);
            FloatVector rv = FloatVector.broadcast(S, rs);
            FloatVector sg = FloatVector.zero(S);
            FloatVector sgx = FloatVector.zero(S);
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> k = S.indexInRange(j, c);
                FloatVector dy = load(dOut, dOutOff + o + j, k);
                FloatVector xh = load(in, inOff + o + j, k).sub(mv).mul(rv);
                store(dy.fma(xh, load(dGamma, dGammaOff + j, k)), dGamma, dGammaOff + j, k);
                store(load(dBeta, dBetaOff + j, k).add(dy), dBeta, dBetaOff + j, k);
                FloatVector g = dy.mul(load(gammaM1, gOff + j, k).add(one));
                sg = sg.add(g);
                sgx = g.fma(xh, sgx);
            }
            if (dIn == null) {
                continue;
            }
            FloatVector mg = FloatVector.broadcast(S, sg.reduceLanes(VectorOperators.ADD) / c);
            FloatVector mgx = FloatVector.broadcast(S, sgx.reduceLanes(VectorOperators.ADD) / c);
            for (int j = 0; j < c; j += L) {
                VectorMask<Float> k = S.indexInRange(j, c);
                FloatVector xh = load(in, inOff + o + j, k).sub(mv).mul(rv);
                FloatVector g = load(dOut, dOutOff + o + j, k).mul(load(gammaM1, gOff + j, k).add(one));
                store(g.sub(mg).sub(xh.mul(mgx)).mul(rv), dIn, dInOff + o + j, k);
            }
        }
    }
}
