package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.scalar.ScalarOps;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.Dropout;
import dev.descent.engine.nn.Flatten;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import dev.descent.engine.nn.ParameterLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact Hessian-vector products H·v of the mean loss over a dataset, in double precision, by Pearlmutter's
 * R-operator (forward-over-reverse): one forward pass, one R-forward pass carrying R{z} = d/dr z(w + r·v) at r = 0,
 * and one backward pass carrying both the gradient and its R-derivative. No step size, no cancellation: exact up
 * to double rounding, unlike {@link Sharpness}'s finite differences of float32 gradients.
 *
 * <p>Covers multilayer perceptrons: Linear, elementwise activations (identity, ReLU, leaky ReLU, sigmoid, tanh,
 * GELU), Flatten and Dropout (eval mode: identity), with cross-entropy or MSE; {@link #supports} says whether a
 * model qualifies (other architectures use the finite-difference fallback). At the kinks of ReLU / leaky ReLU the
 * second derivative is taken as 0 (the Hessian of a piecewise-linear network exists almost everywhere).
 * The dataset rows are streamed in chunks of 128; the parameters are held as doubles (with transposed weight
 * copies), and each product allocates a transposed copy of v's weights and four chunk-sized scratch arrays
 * (not a hot path: one product costs a few passes over the data).
 */
final class ExactHessian {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final int CHUNK = 128;
    private static final double GELU_K = Math.sqrt(2.0 / Math.PI); // as in ScalarOps (tanh form of GELU)
    private static final double GELU_C = 0.044715;

    /** One layer: LINEAR (weights at wOff [out, in], bias at bOff [out]) or an activation; identities dropped. */
    private record Op(Activation act, int in, int out, int wOff, int bOff) {
        boolean linear() {
            return act == null;
        }
    }

    private final List<Op> ops;
    private final LossKind lossKind;
    private final Dataset data;
    private final double[] w; // [n] parameters
    private final double[][] wt; // per op: transposed weights [in, out] (null for activations)
    private final int classes;
    private final int inputSize;
    // chunk scratch: per op input node, its R-value; one more for the output
    private final double[][] node;
    private final double[][] rnode;
    private double lastLoss = Double.NaN;

    /** True when {@code m} holds only layers this class differentiates twice. */
    static boolean supports(Model m) {
        for (Module mod : m.layers()) {
            if (!(mod instanceof Linear || mod instanceof ActivationLayer || mod instanceof Flatten
                    || mod instanceof Dropout)) {
                return false;
            }
        }
        return true;
    }

    /** H·v of the mean loss of {@code m}'s architecture at parameters {@code params} over {@code data}. */
    ExactHessian(Model m, MemorySegment params, Dataset data, LossKind lossKind) {
        if (!supports(m)) {
            throw new IllegalArgumentException("exact Hessian-vector products cover Linear/activation/Flatten/Dropout"
                    + " models; this one has " + m.layers());
        }
        this.lossKind = lossKind;
        this.data = data;
        int n = Math.toIntExact(m.layout().totalFloats());
        this.w = new double[n];
        for (int i = 0; i < n; i++) {
            w[i] = params.getAtIndex(F, i);
        }
        this.classes = m.outputSize();
        this.inputSize = m.inputSize();
        List<Op> list = new ArrayList<>();
        for (int i = 0; i < m.layerCount(); i++) {
            Module mod = m.layer(i);
            int in = m.nodeSize(i);
            int out = m.nodeSize(i + 1);
            if (mod instanceof Linear) {
                int wOff = -1;
                int bOff = -1;
                for (ParameterLayout.Entry e : m.layout().entries()) {
                    if (e.layerIndex() == i) {
                        if (e.bias()) {
                            bOff = (int) e.offset();
                        } else {
                            wOff = (int) e.offset();
                        }
                    }
                }
                list.add(new Op(null, in, out, wOff, bOff));
            } else if (mod instanceof ActivationLayer a && a.activation() != Activation.IDENTITY) {
                list.add(new Op(a.activation(), in, out, -1, -1));
            }
        }
        this.ops = List.copyOf(list);
        this.wt = new double[ops.size()][];
        this.node = new double[ops.size() + 1][];
        this.rnode = new double[ops.size() + 1][];
        for (int j = 0; j < ops.size(); j++) {
            Op op = ops.get(j);
            if (op.linear()) {
                wt[j] = transpose(w, op.wOff(), op.out(), op.in(), null);
            }
            node[j] = new double[CHUNK * op.in()];
            rnode[j] = new double[CHUNK * op.in()];
        }
        node[ops.size()] = new double[CHUNK * classes];
        rnode[ops.size()] = new double[CHUNK * classes];
    }

    /** Mean loss at w over the data, from the last {@link #multiply} (double). */
    double loss() {
        return lastLoss;
    }

    /** out = H·v ([n], padding entries 0); also sets {@link #loss()}. */
    void multiply(double[] v, double[] hv) {
        java.util.Arrays.fill(hv, 0.0);
        double[][] vt = new double[ops.size()][];
        for (int j = 0; j < ops.size(); j++) {
            Op op = ops.get(j);
            if (op.linear()) {
                vt[j] = transpose(v, op.wOff(), op.out(), op.in(), null);
            }
        }
        int total = data.count();
        MemorySegment xs = data.features().segment();
        double lossSum = 0;
        double[] dOut = new double[CHUNK * maxWidth()];
        double[] rdOut = new double[dOut.length];
        double[] dIn = new double[dOut.length];
        double[] rdIn = new double[dOut.length];
        for (int r0 = 0; r0 < total; r0 += CHUNK) {
            int b = Math.min(CHUNK, total - r0);
            double[] x0 = node[0];
            long base = (long) r0 * inputSize;
            for (int i = 0; i < b * inputSize; i++) {
                x0[i] = xs.getAtIndex(F, base + i);
            }
            java.util.Arrays.fill(rnode[0], 0, b * inputSize, 0.0);
            // forward and R-forward
            for (int j = 0; j < ops.size(); j++) {
                Op op = ops.get(j);
                double[] a = node[j];
                double[] ra = rnode[j];
                double[] z = node[j + 1];
                double[] rz = rnode[j + 1];
                if (op.linear()) {
                    int in = op.in();
                    int o = op.out();
                    for (int r = 0; r < b; r++) {
                        int zo = r * o;
                        for (int k = 0; k < o; k++) {
                            z[zo + k] = w[op.bOff() + k];
                            rz[zo + k] = v[op.bOff() + k];
                        }
                        for (int c = 0; c < in; c++) {
                            double s = a[r * in + c];
                            double rs = ra[r * in + c];
                            double[] wr = wt[j];
                            double[] vr = vt[j];
                            int row = c * o;
                            for (int k = 0; k < o; k++) {
                                z[zo + k] += s * wr[row + k];
                                rz[zo + k] += s * vr[row + k] + rs * wr[row + k];
                            }
                        }
                    }
                } else {
                    for (int i = 0; i < b * op.in(); i++) {
                        z[i] = ScalarOps.forward(op.act(), a[i]);
                        rz[i] = ScalarOps.derivative(op.act(), a[i]) * ra[i];
                    }
                }
            }
            // loss, its gradient and R-gradient w.r.t. the output (mean over the whole data: 1/total)
            double[] out = node[ops.size()];
            double[] rout = rnode[ops.size()];
            for (int r = 0; r < b; r++) {
                int label = data.label(r0 + r);
                int off = r * classes;
                if (lossKind == LossKind.CROSS_ENTROPY) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < classes; c++) {
                        max = Math.max(max, out[off + c]);
                    }
                    double zs = 0;
                    for (int c = 0; c < classes; c++) {
                        zs += Math.exp(out[off + c] - max);
                    }
                    lossSum += -(out[off + label] - max - Math.log(zs));
                    double pr = 0;
                    for (int c = 0; c < classes; c++) {
                        double p = Math.exp(out[off + c] - max) / zs;
                        dOut[off + c] = (p - (c == label ? 1 : 0)) / total;
                        rdIn[c] = p; // scratch: probabilities of this row
                        pr += p * rout[off + c];
                    }
                    for (int c = 0; c < classes; c++) {
                        rdOut[off + c] = rdIn[c] * (rout[off + c] - pr) / total;
                    }
                } else {
                    for (int c = 0; c < classes; c++) {
                        double d = out[off + c] - (c == label ? 1 : 0);
                        lossSum += d * d;
                        dOut[off + c] = 2 * d / total;
                        rdOut[off + c] = 2 * rout[off + c] / total;
                    }
                }
            }
            // backward and R-backward
            double[] d = dOut;
            double[] rd = rdOut;
            double[] di = dIn;
            double[] rdi = rdIn;
            for (int j = ops.size() - 1; j >= 0; j--) {
                Op op = ops.get(j);
                double[] a = node[j];
                double[] ra = rnode[j];
                if (op.linear()) {
                    int in = op.in();
                    int o = op.out();
                    for (int r = 0; r < b; r++) {
                        for (int k = 0; k < o; k++) {
                            double g = d[r * o + k];
                            double rg = rd[r * o + k];
                            int row = op.wOff() + k * in;
                            int ai = r * in;
                            for (int c = 0; c < in; c++) {
                                hv[row + c] += rg * a[ai + c] + g * ra[ai + c];
                            }
                            hv[op.bOff() + k] += rg;
                        }
                    }
                    if (j > 0) {
                        for (int r = 0; r < b; r++) {
                            int ri = r * in;
                            java.util.Arrays.fill(di, ri, ri + in, 0.0);
                            java.util.Arrays.fill(rdi, ri, ri + in, 0.0);
                            for (int k = 0; k < o; k++) {
                                double g = d[r * o + k];
                                double rg = rd[r * o + k];
                                int row = op.wOff() + k * in;
                                for (int c = 0; c < in; c++) {
                                    di[ri + c] += g * w[row + c];
                                    rdi[ri + c] += rg * w[row + c] + g * v[row + c];
                                }
                            }
                        }
                    }
                } else {
                    for (int i = 0; i < b * op.in(); i++) {
                        double f1 = ScalarOps.derivative(op.act(), a[i]);
                        di[i] = f1 * d[i];
                        rdi[i] = second(op.act(), a[i]) * ra[i] * d[i] + f1 * rd[i];
                    }
                }
                double[] t = d;
                d = di;
                di = t;
                t = rd;
                rd = rdi;
                rdi = t;
            }
        }
        lastLoss = lossSum / total;
    }

    private int maxWidth() {
        int m = classes;
        for (Op op : ops) {
            m = Math.max(m, Math.max(op.in(), op.out()));
        }
        return m;
    }

    /** f''(x) in double (0 for the piecewise-linear activations). */
    static double second(Activation act, double x) {
        return switch (act) {
            case IDENTITY, RELU, LEAKY_RELU -> 0.0;
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-x));
                yield ScalarOps.derivative(act, x) * (1.0 - 2.0 * s);
            }
            case TANH -> -2.0 * Math.tanh(x) * ScalarOps.derivative(act, x);
            case GELU -> {
                double u = GELU_K * (x + GELU_C * x * x * x);
                double du = GELU_K * (1.0 + 3.0 * GELU_C * x * x);
                double ddu = 6.0 * GELU_K * GELU_C * x;
                double c = Math.cosh(u);
                double sech2 = 1.0 / (c * c);
                yield sech2 * du + 0.5 * x * sech2 * (ddu - 2.0 * Math.tanh(u) * du * du);
            }
        };
    }

    /** dst[in, out] = src[off + o * in + c] transposed ([out, in] to [in, out]). */
    private static double[] transpose(double[] src, int off, int out, int in, double[] dst) {
        double[] t = dst != null ? dst : new double[in * out];
        for (int o = 0; o < out; o++) {
            for (int c = 0; c < in; c++) {
                t[c * out + o] = src[off + o * in + c];
            }
        }
        return t;
    }
}
