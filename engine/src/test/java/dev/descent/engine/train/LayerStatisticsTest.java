package dev.descent.engine.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.init.Init;
import dev.descent.engine.init.Initializer;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterLayout;
import dev.descent.engine.optim.Optimizers;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Per-layer gradient norms and update ratios from the Trainer, and activation statistics of a forward pass. */
class LayerStatisticsTest {
    private static final int WIDTH = 256;

    @Test
    void shouldReportUpdateRatiosThatMatchPlainSgd() {
        double lr = 0.05;
        try (Dataset train = Synthetic.blobs("train", 32, 8, 4, 1);
             Model m = Mlp.builder().input(8).hidden(16, 16).activation(Activation.RELU).output(4)
                     .init(Init.KAIMING_NORMAL).seed(2).build()) {
            List<double[]> norms = new ArrayList<>();
            List<double[]> ratios = new ArrayList<>();
            List<Long> steps = new ArrayList<>();
            Trainer.builder().model(m).loss(LossKind.CROSS_ENTROPY).optimizer(Optimizers.sgd(lr)).batchSize(32)
                    .epochs(1).seed(1).build().fit(train, null, new FitListener() {
                        @Override
                        public int layerStatsEvery() {
                            return 1;
                        }

                        @Override
                        public void onLayerStats(long step, List<String> layers, double[] g, double[] u, double global) {
                            assertThat(layers).containsExactly("0:linear", "2:linear", "4:linear");
                            double sum = 0;
                            for (double x : g) {
                                sum += x * x;
                            }
                            assertThat(global).isCloseTo(Math.sqrt(sum), within(1e-4 * global));
                            steps.add(step);
                            norms.add(g);
                            ratios.add(u);
                        }
                    });
            assertThat(steps).containsExactly(0L); // one batch, one step
            // plain SGD: |dw| = lr |g|, so ratio * |w_after| = lr * |g| for every layer
            double[] weightNorms = new double[3];
            int slot = -1;
            int last = -1;
            for (ParameterLayout.Entry e : m.layout().entries()) {
                if (e.layerIndex() != last) {
                    slot++;
                    last = e.layerIndex();
                }
                for (int i = 0; i < e.count(); i++) {
                    double v = m.params().getFloat(e.offset() + i);
                    weightNorms[slot] += v * v;
                }
            }
            for (int l = 0; l < 3; l++) {
                double expected = lr * norms.get(0)[l];
                assertThat(norms.get(0)[l]).isPositive();
                assertThat(ratios.get(0)[l] * Math.sqrt(weightNorms[l])).as("layer %d", l)
                        .isCloseTo(expected, within(1e-3 * expected));
            }
        }
    }

    @Test
    void shouldCallLayerStatsEveryNSteps() {
        try (Dataset train = Synthetic.blobs("train", 320, 8, 4, 1);
             Model m = Mlp.builder().input(8).hidden(16).output(4).init(Init.KAIMING_NORMAL).seed(2).build()) {
            List<Long> steps = new ArrayList<>();
            Trainer.builder().model(m).optimizer(Optimizers.momentum(0.05, 0.9)).batchSize(32).epochs(2).seed(1)
                    .build().fit(train, null, new FitListener() {
                        @Override
                        public int layerStatsEvery() {
                            return 4;
                        }

                        @Override
                        public void onLayerStats(long step, List<String> layers, double[] g, double[] u, double n) {
                            steps.add(step);
                        }
                    });
            assertThat(steps).containsExactly(0L, 4L, 8L, 12L, 16L);
        }
    }

    @Test
    void kaimingShouldKeepTheScaleOfTheSignalWhereXavierHalvesItsVariancePerReluLayer() {
        int depth = 10;
        try (Dataset data = gaussian(512)) {
            double kaiming = lastOverFirstLinear(Init.KAIMING_NORMAL, depth, data);
            double xavier = lastOverFirstLinear(Init.XAVIER_NORMAL, depth, data);
            // square layers: Var[y_l] = n Var[w] Var[y_{l-1}] / 2, i.e. x1 (Kaiming) or x1/2 (Xavier) per ReLU layer
            assertThat(kaiming).isBetween(0.5, 2.0);
            assertThat(xavier).isCloseTo(Math.pow(0.5, (depth - 1) / 2.0), within(0.02));
        }
    }

    @Test
    void shouldMeasureTheInputExactlyAndNameEveryNode() {
        try (Dataset data = gaussian(64);
             Model m = Mlp.builder().input(WIDTH).hidden(8).activation(Activation.RELU).output(3)
                     .init(Init.KAIMING_NORMAL).seed(1).build()) {
            List<ActivationStatistics.Node> nodes = ActivationStatistics.measure(m, Kernels.scalar(), data, 64);
            assertThat(nodes).extracting(ActivationStatistics.Node::layer)
                    .containsExactly("input", "0:linear", "1:relu", "2:linear");
            double s = 0;
            double s2 = 0;
            int n = 64 * WIDTH;
            for (int i = 0; i < n; i++) {
                double v = data.features().getFloat(i);
                s += v;
                s2 += v * v;
            }
            assertThat(nodes.get(0).mean()).isCloseTo(s / n, within(1e-9));
            assertThat(nodes.get(0).std()).isCloseTo(Math.sqrt(s2 / n - (s / n) * (s / n)), within(1e-9));
            assertThat(nodes.get(2).mean()).isPositive(); // ReLU outputs
            assertThatThrownBy(() -> ActivationStatistics.measure(m, Kernels.scalar(), data, 65))
                    .hasMessageContaining("examples must be in [1, 64]").hasMessageContaining("was 65");
        }
    }

    private static double lastOverFirstLinear(Initializer init, int depth, Dataset data) {
        int[] hidden = new int[depth - 1];
        java.util.Arrays.fill(hidden, WIDTH);
        try (Model m = Mlp.builder().input(WIDTH).hidden(hidden).activation(Activation.RELU).output(WIDTH).init(init)
                .seed(3).build()) {
            List<ActivationStatistics.Node> nodes = ActivationStatistics.measure(m, Kernels.scalar(), data,
                    data.count());
            List<ActivationStatistics.Node> linear = nodes.stream().filter(x -> x.layer().endsWith(":linear")).toList();
            assertThat(linear).hasSize(depth);
            return linear.get(depth - 1).std() / linear.get(0).std();
        }
    }

    private static Dataset gaussian(int count) {
        SplittableRandom r = new SplittableRandom(7);
        float[] x = new float[count * WIDTH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return Dataset.of("gaussian", x, new int[count], new int[]{WIDTH}, 2);
    }
}
