package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/** Adam (coupled L2 decay) or AdamW (decoupled decay), bias-corrected; moments m and v are two slab copies. */
public record Adam(double learningRate, double beta1, double beta2, double eps, double weightDecay,
                   boolean decoupledWeightDecay) implements Optimizer {
    public Adam {
        Optimizers.check("learning rate", learningRate);
        Optimizers.check("weight decay", weightDecay);
        if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0)) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), were " + beta1 + ", " + beta2);
        }
        if (!(eps > 0.0)) {
            throw new IllegalArgumentException("Adam eps must be > 0, was " + eps);
        }
    }

    @Override
    public int momentSlabs() {
        return 2;
    }

    @Override
    public Optimizer withLearningRate(double lr) {
        return new Adam(lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
    }

    @Override
    public Optimizer withWeightDecay(double wd, boolean decoupled) {
        return new Adam(learningRate, beta1, beta2, eps, wd, decoupled);
    }

    @Override
    public void step(KernelBackend k, MemorySegment params, MemorySegment grads, MemorySegment state, long stride,
                     long offset, long n, float lr, long t) {
        k.adamUpdate(params, offset, grads, offset, state, offset, state, stride + offset, lr, (float) beta1,
                (float) beta2, (float) eps, (float) weightDecay, decoupledWeightDecay, t, n);
    }

    @Override
    public String describe() {
        return (decoupledWeightDecay ? "adamw" : "adam") + "(lr=" + learningRate + ", betas=" + beta1 + "/" + beta2
                + ", eps=" + eps + (weightDecay == 0.0 ? "" : ", wd=" + weightDecay) + ")";
    }
}
