package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * How sharp a point of the landscape is, on a fixed dataset (full-batch loss, eval mode):
 * <ul>
 *   <li>the top Hessian eigenvalue λ_max by power iteration on Hessian-vector products; the eigenvalue of largest
 *       magnitude, signed (Rayleigh quotient vᵀHv). The products are exact in double precision
 *       ({@link ExactHessian}, Pearlmutter's R-operator) for MLPs, and otherwise (or when asked) a central finite
 *       difference of float32 gradients: H·v ≈ (∇L(w + h·v) − ∇L(w − h·v)) / 2h with ‖v‖ = 1 (exact for a
 *       quadratic loss). The report says which was used and whether the iteration converged;</li>
 *   <li>ε-sharpness (Keskar et al. 2017): 100 · (max_{δ∈C} L(w + δ) − L(w)) / (1 + L(w)) over the box
 *       C = {|δ_i| ≤ ε(|w_i| + 1)}, maximized approximately by projected sign-gradient ascent (Keskar et al. use
 *       L-BFGS-B; this gives a lower bound of the same quantity).</li>
 * </ul>
 */
public final class Sharpness {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /**
     * @param powerIterations power-iteration steps at most (each two gradients over the dataset)
     * @param tolerance       stop when λ changes by less than this fraction of |λ| between steps
     * @param fdStep          finite-difference step h (the perturbation's L2 norm)
     * @param epsilon         box size of ε-sharpness (0: skip it)
     * @param ascentSteps     projected sign-gradient steps of ε-sharpness
     * @param seed            seed of the power iteration's start vector
     */
    public record Settings(int powerIterations, double tolerance, double fdStep, double epsilon, int ascentSteps,
                           long seed, HvpMethod method) {
        /** With {@link HvpMethod#AUTO}. */
        public Settings(int powerIterations, double tolerance, double fdStep, double epsilon, int ascentSteps,
                        long seed) {
            this(powerIterations, tolerance, fdStep, epsilon, ascentSteps, seed, HvpMethod.AUTO);
        }

        public Settings {
            if (method == null) {
                throw new IllegalArgumentException("sharpness: the Hessian-vector product method is null");
            }
            if (powerIterations < 1 || !(tolerance >= 0) || !(fdStep > 0) || !(epsilon >= 0) || ascentSteps < 1) {
                throw new IllegalArgumentException("sharpness: need powerIterations >= 1, tolerance >= 0, fdStep > 0,"
                        + " epsilon >= 0, ascentSteps >= 1; was " + powerIterations + ", " + tolerance + ", " + fdStep
                        + ", " + epsilon + ", " + ascentSteps);
            }
        }

        public static Settings defaults() {
            return new Settings(20, 1e-3, 1e-3, 1e-3, 10, 1);
        }

        /** A copy with another power-iteration tolerance. */
        public Settings withTolerance(double t) {
            return new Settings(powerIterations, t, fdStep, epsilon, ascentSteps, seed, method);
        }

        /** A copy with another Hessian-vector product method. */
        public Settings withMethod(HvpMethod m) {
            return new Settings(powerIterations, tolerance, fdStep, epsilon, ascentSteps, seed, m);
        }
    }

    /** How Hessian-vector products are computed. */
    public enum HvpMethod {
        /** Exact (double precision) when the model is supported ({@link #exactSupported}), else finite differences. */
        AUTO,
        /** Exact R-operator products in double precision; fails for unsupported models. */
        EXACT,
        /** Central finite differences of float32 gradients (any model). */
        FINITE_DIFFERENCE
    }

    /** True when exact Hessian-vector products cover {@code m} (Linear, activations, Flatten, Dropout). */
    public static boolean exactSupported(Model m) {
        return ExactHessian.supports(m);
    }

    /**
     * @param loss              L(w) on the dataset
     * @param topEigenvalue     λ_max estimate
     * @param iterations        power-iteration steps run
     * @param lastRelativeChange |λ_k − λ_{k−1}| / |λ_k| at the last step (convergence indicator)
     * @param epsilonSharpness  Keskar's ε-sharpness in percent (NaN when ε = 0)
     * @param examples          dataset size
     * @param converged         the relative change fell to the tolerance within the allowed iterations
     * @param method            {@link HvpMethod#EXACT} or {@link HvpMethod#FINITE_DIFFERENCE}: what was used
     */
    public record Report(double loss, double topEigenvalue, int iterations, double lastRelativeChange,
                         double epsilonSharpness, double epsilon, int examples, double seconds, boolean converged,
                         HvpMethod method) {
    }

    private Sharpness() {
    }

    /**
     * Measures sharpness at {@code w} (parameter layout) of a fresh model built by {@code architecture} (BatchNorm
     * statistics copied from {@code source}).
     */
    public static Report measure(Supplier<Model> architecture, Model source, MemorySegment w, Dataset data,
                                 LossKind lossKind, int batch, BnMode bn, KernelBackend kernels, Settings s) {
        long t0 = System.nanoTime();
        try (Model m = architecture.get()) {
            ModelState.copyBatchNormStatistics(source, m);
            long n = m.params().floatCount();
            try (LossProbe probe = new LossProbe(m, kernels, lossKind, batch, bn, true);
                 OffHeapBlock v = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock gp = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock gm = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                 OffHeapBlock delta = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE)) {
                MemorySegment p = m.params().segment();
                MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
                double l0 = probe.evaluate(data);
                // power iteration: v0 ~ N(0, I) on the tensors (padding stays zero), normalized
                SplittableRandom rng = new SplittableRandom(s.seed());
                MemorySegment vs = v.segment();
                Directions.gaussian(vs, m.layout(), rng.nextLong(), 0);
                int ni = Math.toIntExact(n);
                double[] vd = new double[ni];
                double[] hv = new double[ni];
                for (int i = 0; i < ni; i++) {
                    vd[i] = vs.getAtIndex(F, i);
                }
                normalize(vd, norm(vd));
                boolean exact = switch (s.method()) {
                    case EXACT -> true;
                    case FINITE_DIFFERENCE -> false;
                    case AUTO -> ExactHessian.supports(m);
                };
                ExactHessian hessian = exact ? new ExactHessian(m, w, data, lossKind) : null;
                double lambda = Double.NaN;
                double change = Double.NaN;
                boolean converged = false;
                int it = 0;
                while (it < s.powerIterations()) {
                    it++;
                    if (hessian != null) {
                        hessian.multiply(vd, hv);
                    } else {
                        for (int i = 0; i < ni; i++) {
                            vs.setAtIndex(F, i, (float) vd[i]);
                        }
                        hessianVector(probe, data, w, p, vs, s.fdStep(), gp.segment(), gm.segment(), n, kernels);
                        for (int i = 0; i < ni; i++) {
                            hv[i] = gp.segment().getAtIndex(F, i);
                        }
                    }
                    double next = 0; // vᵀHv, ‖v‖ = 1
                    for (int i = 0; i < ni; i++) {
                        next += vd[i] * hv[i];
                    }
                    double hvNorm = norm(hv);
                    change = Double.isNaN(lambda) ? Double.NaN : Math.abs(next - lambda) / Math.max(Math.abs(next), 1e-30);
                    lambda = next;
                    if (hvNorm == 0 || !Double.isFinite(hvNorm)) {
                        converged = hvNorm == 0;
                        break;
                    }
                    System.arraycopy(hv, 0, vd, 0, ni);
                    normalize(vd, hvNorm);
                    if (change <= s.tolerance()) {
                        converged = true;
                        break;
                    }
                }
                double eps = Double.NaN;
                if (s.epsilon() > 0) {
                    eps = epsilonSharpness(probe, data, w, p, delta.segment(), gp.segment(), l0, s, n);
                }
                return new Report(l0, lambda, it, change, eps, s.epsilon(), data.count(), (System.nanoTime() - t0) / 1e9,
                        converged, exact ? HvpMethod.EXACT : HvpMethod.FINITE_DIFFERENCE);
            }
        }
    }

    /** out = (∇L(w + h v) − ∇L(w − h v)) / 2h; {@code p} is the model's parameter slab; {@code tmp} scratch. */
    static void hessianVector(LossProbe probe, Dataset data, MemorySegment w, MemorySegment p, MemorySegment v,
                                      double h, MemorySegment out, MemorySegment tmp, long n, KernelBackend k) {
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        k.axpy(p, 0, (float) h, v, 0, n);
        probe.gradient(data, out);
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        k.axpy(p, 0, (float) -h, v, 0, n);
        probe.gradient(data, tmp);
        k.axpy(out, 0, -1f, tmp, 0, n);
        scale(out, 1 / (2 * h), n);
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
    }

    private static double epsilonSharpness(LossProbe probe, Dataset data, MemorySegment w, MemorySegment p,
                                           MemorySegment delta, MemorySegment grad, double l0, Settings s, long n) {
        delta.asSlice(0, n * Float.BYTES).fill((byte) 0);
        double best = l0;
        double stepFraction = 2.5 / s.ascentSteps();
        for (int step = 0; step < s.ascentSteps(); step++) {
            for (long i = 0; i < n; i++) {
                p.setAtIndex(F, i, w.getAtIndex(F, i) + delta.getAtIndex(F, i));
            }
            probe.gradient(data, grad);
            best = Math.max(best, probe.lastLoss());
            for (long i = 0; i < n; i++) {
                double box = s.epsilon() * (Math.abs(w.getAtIndex(F, i)) + 1);
                double g = grad.getAtIndex(F, i);
                double d = delta.getAtIndex(F, i) + Math.signum(g) * stepFraction * box;
                delta.setAtIndex(F, i, (float) Math.max(-box, Math.min(box, d)));
            }
        }
        for (long i = 0; i < n; i++) {
            p.setAtIndex(F, i, w.getAtIndex(F, i) + delta.getAtIndex(F, i));
        }
        best = Math.max(best, probe.evaluate(data));
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        return 100 * (best - l0) / (1 + l0);
    }

    private static double norm(double[] x) {
        double s = 0;
        for (double d : x) {
            s += d * d;
        }
        return Math.sqrt(s);
    }

    private static void normalize(double[] x, double norm) {
        double inv = 1 / norm;
        for (int i = 0; i < x.length; i++) {
            x[i] *= inv;
        }
    }

    private static void scale(MemorySegment x, double s, long n) {
        for (long i = 0; i < n; i++) {
            x.setAtIndex(F, i, (float) (x.getAtIndex(F, i) * s));
        }
    }
}
