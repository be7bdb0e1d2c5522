package dev.descent.engine.init;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.nn.Sequential;
import org.junit.jupiter.api.Test;

class InitTest {
    private static double[] stats(Initializer init, int in, int out) {
        try (Model m = Sequential.input(in).add(new Linear(out)).build().initialize(init, Init.ZEROS, 5)) {
            ParameterLayout.Entry w = m.layout().entry(0);
            double s = 0;
            double s2 = 0;
            double max = 0;
            for (int i = 0; i < w.count(); i++) {
                double v = m.params().getFloat(w.offset() + i);
                s += v;
                s2 += v * v;
                max = Math.max(max, Math.abs(v));
            }
            ParameterLayout.Entry b = m.layout().entry(1);
            for (int i = 0; i < b.count(); i++) {
                assertThat(m.params().getFloat(b.offset() + i)).isZero();
            }
            return new double[]{s / w.count(), Math.sqrt(s2 / w.count()), max};
        }
    }

    @Test
    void shouldMatchTheVarianceRulesAndZeroBiases() {
        int in = 400;
        int out = 300;
        assertThat(stats(Init.KAIMING_NORMAL, in, out)[1]).isCloseTo(Math.sqrt(2.0 / in), within(0.003));
        assertThat(stats(Init.kaimingNormal(FanMode.FAN_OUT, Init.RELU_GAIN), in, out)[1])
                .isCloseTo(Math.sqrt(2.0 / out), within(0.003));
        double kuBound = Math.sqrt(2.0) * Math.sqrt(3.0 / in);
        double[] ku = stats(Init.KAIMING_UNIFORM, in, out);
        assertThat(ku[2]).isLessThanOrEqualTo(kuBound).isGreaterThan(0.99 * kuBound);
        assertThat(ku[1]).isCloseTo(kuBound / Math.sqrt(3), within(0.003));
        assertThat(stats(Init.XAVIER_NORMAL, in, out)[1]).isCloseTo(Math.sqrt(2.0 / (in + out)), within(0.003));
        assertThat(stats(Init.XAVIER_UNIFORM, in, out)[2]).isLessThanOrEqualTo(Math.sqrt(6.0 / (in + out)));
        assertThat(stats(Init.normal(0.01), in, out)[1]).isCloseTo(0.01, within(0.0005));
        assertThat(stats(Init.uniform(0.2), in, out)[2]).isLessThanOrEqualTo(0.2).isGreaterThan(0.19);
        assertThat(stats(Init.constant(0.5), in, out)[0]).isEqualTo(0.5);
        assertThat(stats(Init.ZEROS, in, out)[2]).isZero();
        assertThat(Init.parse("normal:0.01").describe()).isEqualTo("normal(std=0.01)");
    }

    @Test
    void shouldParseAnExplicitGainAndAScaleFactor() {
        int in = 400;
        int out = 300;
        assertThat(stats(Init.parse("kaiming-normal:gain=1"), in, out)[1]).isCloseTo(Math.sqrt(1.0 / in), within(0.003));
        assertThat(stats(Init.parse("xavier-normal:gain=2"), in, out)[1])
                .isCloseTo(2 * Math.sqrt(2.0 / (in + out)), within(0.003));
        double[] base = stats(Init.KAIMING_NORMAL, in, out);
        double[] doubled = stats(Init.parse("kaiming-normal*2"), in, out);
        assertThat(doubled[1]).isCloseTo(2 * base[1], within(1e-6)); // same draws, times two
        assertThat(doubled[2]).isCloseTo(2 * base[2], within(1e-6));
        assertThat(stats(Init.parse("constant:0.25*2"), in, out)[0]).isEqualTo(0.5);
        assertThat(Init.parse("kaiming-normal*2").describe()).isEqualTo("kaiming_normal(fan_in, gain=1.414)*2.000");
    }

    @Test
    void shouldNameTheBadPartOfAnInitializer() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Init.parse("kaiming-normal*big"))
                .hasMessageContaining("'big'").hasMessageContaining("kaiming-normal*2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Init.parse("xavier-normal:2"))
                .hasMessageContaining("xavier-normal:gain=G");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Init.parse("kaiming-normal:gain=-1"))
                .hasMessageContaining("gain must be finite and >= 0, was -1.0");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Init.parse("lecun"))
                .hasMessageContaining("unknown initializer 'lecun'");
    }

    @Test
    void sameSeedShouldGiveSameWeights() {
        try (Model a = Sequential.input(20).add(new Linear(10)).add(new Linear(5)).build()
                .initialize(Init.KAIMING_NORMAL, Init.ZEROS, 3);
             Model b = Sequential.input(20).add(new Linear(10)).add(new Linear(5)).build()
                     .initialize(Init.KAIMING_NORMAL, Init.ZEROS, 3);
             Model c = Sequential.input(20).add(new Linear(10)).add(new Linear(5)).build()
                     .initialize(Init.KAIMING_NORMAL, Init.ZEROS, 4)) {
            assertThat(a.parametersSha256()).isEqualTo(b.parametersSha256()).isNotEqualTo(c.parametersSha256());
        }
    }
}
