package dev.descent.engine.nn;

import dev.descent.engine.kernel.scalar.ScalarOps;
import java.util.List;

/**
 * Double-precision forward of models made of the layers of issue 4 (and Linear/activations/Flatten), written
 * from the definitions with plain loops (direct convolution, no im2col), for finite-difference references.
 * Parameters are consumed from the layout entries in declaration order (a cursor), which is also the order in
 * which composite modules declare their children.
 */
final class LayerReference {
    private final Model model;
    private final double[] p;
    private final boolean training;
    private int cursor;

    private LayerReference(Model model, double[] p, boolean training) {
        this.model = model;
        this.p = p;
        this.training = training;
    }

    /** Mean softmax cross-entropy of the model (parameters {@code p}) on x[batch, in]. */
    static double loss(Model m, double[] p, double[] x, int[] labels, int batch, boolean training) {
        LayerReference r = new LayerReference(m, p, training);
        double[] a = x;
        for (Module mod : m.layers()) {
            a = r.run(mod, a, batch);
        }
        int classes = m.outputSize();
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, a[b * classes + c]);
            }
            double z = 0;
            for (int c = 0; c < classes; c++) {
                z += Math.exp(a[b * classes + c] - max);
            }
            sum += Math.log(z) + max - a[b * classes + labels[b]];
        }
        return sum / batch;
    }

    private int next() {
        return (int) model.layout().entry(cursor++).offset();
    }

    double[] run(Module mod, double[] x, int batch) {
        return switch (mod) {
            case Linear lin -> linear(x, batch, lin.inFeatures(), lin.outFeatures(), next(), lin.hasBias() ? next() : -1);
            case ActivationLayer act -> {
                double[] o = new double[x.length];
                for (int j = 0; j < x.length; j++) {
                    o[j] = ScalarOps.forward(act.activation(), x[j]);
                }
                yield o;
            }
            case Flatten f -> x.clone();
            case Conv2d conv -> conv(conv, x, batch);
            case MaxPool2d mp -> pool(mp, x, batch, true);
            case AvgPool2d ap -> pool(ap, x, batch, false);
            case GlobalAvgPool g -> {
                double[] o = new double[batch * g.planes];
                for (int i = 0; i < o.length; i++) {
                    for (int j = 0; j < g.size; j++) {
                        o[i] += x[i * g.size + j] / g.size;
                    }
                }
                yield o;
            }
            case BatchNorm bn -> batchNorm(bn, x, batch);
            case LayerNorm ln -> layerNorm(ln, x);
            case Residual res -> residual(res, x, batch);
            case PerToken pt -> run(pt.children().get(0), x, batch * pt.t);
            case TransformerBlock tb -> {
                double[] a = x;
                for (Module c : tb.children()) {
                    a = run(c, a, batch);
                }
                yield a;
            }
            case Embedding e -> {
                int tok = next();
                int pos = next();
                int d = e.dim();
                double[] o = new double[batch * e.t * d];
                for (int r = 0; r < batch * e.t; r++) {
                    int id = (int) x[r];
                    for (int j = 0; j < d; j++) {
                        o[r * d + j] = p[tok + id * d + j] + p[pos + (r % e.t) * d + j];
                    }
                }
                yield o;
            }
            case CausalSelfAttention at -> attention(at, x, batch);
            case LastToken lt -> {
                int c = x.length / batch / lt.t;
                double[] o = new double[batch * c];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(x, (b * lt.t + lt.t - 1) * c, o, b * c, c);
                }
                yield o;
            }
            default -> throw new AssertionError("no reference for " + mod.kind());
        };
    }

    private double[] linear(double[] x, int rows, int in, int out, int w, int b) {
        double[] o = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < out; j++) {
                double s = b < 0 ? 0 : p[b + j];
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * p[w + j * in + i];
                }
                o[r * out + j] = s;
            }
        }
        return o;
    }

    private double[] conv(Conv2d cv, double[] x, int batch) {
        int w0 = next();
        int b0 = next();
        int k = cv.kernel();
        int s = cv.stride();
        int pad = cv.padding();
        int oh = (cv.h + 2 * pad - k) / s + 1;
        int ow = (cv.w + 2 * pad - k) / s + 1;
        int oc = cv.outChannels();
        double[] o = new double[batch * oc * oh * ow];
        for (int b = 0; b < batch; b++) {
            for (int co = 0; co < oc; co++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = p[b0 + co];
                        for (int ci = 0; ci < cv.c; ci++) {
                            for (int ky = 0; ky < k; ky++) {
                                for (int kx = 0; kx < k; kx++) {
                                    int iy = oy * s - pad + ky;
                                    int ix = ox * s - pad + kx;
                                    if (iy >= 0 && iy < cv.h && ix >= 0 && ix < cv.w) {
                                        acc += p[w0 + ((co * cv.c + ci) * k + ky) * k + kx]
                                                * x[((b * cv.c + ci) * cv.h + iy) * cv.w + ix];
                                    }
                                }
                            }
                        }
                        o[((b * oc + co) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        return o;
    }

    private static double[] pool(Pool2d pl, double[] x, int batch, boolean max) {
        double[] o = new double[batch * pl.planes * pl.oh * pl.ow];
        for (int q = 0; q < batch * pl.planes; q++) {
            for (int oy = 0; oy < pl.oh; oy++) {
                for (int ox = 0; ox < pl.ow; ox++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int ky = 0; ky < pl.k; ky++) {
                        for (int kx = 0; kx < pl.k; kx++) {
                            int iy = oy * pl.stride - pl.pad + ky;
                            int ix = ox * pl.stride - pl.pad + kx;
                            if (iy >= 0 && iy < pl.h && ix >= 0 && ix < pl.w) {
                                double v = x[(q * pl.h + iy) * pl.w + ix];
                                acc = max ? Math.max(acc, v) : acc + v / (pl.k * pl.k);
                            }
                        }
                    }
                    o[(q * pl.oh + oy) * pl.ow + ox] = acc;
                }
            }
        }
        return o;
    }

    private double[] batchNorm(BatchNorm bn, double[] x, int batch) {
        int g = next();
        int be = next();
        int c = bn.channels();
        int s = bn.spatial;
        double[] o = new double[x.length];
        float[] rm = bn.runningMean();
        float[] rv = bn.runningVar();
        for (int ch = 0; ch < c; ch++) {
            double mean = 0;
            double var = 0;
            if (training) {
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j < s; j++) {
                        mean += x[(b * c + ch) * s + j];
                    }
                }
                mean /= (double) batch * s;
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j < s; j++) {
                        double d = x[(b * c + ch) * s + j] - mean;
                        var += d * d;
                    }
                }
                var /= (double) batch * s;
            } else {
                mean = rm[ch];
                var = rv[ch];
            }
            double rstd = 1 / Math.sqrt(var + bn.eps());
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < s; j++) {
                    int i = (b * c + ch) * s + j;
                    o[i] = (x[i] - mean) * rstd * p[g + ch] + p[be + ch];
                }
            }
        }
        return o;
    }

    private double[] layerNorm(LayerNorm ln, double[] x) {
        int g = next();
        int be = next();
        int c = ln.c;
        double[] o = new double[x.length];
        for (int r = 0; r < x.length / c; r++) {
            double mean = 0;
            for (int j = 0; j < c; j++) {
                mean += x[r * c + j] / c;
            }
            double var = 0;
            for (int j = 0; j < c; j++) {
                var += (x[r * c + j] - mean) * (x[r * c + j] - mean) / c;
            }
            double rstd = 1 / Math.sqrt(var + ln.eps());
            for (int j = 0; j < c; j++) {
                o[r * c + j] = (x[r * c + j] - mean) * rstd * (1 + p[g + j]) + p[be + j];
            }
        }
        return o;
    }

    private double[] residual(Residual res, double[] x, int batch) {
        List<Module> ch = res.children();
        boolean projected = res.projected();
        int bodyCount = projected ? ch.size() - 1 : ch.size();
        double[] a = x;
        for (int i = 0; i < bodyCount; i++) {
            a = run(ch.get(i), a, batch);
        }
        if (!res.skip()) {
            return a;
        }
        double[] skip = projected ? run(ch.get(bodyCount), x, batch) : x;
        double[] o = a.clone();
        for (int i = 0; i < o.length; i++) {
            o[i] += skip[i];
        }
        return o;
    }

    private double[] attention(CausalSelfAttention at, double[] x, int batch) {
        int wq = next();
        int bq = next();
        int wp = next();
        int bp = next();
        int t = at.t;
        int c = at.c;
        int nh = at.heads();
        int hs = c / nh;
        double[] qkv = linear(x, batch * t, c, 3 * c, wq, bq);
        double[] y = new double[batch * t * c];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    double[] sc = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double d = 0;
                        for (int e = 0; e < hs; e++) {
                            d += qkv[(b * t + i) * 3 * c + h * hs + e] * qkv[(b * t + j) * 3 * c + c + h * hs + e];
                        }
                        sc[j] = d / Math.sqrt(hs);
                        max = Math.max(max, sc[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) {
                        sc[j] = Math.exp(sc[j] - max);
                        z += sc[j];
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hs; e++) {
                            y[(b * t + i) * c + h * hs + e] += sc[j] / z * qkv[(b * t + j) * 3 * c + 2 * c + h * hs + e];
                        }
                    }
                }
            }
        }
        return linear(y, batch * t, c, c, wp, bp);
    }
}
