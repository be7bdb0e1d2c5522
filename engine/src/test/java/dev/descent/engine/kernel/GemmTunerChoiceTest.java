package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How {@code descent tune} picks a tile from its measurements (the measuring itself is timed, so not tested here). */
class GemmTunerChoiceTest {
    private static final GemmTile BUILT_IN = GemmTile.parse("512:8x2");

    private static GemmTuner.Trial trial(String tile, double big, double mlp) {
        return new GemmTuner.Trial(new GemmShape(GemmTile.parse(tile), 1024, 128, 1024, "descent tune"), big, mlp);
    }

    @Test
    void shouldKeepTheBuiltInTileWhenAnotherScoresWithinTheNoise() {
        // session 15's Zen 5: 12x2u2 scored ~2% above the built-in in one run and trained 1-3% slower
        GemmTuner.Trial builtIn = trial("512:8x2", 180.7, 164.6);
        GemmTuner.Trial close = trial("512:12x2u2", 187.8, 165.0);
        assertThat(close.score()).isGreaterThan(builtIn.score());
        assertThat(GemmTuner.pickTile(List.of(close, builtIn, trial("512:6x4", 196.7, 150.9)), BUILT_IN))
                .isSameAs(builtIn);
    }

    @Test
    void shouldTakeATileThatBeatsTheBuiltInByMoreThanTheMargin() {
        // session 14's Intel Xeon: 12x2u2 at 125 / 120 against the built-in 8x2 at 89 / 89
        GemmTuner.Trial builtIn = trial("512:8x2", 88.9, 89.2);
        GemmTuner.Trial faster = trial("512:12x2u2", 125.0, 119.8);
        assertThat(GemmTuner.pickTile(List.of(builtIn, faster), BUILT_IN)).isSameAs(faster);
        // and the best score when the built-in was not among the candidates
        GemmTuner.Trial other = trial("512:6x4", 100, 100);
        assertThat(GemmTuner.pickTile(List.of(other, faster), BUILT_IN)).isSameAs(faster);
    }

    @Test
    void shouldScoreTheGeometricMeanOfTheTwoFigures() {
        assertThat(trial("512:8x2", 200, 50).score()).isEqualTo(100.0);
        assertThat(trial("512:8x2", 200, Double.NaN).score()).isEqualTo(200.0);
    }
}
