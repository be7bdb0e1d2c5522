package dev.descent.engine.kernel.scalar;

import dev.descent.engine.kernel.Activation;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain reference kernels other than GEMM: the oracle the SIMD kernels are tested against.
 *
 * <p>Written to be obviously correct, not fast: one element at a time, transcendentals and every
 * multi-term expression evaluated in {@code double} and rounded to float once, when stored. Offsets and
 * indices are in floats (labels: in ints). Elementwise kernels allow the output to alias an input at the
 * same offset (each element is read before it is written); partially overlapping ranges are not supported.
 */
public final class ScalarOps {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ValueLayout.OfInt I = ValueLayout.JAVA_INT;

    /** 0.01: the negative slope of {@link Activation#LEAKY_RELU}. */
    public static final float LEAKY_SLOPE = 0.01f;
    /** sqrt(2/pi), the GELU tanh-approximation constant. */
    static final double GELU_K = Math.sqrt(2.0 / Math.PI);
    /** 0.044715, the GELU cubic coefficient. */
    static final double GELU_C = 0.044715;

    private ScalarOps() {
    }

    // ---------------------------------------------------------------- bias

    /** out[rows, cols] += bias[cols]. */
    public static void biasAdd(MemorySegment out, long outOff, MemorySegment bias, long biasOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            long row = outOff + (long) r * cols;
            for (int c = 0; c < cols; c++) {
                out.setAtIndex(F, row + c, out.getAtIndex(F, row + c) + bias.getAtIndex(F, biasOff + c));
            }
        }
    }

    /** dBias[cols] (+)= Σ_r dOut[rows, cols] (sum in double). */
    public static void biasGrad(MemorySegment dBias, long dBiasOff, MemorySegment dOut, long dOutOff, int rows, int cols,
                                boolean accumulate) {
        for (int c = 0; c < cols; c++) {
            double s = accumulate ? dBias.getAtIndex(F, dBiasOff + c) : 0.0;
            for (int r = 0; r < rows; r++) {
                s += dOut.getAtIndex(F, dOutOff + (long) r * cols + c);
            }
            dBias.setAtIndex(F, dBiasOff + c, (float) s);
        }
    }

    // ---------------------------------------------------------------- activations

    /** out[n] = f(in[n]). */
    public static void activationForward(Activation act, MemorySegment out, long outOff, MemorySegment in, long inOff,
                                         long n) {
        for (long i = 0; i < n; i++) {
            double x = in.getAtIndex(F, inOff + i);
            out.setAtIndex(F, outOff + i, (float) forward(act, x));
        }
    }

    /** dIn[n] (+)= dOut[n] * f'(in[n]), f' evaluated at the forward input. */
    public static void activationBackward(Activation act, MemorySegment dIn, long dInOff, MemorySegment dOut,
                                          long dOutOff, MemorySegment in, long inOff, long n, boolean accumulate) {
        for (long i = 0; i < n; i++) {
            double x = in.getAtIndex(F, inOff + i);
            double g = dOut.getAtIndex(F, dOutOff + i) * derivative(act, x);
            if (accumulate) {
                g += dIn.getAtIndex(F, dInOff + i);
            }
            dIn.setAtIndex(F, dInOff + i, (float) g);
        }
    }

    /** f(x) in double. */
    public static double forward(Activation act, double x) {
        return switch (act) {
            case IDENTITY -> x;
            case RELU -> x > 0 ? x : 0.0;
            case LEAKY_RELU -> x > 0 ? x : LEAKY_SLOPE * x;
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case TANH -> Math.tanh(x);
            case GELU -> 0.5 * x * (1.0 + Math.tanh(GELU_K * (x + GELU_C * x * x * x)));
        };
    }

    /** f'(x) in double. At the kink of RELU / LEAKY_RELU (x = 0) the slope of the negative side is used. */
    public static double derivative(Activation act, double x) {
        return switch (act) {
            case IDENTITY -> 1.0;
            case RELU -> x > 0 ? 1.0 : 0.0;
            case LEAKY_RELU -> x > 0 ? 1.0 : LEAKY_SLOPE;
            case SIGMOID -> {
                double e = Math.exp(-x); // σ(1-σ) = e/(1+e)²: no cancellation for x >> 0, unlike s * (1 - s)
                yield Double.isInfinite(e) ? 0.0 : e / ((1.0 + e) * (1.0 + e));
            }
            case TANH -> sech2(x);
            case GELU -> {
                double u = GELU_K * (x + GELU_C * x * x * x);
                yield 0.5 * (1.0 + Math.tanh(u)) + 0.5 * x * sech2(u) * GELU_K * (1.0 + 3.0 * GELU_C * x * x);
            }
        };
    }

    /** 1 - tanh²(x) = 1 / cosh²(x), without the cancellation of 1 - t*t for large |x|. */
    private static double sech2(double x) {
        double c = Math.cosh(x);
        return 1.0 / (c * c);
    }

    // ---------------------------------------------------------------- elementwise, BLAS-1

    /** y[n] += alpha * x[n]. */
    public static void axpy(MemorySegment y, long yOff, float alpha, MemorySegment x, long xOff, long n) {
        for (long i = 0; i < n; i++) {
            y.setAtIndex(F, yOff + i, y.getAtIndex(F, yOff + i) + alpha * x.getAtIndex(F, xOff + i));
        }
    }

    /** out[n] = (x[n] + a * y[n]) + b * z[n] (z null: x + a * y); each product and sum rounded, as axpy does. */
    public static void combine(MemorySegment out, long outOff, MemorySegment x, long xOff, float a, MemorySegment y,
                               long yOff, float b, MemorySegment z, long zOff, long n) {
        if (z == null) {
            for (long i = 0; i < n; i++) {
                out.setAtIndex(F, outOff + i, x.getAtIndex(F, xOff + i) + a * y.getAtIndex(F, yOff + i));
            }
            return;
        }
        for (long i = 0; i < n; i++) {
            float t = x.getAtIndex(F, xOff + i) + a * y.getAtIndex(F, yOff + i);
            out.setAtIndex(F, outOff + i, t + b * z.getAtIndex(F, zOff + i));
        }
    }

    /** x[n] *= alpha. */
    public static void scale(MemorySegment x, long xOff, float alpha, long n) {
        for (long i = 0; i < n; i++) {
            x.setAtIndex(F, xOff + i, x.getAtIndex(F, xOff + i) * alpha);
        }
    }

    /** out[n] = a[n] * b[n]. */
    public static void mul(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                           long n) {
        for (long i = 0; i < n; i++) {
            out.setAtIndex(F, outOff + i, a.getAtIndex(F, aOff + i) * b.getAtIndex(F, bOff + i));
        }
    }

    /** out[n] = a[n] + b[n]. */
    public static void add(MemorySegment out, long outOff, MemorySegment a, long aOff, MemorySegment b, long bOff,
                           long n) {
        for (long i = 0; i < n; i++) {
            out.setAtIndex(F, outOff + i, a.getAtIndex(F, aOff + i) + b.getAtIndex(F, bOff + i));
        }
    }

    // ---------------------------------------------------------------- reductions (in double)

    public static double sum(MemorySegment x, long xOff, long n) {
        double s = 0.0;
        for (long i = 0; i < n; i++) {
            s += x.getAtIndex(F, xOff + i);
        }
        return s;
    }

    public static double dot(MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        double s = 0.0;
        for (long i = 0; i < n; i++) {
            s += (double) x.getAtIndex(F, xOff + i) * (double) y.getAtIndex(F, yOff + i);
        }
        return s;
    }

    public static double sumSquares(MemorySegment x, long xOff, long n) {
        double s = 0.0;
        for (long i = 0; i < n; i++) {
            double v = x.getAtIndex(F, xOff + i);
            s += v * v;
        }
        return s;
    }

    public static void unitBytesToFloats(MemorySegment src, long srcOff, MemorySegment dst, long dstOff, long n) {
        for (long i = 0; i < n; i++) {
            dst.setAtIndex(F, dstOff + i, (src.get(ValueLayout.JAVA_BYTE, srcOff + i) & 0xFF) / 255f);
        }
    }

    // ---------------------------------------------------------------- softmax + cross-entropy

    /**
     * probs[rows, cols] = softmax(logits[rows, cols]) row by row (row max subtracted, sums in double);
     * losses[rows] = -log probs[r, labels[r]], computed as log Σ exp(x - max) - (x_label - max) so that it stays
     * finite when the probability underflows. Returns Σ losses (in double).
     *
     * @throws IllegalArgumentException if a label is outside [0, cols)
     */
    public static double softmaxCrossEntropyForward(MemorySegment probs, long probsOff, MemorySegment losses,
                                                    long lossesOff, MemorySegment logits, long logitsOff,
                                                    MemorySegment labels, long labelsOff, int rows, int cols) {
        double total = 0.0;
        for (int r = 0; r < rows; r++) {
            int label = labels.getAtIndex(I, labelsOff + r);
            checkLabel(label, r, cols);
            long in = logitsOff + (long) r * cols;
            long out = probsOff + (long) r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, logits.getAtIndex(F, in + c));
            }
            double sum = 0.0;
            for (int c = 0; c < cols; c++) {
                sum += Math.exp(logits.getAtIndex(F, in + c) - max);
            }
            double xLabel = logits.getAtIndex(F, in + label);
            for (int c = 0; c < cols; c++) {
                probs.setAtIndex(F, out + c, (float) (Math.exp(logits.getAtIndex(F, in + c) - max) / sum));
            }
            double loss = Math.log(sum) - (xLabel - max);
            losses.setAtIndex(F, lossesOff + r, (float) loss);
            total += loss;
        }
        return total;
    }

    /** dLogits[rows, cols] = (probs - onehot(labels)) * scale, in float; dLogits may alias probs. */
    public static void softmaxCrossEntropyBackward(MemorySegment dLogits, long dLogitsOff, MemorySegment probs,
                                                   long probsOff, MemorySegment labels, long labelsOff, int rows,
                                                   int cols, float scale) {
        for (int r = 0; r < rows; r++) {
            int label = labels.getAtIndex(I, labelsOff + r);
            checkLabel(label, r, cols);
            for (int c = 0; c < cols; c++) {
                float p = probs.getAtIndex(F, probsOff + (long) r * cols + c);
                float y = c == label ? 1f : 0f;
                dLogits.setAtIndex(F, dLogitsOff + (long) r * cols + c, (p - y) * scale);
            }
        }
    }

    /** Shared by both backends: a label outside the row would silently read another row's logits. */
    public static void checkLabel(int label, int row, int cols) {
        if (label < 0 || label >= cols) {
            throw new IllegalArgumentException("label out of range: labels[" + row + "]=" + label
                    + " cols=" + cols);
        }
    }

    // ---------------------------------------------------------------- optimizer updates

    /** p -= lr * (g + wd * p). */
    public static void sgdUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, float lr,
                                 float weightDecay, long n) {
        for (long i = 0; i < n; i++) {
            double p = params.getAtIndex(F, pOff + i);
            double g = grads.getAtIndex(F, gOff + i) + (double) weightDecay * p;
            params.setAtIndex(F, pOff + i, (float) (p - lr * g));
        }
    }

    /** PyTorch SGD: g' = g + wd p; v = mu v + g'; p -= lr (nesterov ? g' + mu v : v). */
    public static void momentumUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff,
                                      MemorySegment velocity, long vOff, float lr, float momentum, float weightDecay,
                                      boolean nesterov, long n) {
        for (long i = 0; i < n; i++) {
            double p = params.getAtIndex(F, pOff + i);
            double g = grads.getAtIndex(F, gOff + i) + (double) weightDecay * p;
            double v = (double) momentum * velocity.getAtIndex(F, vOff + i) + g;
            double d = nesterov ? g + (double) momentum * v : v;
            velocity.setAtIndex(F, vOff + i, (float) v);
            params.setAtIndex(F, pOff + i, (float) (p - lr * d));
        }
    }

    /**
     * Adam (L2: g' = g + wd p) or AdamW (decoupled: p -= lr wd p first). m = b1 m + (1-b1) g';
     * v = b2 v + (1-b2) g'²; p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
     */
    public static void adamUpdate(MemorySegment params, long pOff, MemorySegment grads, long gOff, MemorySegment m,
                                  long mOff, MemorySegment v, long vOff, float lr, float beta1, float beta2, float eps,
                                  float weightDecay, boolean decoupledWeightDecay, long step, long n) {
        if (step < 1) {
            throw new IllegalArgumentException("adam step must be >= 1, was " + step);
        }
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        for (long i = 0; i < n; i++) {
            double p = params.getAtIndex(F, pOff + i);
            double g = grads.getAtIndex(F, gOff + i);
            if (decoupledWeightDecay) {
                p -= (double) lr * weightDecay * p;
            } else {
                g += (double) weightDecay * p;
            }
            double mi = beta1 * (double) m.getAtIndex(F, mOff + i) + (1.0 - beta1) * g;
            double vi = beta2 * (double) v.getAtIndex(F, vOff + i) + (1.0 - beta2) * g * g;
            m.setAtIndex(F, mOff + i, (float) mi);
            v.setAtIndex(F, vOff + i, (float) vi);
            p -= lr * (mi / bc1) / (Math.sqrt(vi / bc2) + eps);
            params.setAtIndex(F, pOff + i, (float) p);
        }
    }
}
