package dev.descent.engine.kernel.scalar;

import dev.descent.engine.kernel.LayerKernels;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-loop reference of {@link LayerKernels}. Reductions accumulate in double. Not final: the SIMD
 * implementation inherits the data-movement kernels (im2col, col2im, pooling, transposes, embedding) and
 * overrides the arithmetic ones.
 */
public class ScalarLayerKernels implements LayerKernels {
    protected static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    protected static float get(MemorySegment s, long i) {
        return s.getAtIndex(F, i);
    }

    protected static void set(MemorySegment s, long i, float v) {
        s.setAtIndex(F, i, v);
    }

    @Override
    public String name() {
        return "scalar";
    }

    // ---------------------------------------------------------------- direct stride-1 convolution, wide planes

    @Override
    public int convWidePlane(int oh, int wp, int k) {
        return oh * wp;
    }

    @Override
    public void padPlanes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int c, int h, int w,
                          int top, int left, int hp, int wp, int dstPlane, long tail) {
        checkPad(h, w, top, left, hp, wp, dstPlane);
        long d = dstOff;
        for (int ci = 0; ci < c; ci++) {
            zero(dst, d + (long) hp * wp, dstPlane - (long) hp * wp);
            for (int y = 0; y < hp; y++, d += wp) {
                int sy = y - top;
                for (int x = 0; x < wp; x++) {
                    int sx = x - left;
                    boolean inside = sy >= 0 && sy < h && sx >= 0 && sx < w;
                    set(dst, d + x, inside ? get(src, srcOff + ((long) ci * h + sy) * w + sx) : 0f);
                }
            }
            d += dstPlane - (long) hp * wp;
        }
        zero(dst, d, tail);
    }

    protected static void checkPad(int h, int w, int top, int left, int hp, int wp, int dstPlane) {
        if (top < 0 || left < 0 || top + h > hp || left + w > wp || dstPlane < hp * wp) {
            throw new IllegalArgumentException("padPlanes: [" + h + ", " + w + "] at (" + top + ", " + left
                    + ") does not fit a [" + hp + ", " + wp + "] plane of " + dstPlane + " floats");
        }
    }

    /** Reference: each output accumulated in double; the garbage columns computed as well. */
    @Override
    public void convWide(MemorySegment out, long outOff, long outStride, int oh, int qp, MemorySegment in, long inOff,
                         long inStride, int n, int cin, int plane, int wp, MemorySegment wT, long wTOff,
                         MemorySegment bias, long biasOff, int cout, int k, int threads) {
        for (int smp = 0; smp < n; smp++) {
            long x0 = inOff + smp * inStride;
            for (int co = 0; co < cout; co++) {
                double b = bias == null ? 0 : get(bias, biasOff + co);
                for (int q = 0; q < oh * wp; q++) {
                    double s = b;
                    long e = 0;
                    for (int ci = 0; ci < cin; ci++) {
                        for (int ky = 0; ky < k; ky++) {
                            long row = x0 + (long) ci * plane + q + (long) ky * wp;
                            for (int kx = 0; kx < k; kx++, e++) {
                                s += (double) get(wT, wTOff + e * cout + co) * get(in, row + kx);
                            }
                        }
                    }
                    set(out, outOff + smp * outStride + (long) co * qp + q, (float) s);
                }
            }
        }
    }

    /** Reference: each output accumulated in double, the padding's zeros left out. */
    @Override
    public void convPadded(MemorySegment out, long outOff, long outStride, MemorySegment in, long inOff,
                           long inStride, int n, int cin, int h, int w, int pad, MemorySegment wT, long wTOff,
                           MemorySegment bias, long biasOff, int cout, int k, int threads) {
        int oh = h + 2 * pad - k + 1;
        int ow = w + 2 * pad - k + 1;
        for (int smp = 0; smp < n; smp++) {
            long x0 = inOff + smp * inStride;
            for (int co = 0; co < cout; co++) {
                double b = bias == null ? 0 : get(bias, biasOff + co);
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double s = b;
                        long e = 0;
                        for (int ci = 0; ci < cin; ci++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++, e++) {
                                    int y = oy + ky - pad;
                                    int x = ox + kx - pad;
                                    if (y >= 0 && y < h && x >= 0 && x < w) {
                                        s += (double) get(wT, wTOff + e * cout + co)
                                                * get(in, x0 + ((long) ci * h + y) * w + x);
                                    }
                                }
                            }
                        }
                        set(out, outOff + smp * outStride + ((long) co * oh + oy) * ow + ox, (float) s);
                    }
                }
            }
        }
    }

    /** Reference: each weight accumulated in double. */
    @Override
    public void convWideWeightGrad(MemorySegment dw, long dwOff, MemorySegment dy, long dyOff, long dyStride, int oh,
                                   int ow, MemorySegment in, long inOff, long inStride, int n, int cin, int plane,
                                   int wp, int cout, int k, boolean accumulate, int threads) {
        int ckk = cin * k * k;
        for (int co = 0; co < cout; co++) {
            for (int e = 0; e < ckk; e++) {
                int ci = e / (k * k);
                int ky = e / k % k;
                int kx = e % k;
                long shift = (long) ci * plane + (long) ky * wp + kx;
                double s = 0;
                for (int smp = 0; smp < n; smp++) {
                    long d = dyOff + smp * dyStride + (long) co * oh * ow;
                    long x = inOff + smp * inStride + shift;
                    for (int oy = 0; oy < oh; oy++) {
                        for (int ox = 0; ox < ow; ox++) {
                            s += (double) get(dy, d + (long) oy * ow + ox) * get(in, x + (long) oy * wp + ox);
                        }
                    }
                }
                long i = dwOff + (long) co * ckk + e;
                set(dw, i, (float) (accumulate ? get(dw, i) + s : s));
            }
        }
    }

    // ---------------------------------------------------------------- convolution helpers

    @Override
    public void im2col(MemorySegment col, long colOff, int colStride, MemorySegment in, long inOff,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        long row = colOff;
        for (int ci = 0; ci < c; ci++) {
            long plane = inOff + (long) ci * h * w;
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++, row += colStride) {
                    // ox range whose ix = ox*stride - pad + kx is inside [0, w)
                    int oxLo = Math.max(0, ceilDiv(pad - kx, stride));
                    int oxHi = Math.min(ow, ceilDiv(w + pad - kx, stride));
                    for (int oy = 0; oy < oh; oy++) {
                        long dst = row + (long) oy * ow;
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h || oxLo >= oxHi) {
                            zero(col, dst, ow);
                            continue;
                        }
                        zero(col, dst, oxLo);
                        long src = plane + (long) iy * w + (long) oxLo * stride - pad + kx;
                        if (stride == 1) {
                            MemorySegment.copy(in, F, src * Float.BYTES, col, F, (dst + oxLo) * Float.BYTES,
                                    oxHi - oxLo);
                        } else {
                            for (int ox = oxLo; ox < oxHi; ox++, src += stride) {
                                set(col, dst + ox, get(in, src));
                            }
                        }
                        zero(col, dst + oxHi, ow - oxHi);
                    }
                }
            }
        }
    }

    @Override
    public void col2im(MemorySegment dIn, long dInOff, MemorySegment col, long colOff, int colStride,
                       int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow) {
        zero(dIn, dInOff, (long) c * h * w);
        long row = colOff;
        for (int ci = 0; ci < c; ci++) {
            long plane = dInOff + (long) ci * h * w;
            for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++, row += colStride) {
                    int oxLo = Math.max(0, ceilDiv(pad - kx, stride));
                    int oxHi = Math.min(ow, ceilDiv(w + pad - kx, stride));
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        long src = row + (long) oy * ow;
                        long dst = plane + (long) iy * w + (long) oxLo * stride - pad + kx;
                        for (int ox = oxLo; ox < oxHi; ox++, dst += stride) {
                            set(dIn, dst, get(dIn, dst) + get(col, src + ox));
                        }
                    }
                }
            }
        }
    }

    /** ceil(a / b) for b > 0 and any sign of a. */
    protected static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    protected static void zero(MemorySegment s, long off, long n) {
        for (long i = 0; i < n; i++) {
            set(s, off + i, 0f);
        }
    }

    @Override
    public void swapLeadingAxes(MemorySegment dst, long dstOff, MemorySegment src, long srcOff, int a, int b,
                                int p) {
        for (int i = 0; i < a; i++) {
            for (int j = 0; j < b; j++) {
                MemorySegment.copy(src, F, (srcOff + ((long) i * b + j) * p) * Float.BYTES,
                        dst, F, (dstOff + ((long) j * a + i) * p) * Float.BYTES, p);
            }
        }
    }

    @Override
    public void channelBiasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int channels,
                               int p) {
        for (int ch = 0; ch < channels; ch++) {
            float bv = get(bias, biasOff + ch);
            long o = outOff + (long) ch * p;
            for (int i = 0; i < p; i++) {
                set(out, o + i, get(out, o + i) + bv);
            }
        }
    }

    @Override
    public void channelSum(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int channels,
                           int p, boolean accumulate) {
        for (int ch = 0; ch < channels; ch++) {
            double s = 0;
            long o = dOutOff + (long) ch * p;
            for (int i = 0; i < p; i++) {
                s += get(dOut, o + i);
            }
            float prev = accumulate ? get(dBias, dBiasOff + ch) : 0f;
            set(dBias, dBiasOff + ch, (float) (prev + s));
        }
    }

    // ---------------------------------------------------------------- pooling

    @Override
    public void maxPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h,
                               int w, int k, int stride, int pad, int oh, int ow) {
        for (int pl = 0; pl < planes; pl++) {
            long ip = inOff + (long) pl * h * w;
            long op = outOff + (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    set(out, op + (long) oy * ow + ox, get(in, ip + argMax(in, ip, h, w, k, stride, pad, oy, ox)));
                }
            }
        }
    }

    @Override
    public void maxPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, MemorySegment in,
                                long inOff, int planes, int h, int w, int k, int stride, int pad, int oh, int ow) {
        zero(dIn, dInOff, (long) planes * h * w);
        for (int pl = 0; pl < planes; pl++) {
            long ip = inOff + (long) pl * h * w;
            long dp = dInOff + (long) pl * h * w;
            long op = dOutOff + (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    long at = dp + argMax(in, ip, h, w, k, stride, pad, oy, ox);
                    set(dIn, at, get(dIn, at) + get(dOut, op + (long) oy * ow + ox));
                }
            }
        }
    }

    /** Index inside the plane of the first maximum of window (oy, ox); NaN propagates (it wins). */
    private static int argMax(MemorySegment in, long ip, int h, int w, int k, int stride, int pad, int oy, int ox) {
        int y0 = Math.max(0, oy * stride - pad);
        int y1 = Math.min(h, oy * stride - pad + k);
        int x0 = Math.max(0, ox * stride - pad);
        int x1 = Math.min(w, ox * stride - pad + k);
        int best = y0 * w + x0;
        float bv = get(in, ip + best);
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                float v = get(in, ip + (long) y * w + x);
                if (v > bv || (v != v && bv == bv)) {
                    bv = v;
                    best = y * w + x;
                }
            }
        }
        return best;
    }

    @Override
    public void avgPoolForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes, int h,
                               int w, int k, int stride, int pad, int oh, int ow) {
        float inv = 1f / (k * k);
        for (int pl = 0; pl < planes; pl++) {
            long ip = inOff + (long) pl * h * w;
            long op = outOff + (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                int y0 = Math.max(0, oy * stride - pad);
                int y1 = Math.min(h, oy * stride - pad + k);
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = Math.max(0, ox * stride - pad);
                    int x1 = Math.min(w, ox * stride - pad + k);
                    float s = 0f;
                    for (int y = y0; y < y1; y++) {
                        for (int x = x0; x < x1; x++) {
                            s += get(in, ip + (long) y * w + x);
                        }
                    }
                    set(out, op + (long) oy * ow + ox, s * inv);
                }
            }
        }
    }

    @Override
    public void avgPoolBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, int planes, int h,
                                int w, int k, int stride, int pad, int oh, int ow) {
        zero(dIn, dInOff, (long) planes * h * w);
        float inv = 1f / (k * k);
        for (int pl = 0; pl < planes; pl++) {
            long dp = dInOff + (long) pl * h * w;
            long op = dOutOff + (long) pl * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                int y0 = Math.max(0, oy * stride - pad);
                int y1 = Math.min(h, oy * stride - pad + k);
                for (int ox = 0; ox < ow; ox++) {
                    int x0 = Math.max(0, ox * stride - pad);
                    int x1 = Math.min(w, ox * stride - pad + k);
                    float g = get(dOut, op + (long) oy * ow + ox) * inv;
                    for (int y = y0; y < y1; y++) {
                        for (int x = x0; x < x1; x++) {
                            long at = dp + (long) y * w + x;
                            set(dIn, at, get(dIn, at) + g);
                        }
                    }
                }
            }
        }
    }

    @Override
    public void planeMeanForward(MemorySegment out, long outOff, MemorySegment in, long inOff, int planes,
                                 int size) {
        for (int pl = 0; pl < planes; pl++) {
            set(out, outOff + pl, (float) (sum(in, inOff + (long) pl * size, size) / size));
        }
    }

    @Override
    public void planeMeanBackward(MemorySegment dIn, long dInOff, MemorySegment dOut, long dOutOff, int planes,
                                  int size) {
        for (int pl = 0; pl < planes; pl++) {
            float g = get(dOut, dOutOff + pl) / size;
            long d = dInOff + (long) pl * size;
            for (int i = 0; i < size; i++) {
                set(dIn, d + i, g);
            }
        }
    }

    protected double sum(MemorySegment x, long off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += get(x, off + i);
        }
        return s;
    }

    // ---------------------------------------------------------------- batch norm

    @Override
    public void batchNormStats(MemorySegment mean, long meanOff, MemorySegment var, long varOff, MemorySegment in,
                               long inOff, int n, int c, int s) {
        double count = (double) n * s;
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += sum(in, inOff + ((long) i * c + ch) * s, s);
            }
            double mu = sum / count;
            double sq = 0;
            for (int i = 0; i < n; i++) {
                long o = inOff + ((long) i * c + ch) * s;
                for (int j = 0; j < s; j++) {
                    double d = get(in, o + j) - mu;
                    sq += d * d;
                }
            }
            set(mean, meanOff + ch, (float) mu);
            set(var, varOff + ch, (float) (sq / count));
        }
    }

    @Override
    public void batchNormForward(MemorySegment out, long outOff, MemorySegment in, long inOff, MemorySegment mean,
                                 long meanOff, MemorySegment rstd, long rstdOff, MemorySegment gamma, long gOff,
                                 MemorySegment beta, long betaOff, int n, int c, int s) {
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                float mu = get(mean, meanOff + ch);
                float a = get(rstd, rstdOff + ch) * get(gamma, gOff + ch);
                float bt = get(beta, betaOff + ch);
                long o = ((long) i * c + ch) * s;
                for (int j = 0; j < s; j++) {
                    set(out, outOff + o + j, (get(in, inOff + o + j) - mu) * a + bt);
                }
            }
        }
    }

    @Override
    public void batchNormBackward(MemorySegment dIn, long dInOff, MemorySegment dGamma, long dGammaOff,
                                  MemorySegment dBeta, long dBetaOff, MemorySegment dOut, long dOutOff,
                                  MemorySegment in, long inOff, MemorySegment mean, long meanOff, MemorySegment rstd,
                                  long rstdOff, MemorySegment gamma, long gOff, int n, int c, int s,
                                  boolean batchStats) {
        double count = (double) n * s;
        for (int ch = 0; ch < c; ch++) {
            float mu = get(mean, meanOff + ch);
            float r = get(rstd, rstdOff + ch);
            double sdy = 0;
            double sdyx = 0;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                for (int j = 0; j < s; j++) {
                    float dy = get(dOut, dOutOff + o + j);
                    sdy += dy;
                    sdyx += dy * ((get(in, inOff + o + j) - mu) * r);
                }
            }
            set(dGamma, dGammaOff + ch, (float) sdyx);
            set(dBeta, dBetaOff + ch, (float) sdy);
            if (dIn == null) {
                continue;
            }
            float gr = get(gamma, gOff + ch) * r;
            float mdy = batchStats ? (float) (sdy / count) : 0f;
            float mdyx = batchStats ? (float) (sdyx / count) : 0f;
            for (int i = 0; i < n; i++) {
                long o = ((long) i * c + ch) * s;
                for (int j = 0; j < s; j++) {
                    float xh = (get(in, inOff + o + j) - mu) * r;
                    set(dIn, dInOff + o + j, gr * (get(dOut, dOutOff + o + j) - mdy - xh * mdyx));
                }
            }
        }
    }

    // ---------------------------------------------------------------- layer norm

    @Override
    public void layerNormForward(MemorySegment out, long outOff, MemorySegment mean, long meanOff,
                                 MemorySegment rstd, long rstdOff, MemorySegment in, long inOff,
                                 MemorySegment gammaM1, long gOff, MemorySegment beta, long betaOff, int rows, int c,
                                 float eps) {
        for (int r = 0; r < rows; r++) {
            long o = (long) r * c;
            double mu = sum(in, inOff + o, c) / c;
            double sq = 0;
            for (int j = 0; j < c; j++) {
                double d = get(in, inOff + o + j) - mu;
                sq += d * d;
            }
            float m = (float) mu;
            float rs = (float) (1.0 / Math.sqrt(sq / c + eps));
            set(mean, meanOff + r, m);
            set(rstd, rstdOff + r, rs);
            for (int j = 0; j < c; j++) {
                float xh = (get(in, inOff + o + j) - m) * rs;
                set(out, outOff + o + j, xh * (1f + get(gammaM1, gOff + j)) + get(beta, betaOff + j));
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
        for (int r = 0; r < rows; r++) {
            long o = (long) r * c;
            float m = get(mean, meanOff + r);
            float rs = get(rstd, rstdOff + r);
            double sg = 0;
            double sgx = 0;
            for (int j = 0; j < c; j++) {
                float dy = get(dOut, dOutOff + o + j);
                float xh = (get(in, inOff + o + j) - m) * rs;
                set(dGamma, dGammaOff + j, get(dGamma, dGammaOff + j) + dy * xh);
                set(dBeta, dBetaOff + j, get(dBeta, dBetaOff + j) + dy);
                float g = dy * (1f + get(gammaM1, gOff + j));
                sg += g;
                sgx += g * xh;
            }
            if (dIn == null) {
                continue;
            }
            float mg = (float) (sg / c);
            float mgx = (float) (sgx / c);
            for (int j = 0; j < c; j++) {
                float xh = (get(in, inOff + o + j) - m) * rs;
                float g = get(dOut, dOutOff + o + j) * (1f + get(gammaM1, gOff + j));
                set(dIn, dInOff + o + j, rs * (g - mg - xh * mgx));
            }
        }
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void attentionForward(MemorySegment out, long outOff, MemorySegment att, long attOff, MemorySegment qkv,
                                 long qkvOff, int b, int t, int c, int nh) {
        int hs = c / nh;
        float scale = (float) (1.0 / Math.sqrt(hs));
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    long q = qkvOff + ((long) bi * t + i) * 3 * c + (long) h * hs;
                    long a = attOff + (((long) bi * nh + h) * t + i) * t;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        long k = qkvOff + ((long) bi * t + j) * 3 * c + c + (long) h * hs;
                        float v = dot(qkv, q, qkv, k, hs) * scale;
                        set(att, a + j, v);
                        max = Math.max(max, v);
                    }
                    float sum = 0f;
                    for (int j = 0; j <= i; j++) {
                        float e = (float) Math.exp(get(att, a + j) - max);
                        set(att, a + j, e);
                        sum += e;
                    }
                    float inv = 1f / sum;
                    for (int j = 0; j <= i; j++) {
                        set(att, a + j, get(att, a + j) * inv);
                    }
                    for (int j = i + 1; j < t; j++) {
                        set(att, a + j, 0f);
                    }
                    long o = outOff + ((long) bi * t + i) * c + (long) h * hs;
                    zero(out, o, hs);
                    for (int j = 0; j <= i; j++) {
                        long v = qkvOff + ((long) bi * t + j) * 3 * c + 2L * c + (long) h * hs;
                        axpy(out, o, get(att, a + j), qkv, v, hs);
                    }
                }
            }
        }
    }

    @Override
    public void attentionBackward(MemorySegment dqkv, long dqkvOff, MemorySegment scratch, long scratchOff,
                                  MemorySegment dOut, long dOutOff, MemorySegment qkv, long qkvOff, MemorySegment att,
                                  long attOff, int b, int t, int c, int nh) {
        int hs = c / nh;
        float scale = (float) (1.0 / Math.sqrt(hs));
        zero(dqkv, dqkvOff, (long) b * t * 3 * c);
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    long row = ((long) bi * t + i) * 3 * c + (long) h * hs;
                    long a = attOff + (((long) bi * nh + h) * t + i) * t;
                    long dO = dOutOff + ((long) bi * t + i) * c + (long) h * hs;
                    // dAtt[j] = dOut_i · v_j ; dv_j += att[j] * dOut_i
                    float dotPd = 0f;
                    for (int j = 0; j <= i; j++) {
                        long v = ((long) bi * t + j) * 3 * c + 2L * c + (long) h * hs;
                        float p = get(att, a + j);
                        float da = dot(dOut, dO, qkv, qkvOff + v, hs);
                        set(scratch, scratchOff + j, da);
                        dotPd += p * da;
                        axpy(dqkv, dqkvOff + v, p, dOut, dO, hs);
                    }
                    // softmax backward: dS[j] = p_j (dAtt[j] - Σ p dAtt), then the scaled dot product
                    for (int j = 0; j <= i; j++) {
                        long k = ((long) bi * t + j) * 3 * c + c + (long) h * hs;
                        float ds = get(att, a + j) * (get(scratch, scratchOff + j) - dotPd) * scale;
                        axpy(dqkv, dqkvOff + row, ds, qkv, qkvOff + k, hs);
                        axpy(dqkv, dqkvOff + k, ds, qkv, qkvOff + row, hs);
                    }
                }
            }
        }
    }

    protected float dot(MemorySegment x, long xOff, MemorySegment y, long yOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) {
            s += get(x, xOff + i) * get(y, yOff + i);
        }
        return s;
    }

    /** y[n] += alpha * x[n]. */
    protected void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, int n) {
        for (int i = 0; i < n; i++) {
            set(y, yOff + i, get(y, yOff + i) + alpha * get(x, xOff + i));
        }
    }

    // ---------------------------------------------------------------- embedding

    @Override
    public void embeddingForward(MemorySegment out, long outOff, MemorySegment ids, long idsOff, MemorySegment tok,
                                 long tokOff, MemorySegment pos, long posOff, int b, int t, int c, int vocab) {
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < t; i++) {
                long r = (long) bi * t + i;
                int id = tokenId(ids, idsOff + r, vocab);
                long o = outOff + r * c;
                long tk = tokOff + (long) id * c;
                long p = posOff + (long) i * c;
                for (int j = 0; j < c; j++) {
                    set(out, o + j, get(tok, tk + j) + get(pos, p + j));
                }
            }
        }
    }

    @Override
    public void embeddingBackward(MemorySegment dTok, long dTokOff, MemorySegment dPos, long dPosOff,
                                  MemorySegment dOut, long dOutOff, MemorySegment ids, long idsOff, int b, int t, int c,
                                  int vocab) {
        zero(dTok, dTokOff, (long) vocab * c);
        zero(dPos, dPosOff, (long) t * c);
        for (int bi = 0; bi < b; bi++) {
            for (int i = 0; i < t; i++) {
                long r = (long) bi * t + i;
                int id = tokenId(ids, idsOff + r, vocab);
                axpy(dTok, dTokOff + (long) id * c, 1f, dOut, dOutOff + r * c, c);
                axpy(dPos, dPosOff + (long) i * c, 1f, dOut, dOutOff + r * c, c);
            }
        }
    }

    protected static int tokenId(MemorySegment ids, long at, int vocab) {
        float f = get(ids, at);
        int id = (int) f;
        if (id != f || id < 0 || id >= vocab) {
            throw new IllegalArgumentException("token id " + f + " at position " + at + " is not an integer in [0, "
                    + vocab + ")");
        }
        return id;
    }
}
