package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ExponentialScheduleTest {

    @Test
    void shouldGrowPerStepAsLiAndAroraPrescribe() {
        double lr = 0.1;
        double wd = 5e-3;
        double alpha = Schedule.weightDecayShrinkFactor(lr, wd, 0);
        assertThat(alpha).isCloseTo(1 - lr * wd, within(1e-15));
        Schedule s = Schedule.exponentialForWeightDecay(lr, wd, 0);
        for (long t : new long[] {0, 1, 7, 1000}) {
            assertThat(s.engine().lr(t)).isCloseTo(lr * Math.pow(alpha, -2.0 * t - 1), within(1e-12 * Math.pow(alpha, -2.0 * t)));
        }
        double mu = 0.9;
        double a = Schedule.weightDecayShrinkFactor(lr, wd, mu);
        assertThat(a * a - (1 + mu - lr * wd) * a + mu).isCloseTo(0, within(1e-14));
        assertThat(a).isCloseTo(1 - lr * wd / (1 - mu), within(1e-3)).isLessThan(1 - lr * wd);
        assertThatThrownBy(() -> Schedule.weightDecayShrinkFactor(1, 3, 0.9)).hasMessageContaining("too large");
    }

    @Test
    void freezingShouldNameTheTensorsWhenAGlobMatchesNothing() {
        ModelDefinition m = ModelDefinition.fromSpec("descent-sequential v1\ninput 4\nlinear 3 nobias\nbatchnorm 0.1 1e-5\n"
                + "linear 2\n", "kaiming-normal", 1);
        assertThat(m.freeze("*:batchnorm.*").toString()).contains("frozen *:batchnorm.*");
        assertThatThrownBy(() -> m.freeze("5:linear.*")).hasMessageContaining("0:linear.weight")
                .hasMessageContaining("1:batchnorm.gamma").hasMessageContaining("2:linear.bias");
        try (Network n = Network.create(m)) {
            assertThat(n.parameterNames()).containsExactly("0:linear.weight", "1:batchnorm.gamma", "1:batchnorm.beta",
                    "2:linear.weight", "2:linear.bias");
            assertThat(n.parameterNorm("1:batchnorm.gamma")).isCloseTo(Math.sqrt(3), within(1e-6)); // γ starts at 1
        }
    }
}
