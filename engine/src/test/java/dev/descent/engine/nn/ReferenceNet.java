package dev.descent.engine.nn;

import dev.descent.engine.kernel.scalar.ScalarOps;
import dev.descent.engine.loss.LossKind;
import java.lang.foreign.ValueLayout;

/** A double-precision re-implementation of a model's forward and loss, for finite-difference references. */
public final class ReferenceNet {
    private ReferenceNet() {
    }

    /** Reads the parameter slab as doubles. */
    public static double[] params(Model m) {
        long n = m.layout().totalFloats();
        double[] p = new double[(int) n];
        for (int i = 0; i < n; i++) {
            p[i] = m.params().segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
        }
        return p;
    }

    /** Mean loss of the model with parameters {@code p} on x[batch, in], all in double. */
    public static double loss(Model m, double[] p, double[] x, int[] labels, int batch, LossKind loss, boolean training,
                       long seed, long step) {
        double[] a = x.clone();
        for (int i = 0; i < m.layerCount(); i++) {
            Module mod = m.layer(i);
            int inSize = m.nodeSize(i);
            int outSize = m.nodeSize(i + 1);
            double[] out = new double[batch * outSize];
            switch (mod) {
                case Linear lin -> {
                    long w = -1;
                    long bias = -1;
                    for (ParameterLayout.Entry e : m.layout().entries()) {
                        if (e.layerIndex() == i) {
                            if (e.bias()) {
                                bias = e.offset();
                            } else {
                                w = e.offset();
                            }
                        }
                    }
                    for (int r = 0; r < batch; r++) {
                        for (int o = 0; o < outSize; o++) {
                            double s = p[(int) bias + o];
                            for (int c = 0; c < inSize; c++) {
                                s += a[r * inSize + c] * p[(int) w + o * inSize + c];
                            }
                            out[r * outSize + o] = s;
                        }
                    }
                    if (lin.outFeatures() != outSize) {
                        throw new AssertionError();
                    }
                }
                case ActivationLayer act -> {
                    for (int j = 0; j < out.length; j++) {
                        out[j] = ScalarOps.forward(act.activation(), a[j]);
                    }
                }
                case Dropout d -> {
                    for (int j = 0; j < out.length; j++) {
                        boolean keep = !training || d.p() == 0f || Dropout.keep(seed, step, i, j, d.p());
                        out[j] = keep ? a[j] * (training ? 1.0 / (1.0 - d.p()) : 1.0) : 0.0;
                    }
                }
                case Flatten f -> System.arraycopy(a, 0, out, 0, out.length);
                default -> throw new AssertionError("no reference for " + mod);
            }
            a = out;
        }
        int classes = m.outputSize();
        double sum = 0;
        for (int r = 0; r < batch; r++) {
            if (loss == LossKind.CROSS_ENTROPY) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < classes; c++) {
                    max = Math.max(max, a[r * classes + c]);
                }
                double z = 0;
                for (int c = 0; c < classes; c++) {
                    z += Math.exp(a[r * classes + c] - max);
                }
                sum += -(a[r * classes + labels[r]] - max - Math.log(z));
            } else {
                for (int c = 0; c < classes; c++) {
                    double d = a[r * classes + c] - (c == labels[r] ? 1 : 0);
                    sum += d * d;
                }
            }
        }
        return sum / batch;
    }
}
