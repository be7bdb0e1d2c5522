package dev.descent.engine.optim;

import dev.descent.engine.kernel.KernelBackend;
import java.lang.foreign.MemorySegment;

/**
 * SGD, with optional (Nesterov) momentum in the PyTorch convention: v = mu·v + g; p -= lr·v (Nesterov:
 * p -= lr·(g + mu·v)).
 */
public record Sgd(double learningRate, double momentum, boolean nesterov, double weightDecay,
                  boolean decoupledWeightDecay) implements Optimizer {
    public Sgd {
        Optimizers.check("learning rate", learningRate);
        Optimizers.check("weight decay", weightDecay);
        if (!(momentum >= 0.0 && momentum < 1.0)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), was " + momentum);
        }
        if (nesterov && momentum == 0.0) {
            throw new IllegalArgumentException("Nesterov needs momentum > 0");
        }
    }

    @Override
    public int momentSlabs() {
        return momentum == 0.0 ? 0 : 1;
    }

    @Override
    public Optimizer withLearningRate(double lr) {
        return new Sgd(lr, momentum, nesterov, weightDecay, decoupledWeightDecay);
    }

    @Override
    public Optimizer withWeightDecay(double wd, boolean decoupled) {
        return new Sgd(learningRate, momentum, nesterov, wd, decoupled);
    }

    @Override
    public void step(KernelBackend k, MemorySegment params, MemorySegment grads, MemorySegment state, long stride,
                     long offset, long n, float lr, long t) {
        float coupled = (float) weightDecay;
        if (decoupledWeightDecay && weightDecay != 0.0) {
            k.scale(params, offset, (float) (1.0 - lr * weightDecay), n);
            coupled = 0f;
        }
        if (momentum == 0.0) {
            k.sgdUpdate(params, offset, grads, offset, lr, coupled, n);
        } else {
            k.momentumUpdate(params, offset, grads, offset, state, offset, lr, (float) momentum, coupled, nesterov, n);
        }
    }

    @Override
    public String describe() {
        String name = momentum == 0.0 ? "sgd" : nesterov ? "nesterov" : "momentum";
        return name + "(lr=" + learningRate + (momentum == 0.0 ? "" : ", mu=" + momentum)
                + (weightDecay == 0.0 ? "" : ", wd=" + weightDecay + (decoupledWeightDecay ? " decoupled" : ""))
                + ")";
    }
}
