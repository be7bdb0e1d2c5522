package dev.descent.sdk.toy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ToyDescentTest {

    @Test
    void twoBasinsGradientShouldMatchFiniteDifferences() {
        TwoBasins s = TwoBasins.standard();
        SplittableRandom r = new SplittableRandom(1);
        double[] g = new double[2];
        for (int k = 0; k < 50; k++) {
            double[] x = {r.nextDouble(-2.5, 2.5), r.nextDouble(-2, 2)};
            s.value(x, g);
            for (int j = 0; j < 2; j++) {
                double h = 1e-6;
                double[] p = x.clone();
                p[j] += h;
                double up = s.value(p, null);
                p[j] -= 2 * h;
                double down = s.value(p, null);
                assertThat(g[j]).isCloseTo((up - down) / (2 * h), within(1e-7));
            }
        }
    }

    @Test
    void shiftedObjectiveShouldBeTheMeanOfItsTermsWithCentredShifts() {
        Surface bowl = (x, grad) -> {
            if (grad != null) {
                grad[0] = 2 * x[0];
                grad[1] = 6 * x[1];
            }
            return x[0] * x[0] + 3 * x[1] * x[1];
        };
        Objective f = Objective.shifted(bowl, 2, 10, 0.3, 4);
        double[] g = new double[2];
        f.gradient(new double[] {0, 0}, g);
        assertThat(g[0]).isCloseTo(0, within(1e-12)); // centred shifts: the mean of a quadratic keeps its minimum
        assertThat(g[1]).isCloseTo(0, within(1e-12));
        assertThat(ToyDescent.hessianEigenvalues(f, new double[] {0.3, -0.2})).containsExactly(new double[] {2, 6},
                within(1e-6));
        double[] t0 = new double[2];
        f.term(0, new double[] {0, 0}, t0);
        assertThat(Math.abs(t0[0]) + Math.abs(t0[1])).as("terms differ: real mini-batch noise").isGreaterThan(1e-3);
    }

    @Test
    void gdShouldStayInTheNarrowBasinWhileSgdLeavesIt() {
        TwoBasins s = TwoBasins.standard();
        Objective f = s.objective(64, 0.2, 1);
        double[] narrow = ToyDescent.minimum(f, s.narrowCentre(), 0.02);
        double[] wide = ToyDescent.minimum(f, s.wideCentre(), 0.02);
        assertThat(f.value(wide)).isLessThan(f.value(narrow));
        double sharp = ToyDescent.hessianEigenvalues(f, narrow)[1];
        double flat = ToyDescent.hessianEigenvalues(f, wide)[1];
        assertThat(sharp).isGreaterThan(3 * flat);
        double[] start = {narrow[0] + 0.05, narrow[1] - 0.05};
        ToyTrajectory gd = ToyDescent.run(f, start, 0.15, 64, 300, 2);
        assertThat(gd.steps()).isEqualTo(300);
        assertThat(dist(gd.end(), narrow)).isLessThan(1e-3);
        int escaped = 0;
        for (int seed = 0; seed < 10; seed++) {
            ToyTrajectory sgd = ToyDescent.run(f, start, 0.15, 1, 300, seed);
            escaped += dist(ToyDescent.minimum(f, sgd.end(), 0.02), wide) < 1e-3 ? 1 : 0;
        }
        assertThat(escaped).isGreaterThanOrEqualTo(7);
        ToyTrajectory again = ToyDescent.run(f, start, 0.15, 1, 300, 3);
        assertThat(again.points()).isDeepEqualTo(ToyDescent.run(f, start, 0.15, 1, 300, 3).points());
    }

    @Test
    void shouldRejectBadArgumentsNamingThem() {
        Objective f = TwoBasins.standard().objective(4, 0.1, 1);
        assertThatThrownBy(() -> ToyDescent.run(f, new double[] {0, 0, 0}, 0.1, 1, 10, 1))
                .hasMessageContaining("start has 3 coordinates, the objective 2");
        assertThatThrownBy(() -> ToyDescent.run(f, new double[] {0, 0}, -1, 1, 10, 1)).hasMessageContaining("lr=-1.0");
        assertThatThrownBy(() -> Objective.shifted((x, g) -> 0, 2, 0, 0.1, 1)).hasMessageContaining("terms=0");
    }

    private static double dist(double[] a, double[] b) {
        return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }
}
