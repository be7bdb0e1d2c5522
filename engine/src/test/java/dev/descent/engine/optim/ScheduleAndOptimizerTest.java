package dev.descent.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Sequential;
import org.junit.jupiter.api.Test;

class ScheduleAndOptimizerTest {
    @Test
    void schedulesShouldFollowTheirFormulas() {
        assertThat(LrSchedule.constant(0.1).lr(1000)).isEqualTo(0.1);
        assertThat(LrSchedule.step(1.0, 0.5, 10).lr(25)).isEqualTo(0.25);
        assertThat(LrSchedule.exponential(1.0, 0.9).lr(2)).isCloseTo(0.81, within(1e-12));
        LrSchedule cos = LrSchedule.cosine(1.0, 0.0, 0).resolve(100);
        assertThat(cos.lr(0)).isEqualTo(1.0);
        assertThat(cos.lr(50)).isCloseTo(0.5, within(1e-12));
        assertThat(cos.lr(100)).isCloseTo(0.0, within(1e-12));
        LrSchedule wc = LrSchedule.warmupCosine(10, 1.0, 0.0).resolve(110);
        assertThat(wc.lr(0)).isCloseTo(0.1, within(1e-12));
        assertThat(wc.lr(9)).isCloseTo(1.0, within(1e-12));
        assertThat(wc.lr(10)).isEqualTo(1.0);
        assertThat(wc.lr(60)).isCloseTo(0.5, within(1e-12));
        LrSchedule seq = LrSchedule.constant(1.0).then(5, LrSchedule.constant(0.1));
        assertThat(seq.lr(4)).isEqualTo(1.0);
        assertThat(seq.lr(5)).isEqualTo(0.1);
    }

    @Test
    void decoupledWeightDecayShouldShrinkParametersWithZeroGradient() {
        try (Model m = Sequential.input(3).add(new Linear(2)).build().initialize(Init.constant(1.0), Init.ZEROS, 1);
             OptimizerState sgdw = new OptimizerState(Optimizers.momentum(0.1, 0.9).withWeightDecay(0.5, true), m)) {
            sgdw.step(Kernels.scalar(), 0.1f);
            // grads are zero: p <- p * (1 - lr*wd) = 0.95, then momentum of zero gradient changes nothing
            assertThat(m.params().getFloat(0)).isEqualTo(0.95f);
            assertThat(sgdw.optimizer().momentSlabs()).isEqualTo(1);
        }
    }

    @Test
    void adamShouldMoveEachParameterByAboutLrOnFirstStep() {
        try (Model m = Sequential.input(3).add(new Linear(2)).build().initialize(Init.constant(1.0), Init.ZEROS, 1);
             OptimizerState adam = new OptimizerState(Optimizers.adam(0.01), m)) {
            m.grads().fill(0.3f);
            adam.step(Kernels.scalar(), 0.01f);
            assertThat(m.params().getFloat(0)).isCloseTo(0.99f, within(1e-5f));
            assertThat(m.params().getFloat(16)).isCloseTo(-0.01f, within(1e-5f)); // bias (offset 16: aligned)
        }
    }
}
