package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DivergenceGuardTest {
    @Test
    void shouldFlagALossThousandsOfTimesTheStartingLossButNotNoise() {
        DivergenceGuard g = new DivergenceGuard();
        for (int i = 0; i < DivergenceGuard.REFERENCE_STEPS; i++) {
            assertThat(g.explosive(2.3 + 0.1 * (i % 3))).isFalse();
        }
        assertThat(g.reference()).isBetween(2.3, 2.5);
        assertThat(g.explosive(50)).isFalse();      // a bad step, not a divergence
        assertThat(g.explosive(0.01)).isFalse();    // a well-fitted model
        assertThat(g.explosive(5.5e23)).isTrue();   // warm-up to lr 40 (the run)
        assertThat(g.explosive(3000)).isTrue();
        assertThat(g.explosive(Double.NaN)).isFalse(); // non-finite losses have their own path
    }
}
