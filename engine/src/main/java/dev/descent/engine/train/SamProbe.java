package dev.descent.engine.train;

import dev.descent.engine.backprop.BackpropStrategy;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.optim.Sam;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * SAM's second gradient pass: a private model of the same architecture (own parameter and gradient slabs, own
 * activation slab) placed at w + ε, where ε is computed from the gradient the first pass left in the trained
 * model's slab. Its gradient is then copied into that slab, so the optimizer steps from w with the gradient at
 * w + ε. The trained model's parameters are never perturbed, which keeps data-parallel workers that share one
 * parameter slab (and replicas the parameter server refreshes) correct: each perturbs only its own copy, with
 * its own mini-batch gradient (m-sharpness). Allocates nothing per call.
 */
final class SamProbe implements AutoCloseable {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    private final Sam sam;
    private final KernelBackend kernels;
    private final Model probe;
    private final GradientPass pass;
    private final List<ParameterLayout.Entry> entries;
    private double lastPerturbedLoss = Double.NaN;
    private double lastEpsilonNorm;

    SamProbe(Sam sam, Model model, KernelBackend kernels, LossKind lossKind, BackpropStrategy strategy, int maxBatch,
             int threads, long seed) {
        this.sam = sam;
        this.kernels = kernels;
        Model m = Model.fromSpec(model.spec());
        try {
            this.pass = new GradientPass(m, kernels, lossKind, strategy, maxBatch, threads, seed);
        } catch (RuntimeException | Error e) {
            m.close();
            throw e;
        }
        this.probe = m;
        this.entries = m.layout().entries();
    }

    /**
     * {@code model}'s gradient slab holds g = ∇L_B(w): moves the probe to w + ε, runs the pass there on the same
     * batch (same Dropout masks: same step) and overwrites {@code model}'s gradients with ∇L_B(w + ε). Returns
     * L_B(w + ε) (non-finite: the gradients are stale).
     */
    double run(Model model, MemorySegment features, long fOff, MemorySegment labels, long lOff, int batch, long step) {
        long n = model.layout().totalFloats();
        MemorySegment w = model.params().segment();
        MemorySegment g = model.grads().segment();
        MemorySegment p = probe.params().segment();
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        lastEpsilonNorm = sam.adaptive() ? perturbAdaptive(w, g, p) : perturb(g, p, n);
        double l = pass.run(features, fOff, labels, lOff, batch, step);
        if (Double.isFinite(l)) {
            MemorySegment.copy(probe.grads().segment(), 0, g, 0, n * Float.BYTES);
        }
        lastPerturbedLoss = l;
        return l;
    }

    /** p += ρ·g/‖g‖; returns ‖ε‖ (0 when g = 0). */
    private double perturb(MemorySegment g, MemorySegment p, long n) {
        double norm = Math.sqrt(kernels.sumSquares(g, 0, n));
        if (norm > 0 && Double.isFinite(norm)) {
            kernels.axpy(p, 0, (float) (sam.rho() / norm), g, 0, n);
            return sam.rho();
        }
        return 0;
    }

    /** ASAM: p += ρ·T²g/‖T·g‖ with T = |w| + η on weights, 1 on biases; returns ‖ε‖. */
    private double perturbAdaptive(MemorySegment w, MemorySegment g, MemorySegment p) {
        double eta = sam.eta();
        double sum = 0;
        for (int e = 0; e < entries.size(); e++) {
            ParameterLayout.Entry en = entries.get(e);
            long end = en.offset() + en.count();
            for (long i = en.offset(); i < end; i++) {
                double t = en.bias() ? 1.0 : Math.abs(w.getAtIndex(F, i)) + eta;
                double tg = t * g.getAtIndex(F, i);
                sum += tg * tg;
            }
        }
        double norm = Math.sqrt(sum);
        if (!(norm > 0) || !Double.isFinite(norm)) {
            return 0;
        }
        double scale = sam.rho() / norm;
        double epsSq = 0;
        for (int e = 0; e < entries.size(); e++) {
            ParameterLayout.Entry en = entries.get(e);
            long end = en.offset() + en.count();
            for (long i = en.offset(); i < end; i++) {
                double t = en.bias() ? 1.0 : Math.abs(w.getAtIndex(F, i)) + eta;
                double eps = scale * t * t * g.getAtIndex(F, i);
                epsSq += eps * eps;
                p.setAtIndex(F, i, (float) (p.getAtIndex(F, i) + eps));
            }
        }
        return Math.sqrt(epsSq);
    }

    /** L_B(w + ε) of the last call. */
    double perturbedLoss() {
        return lastPerturbedLoss;
    }

    /** ‖ε‖ of the last call. */
    double epsilonNorm() {
        return lastEpsilonNorm;
    }

    /** The probe model (its parameters are w + ε after a call). */
    Model probe() {
        return probe;
    }

    @Override
    public void close() {
        try {
            pass.close();
        } finally {
            probe.close();
        }
    }
}
