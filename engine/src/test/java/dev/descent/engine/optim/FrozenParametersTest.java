package dev.descent.engine.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.BatchNorm;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.nn.Sequential;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Frozen tensors never move (gradient and weight decay alike); the others get exactly the unfrozen update. */
class FrozenParametersTest {

    private static Model model() {
        return Sequential.input(7).add(new Linear(5, false)).add(new BatchNorm()).add(new ActivationLayer(Activation.RELU))
                .add(new Linear(3)).build().initialize(Init.XAVIER_NORMAL, Init.normal(0.1), 3);
    }

    @Test
    void shouldLeaveFrozenTensorsUntouchedAndUpdateTheRestAsWithoutFreezing() {
        KernelBackend k = Kernels.backend();
        for (Optimizer opt : List.of(Optimizers.parse("sgd", 0.1, 0, 0.05), Optimizers.parse("momentum", 0.05, 0.9, 0.05),
                Optimizers.adamW(0.01, 0.1))) {
            try (Model free = model(); Model part = model()) {
                part.freeze("1:batchnorm.*", true).freeze("3:linear.*", true);
                float[] before = part.params().toArray();
                try (OptimizerState a = new OptimizerState(opt, free); OptimizerState b = new OptimizerState(opt, part)) {
                    SplittableRandom rnd = new SplittableRandom(9);
                    for (int step = 0; step < 4; step++) {
                        for (long i = 0; i < free.layout().totalFloats(); i++) {
                            float g = (float) rnd.nextGaussian();
                            free.grads().setFloat(i, g);
                            part.grads().setFloat(i, g);
                        }
                        a.step(k, 0.1f);
                        b.step(k, 0.1f, Kernels.pool(), 2); // falls back to the serial runs
                    }
                }
                float[] moved = free.params().toArray();
                float[] after = part.params().toArray();
                List<ParameterLayout.Entry> es = part.layout().entries();
                for (int e = 0; e < es.size(); e++) {
                    ParameterLayout.Entry en = es.get(e);
                    for (int i = 0; i < en.count(); i++) {
                        int at = (int) en.offset() + i;
                        float expected = part.frozen(e) ? before[at] : moved[at];
                        assertThat(after[at]).as("%s %s[%d]", opt.describe(), en.qualifiedName(), i).isEqualTo(expected);
                    }
                    if (!part.frozen(e)) {
                        assertThat(after[(int) en.offset()]).as("trainable tensors moved").isNotEqualTo(before[(int) en.offset()]);
                    }
                }
            }
        }
    }

    @Test
    void shouldNameTheTensorsWhenAPatternMatchesNothing() {
        try (Model m = model()) {
            assertThat(m.entriesMatching("*batchnorm.*")).hasSize(2);
            assertThat(m.entriesMatching("*.weight")).hasSize(2);
            assertThatThrownBy(() -> m.freeze("9:linear.*", true)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("9:linear.*").hasMessageContaining("0:linear.weight")
                    .hasMessageContaining("1:batchnorm.gamma");
        }
    }
}
