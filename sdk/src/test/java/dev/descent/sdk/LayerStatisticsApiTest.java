package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.event.TrainingEvent;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Per-layer statistics through the public SDK: gradient health events in-process, activations, weight rows. */
class LayerStatisticsApiTest {
    private static final int N = 320;
    private static final int F = 12;

    private static DataSource data() {
        SplittableRandom r = new SplittableRandom(11);
        float[][] x = new float[N][F];
        int[] y = new int[N];
        for (int i = 0; i < N; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < F; f++) {
                x[i][f] = (f % 3 == y[i] ? 2f : 0f) + (float) r.nextGaussian() * 0.5f;
            }
        }
        return DataSource.arrays("blobs", x, y, 3);
    }

    private static ModelDefinition model(String init) {
        return ModelDefinition.mlp().input(F).hidden(16, 16).output(3).init(init).seed(4).build();
    }

    @Test
    void shouldPublishGradientStatsInProcessFromInitializationOn() {
        List<TrainingEvent.GradientStats> stats = new CopyOnWriteArrayList<>();
        Descent.trainInProcess(TrainingPlan.builder().model(model("kaiming-normal")).train(data())
                .optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(32).epochs(2).gradientStatsEvery(7)
                .listener(e -> {
                    if (e instanceof TrainingEvent.GradientStats g) {
                        stats.add(g);
                    }
                }).build());
        // 10 steps per epoch, 20 steps: statistics of steps 0, 7, 14, published as steps 1, 8, 15
        assertThat(stats).extracting(TrainingEvent.GradientStats::step).containsExactly(1L, 8L, 15L);
        TrainingEvent.GradientStats first = stats.get(0);
        assertThat(first.layers()).containsExactly("0:linear", "2:linear", "4:linear");
        for (int i = 0; i < 3; i++) {
            assertThat(first.gradientNorms()[i]).isPositive().isFinite();
            assertThat(first.updateRatios()[i]).isPositive().isLessThan(1);
        }
        assertThat(first.globalGradientNorm()).isGreaterThanOrEqualTo(first.gradientNorms()[0]);
    }

    @Test
    void shouldMeasureActivationsAtInitializationAndReadWeightRows() {
        try (Network constant = Network.create(model("constant:0.1"));
             Network random = Network.create(model("xavier-normal"))) {
            List<LayerActivation> a = random.activationStatistics(data(), 100);
            assertThat(a).extracting(LayerActivation::layer)
                    .containsExactly("input", "0:linear", "1:relu", "2:linear", "3:relu", "4:linear");
            assertThat(a.get(1).isKind("linear")).isTrue();
            assertThat(a.get(1).std()).isPositive();
            float[][] w = constant.weightRows(1);
            assertThat(w.length).isEqualTo(16);
            assertThat(w[0]).hasSize(16).containsOnly(0.1f);
            assertThat(random.weightRows(2).length).isEqualTo(3);
            assertThat(random.parameterLayers()).containsExactly("0:linear", "2:linear", "4:linear");
            assertThatThrownBy(() -> random.weightRows(3)).hasMessageContaining("layer 3 outside [0, 3)");
            assertThatThrownBy(() -> random.activationStatistics(data(), 0)).hasMessageContaining("was 0");
        }
    }
}
