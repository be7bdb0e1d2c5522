package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class LeastSquaresTest {
    @Test
    void shouldGiveTheMinimumNormSolutionOfARankDeficientSystem() {
        // x + y = 2 (twice): every (x, 2 - x) fits; the smallest is (1, 1)
        double[][] x = LeastSquares.minNorm(new double[][] {{1, 1}, {1, 1}}, new double[][] {{2}, {2}});
        assertThat(x[0][0]).isCloseTo(1, offset(1e-12));
        assertThat(x[1][0]).isCloseTo(1, offset(1e-12));
    }

    @Test
    void shouldSolveRidgeInClosedForm() {
        // one feature: x = a·b / (a² + λ)
        double[][] x = LeastSquares.ridge(new double[][] {{2}}, new double[][] {{3}}, 0.5);
        assertThat(x[0][0]).isCloseTo(6 / 4.5, offset(1e-12));
    }

    @Test
    void shouldNameBadInput() {
        assertThatThrownBy(() -> LeastSquares.minNorm(new double[][] {{1, 2}, {3}}, new double[][] {{1}, {1}}))
                .hasMessageContaining("row 1 has 1 values, row 0 has 2");
        assertThatThrownBy(() -> LeastSquares.minNorm(new double[][] {{1}}, new double[][] {{1}, {2}}))
                .hasMessageContaining("A has 1 rows but B has 2");
        assertThatThrownBy(() -> LeastSquares.ridge(new double[][] {{1}}, new double[][] {{1}}, 0))
                .hasMessageContaining("lambda must be > 0");
    }

    @Test
    void shouldPlaceFeatureCountsDenselyAroundTheThreshold() {
        int[] counts = RandomFeaturePlan.featureCountsAround(1000, 0.1, 10, 15);
        assertThat(counts[0]).isEqualTo(100);
        assertThat(counts[counts.length - 1]).isEqualTo(10000);
        assertThat(counts).contains(980, 1000, 1020).isSorted().doesNotHaveDuplicates();
        assertThatThrownBy(() -> RandomFeaturePlan.builder().train(DataSource.mnist(Split.TRAIN))
                .test(DataSource.mnist(Split.TEST)).featureCounts(10, 10).build())
                .hasMessageContaining("strictly increasing");
    }
}
