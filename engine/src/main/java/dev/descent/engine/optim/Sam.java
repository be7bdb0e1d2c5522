package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/**
 * Sharpness-Aware Minimization (Foret et al. 2020) around a base update rule, and its adaptive variant ASAM
 * (Kwon et al. 2021). A training step computes the gradient g at w, moves to the worst-case neighbour
 * w + ε with ε = ρ·g/‖g‖ (ASAM: ε = ρ·T²g/‖T·g‖ with T = diag(|w| + η) on weight tensors and 1 on biases, as in
 * the authors' code), takes the gradient there and hands it to {@link #base()}, which updates w (not w + ε).
 *
 * <p>The two gradient passes are run by {@link dev.descent.engine.train.GradientPass} (it sees that the job's
 * optimizer is a {@code Sam}); this record only carries the settings and delegates the update, so the moment
 * slabs, checkpoints and resume are exactly those of the base rule. With several workers each worker perturbs
 * with its own shard's gradient (the paper's m-sharpness, m = shard size).
 *
 * @param base     the update applied with the gradient at w + ε (any rule, not another {@code Sam})
 * @param rho      neighbourhood radius ρ (&gt; 0; Foret et al. use 0.05, ASAM typically 0.5–2)
 * @param adaptive ASAM's scale-invariant neighbourhood
 * @param eta      ASAM's offset η in T = |w| + η (Kwon et al.: 0.01); unused when not adaptive
 */
public record Sam(Optimizer base, double rho, boolean adaptive, double eta) implements Optimizer {
    /** ASAM's default η. */
    public static final double ETA_DEFAULT = 0.01;

    public Sam {
        if (base == null) {
            throw new IllegalArgumentException("SAM needs a base optimizer");
        }
        if (base instanceof Sam) {
            throw new IllegalArgumentException("SAM cannot wrap another SAM: " + base.describe());
        }
        if (!(rho > 0) || Double.isInfinite(rho)) {
            throw new IllegalArgumentException("SAM rho must be finite and > 0, was " + rho);
        }
        Optimizers.check("ASAM eta", eta);
    }

    @Override
    public double learningRate() {
        return base.learningRate();
    }

    @Override
    public double weightDecay() {
        return base.weightDecay();
    }

    @Override
    public boolean decoupledWeightDecay() {
        return base.decoupledWeightDecay();
    }

    @Override
    public int momentSlabs() {
        return base.momentSlabs();
    }

    @Override
    public Optimizer withLearningRate(double lr) {
        return new Sam(base.withLearningRate(lr), rho, adaptive, eta);
    }

    @Override
    public Optimizer withWeightDecay(double wd, boolean decoupled) {
        return new Sam(base.withWeightDecay(wd, decoupled), rho, adaptive, eta);
    }

    /** The base rule's update; the gradient slab already holds the gradient at w + ε. */
    @Override
    public void step(KernelBackend k, MemorySegment params, MemorySegment grads, MemorySegment state, long stride,
                     long offset, long n, float lr, long t) {
        base.step(k, params, grads, state, stride, offset, n, lr, t);
    }

    @Override
    public String describe() {
        return (adaptive ? "asam(rho=" + rho + ", eta=" + eta : "sam(rho=" + rho) + ", base=" + base.describe() + ")";
    }
}
