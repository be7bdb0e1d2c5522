package dev.descent.engine.nn;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.kernel.Activation;
import org.junit.jupiter.api.Test;

/** Steps allocate nothing; model specs of every layer round-trip through {@link Model#fromSpec}. */
class LayersAllocationAndSpecTest {

    /**
     * Runs {@link LayersAllocationProbe} in a child JVM: a fresh JIT profile, like a training process. In the shared
     * test JVM, other tests drive the same kernels with the scalar backend and other shapes first, and C2 can then
     * keep some Vector API code in a boxing (allocating) state for a long time: that would test the test order,
     * not the layers.
     */
    @Test
    void shouldNotAllocateDuringTrainingStepsUnderAnyStrategy() throws Exception {
        java.util.List<String> cmd = java.util.List.of(
                java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LayersAllocationProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("checked 6 configurations").doesNotContain("ALLOCATES");
    }

    @Test
    void shouldRoundTripEverySpecThroughTheModelSpecParser() {
        for (Model m : new Model[]{LayersAllocationProbe.cnnWithNorms(), LayersAllocationProbe.transformer(), Models.cnn(new int[]{1, 28, 28}, 10, 1),
                Models.resMlp(new int[]{1, 28, 28}, 10, 3, 32, false, 1),
                Sequential.input(4).add(new Embedding(7, 8)).add(new PerToken(new Linear(6)))
                        .add(new TransformerBlock(2, 3, Activation.RELU, false)).add(new LastToken()).add(new Linear(7))
                        .build()}) {
            try (m; Model back = Model.fromSpec(m.spec())) {
                assertThat(back.spec()).isEqualTo(m.spec());
                assertThat(back.parameterCount()).isEqualTo(m.parameterCount());
                assertThat(back.layout().entries().stream().map(ParameterLayout.Entry::qualifiedName).toList())
                        .isEqualTo(m.layout().entries().stream().map(ParameterLayout.Entry::qualifiedName).toList());
            }
        }
    }

    @Test
    void shouldBuildResMlpWithAndWithoutSkipsAtTheSameDepthAndSize() {
        try (Model skip = Models.resMlp(new int[]{1, 28, 28}, 10, 4, 64, true, 1);
             Model plain = Models.resMlp(new int[]{1, 28, 28}, 10, 4, 64, false, 1)) {
            assertThat(plain.parameterCount()).isEqualTo(skip.parameterCount());
            assertThat(plain.layerCount()).isEqualTo(skip.layerCount());
            assertThat(skip.parametersSha256()).isEqualTo(plain.parametersSha256());
            assertThat(skip.spec()).contains("residual skip").doesNotContain("noskip");
            assertThat(plain.spec()).contains("residual noskip");
            assertThat(skip.parameterLayerNames()).hasSize(6);
        }
    }

    @Test
    void shouldPutBatchNormBetweenEveryHiddenLinearAndItsActivationOnlyWhenAsked() {
        try (Model plain = Mlp.builder().input(1, 28, 28).hidden(32, 16).output(10).seed(3).build();
             Model bn = Mlp.builder().input(1, 28, 28).hidden(32, 16).output(10).batchNorm(true).seed(3).build();
             Model back = Model.fromSpec(bn.spec())) {
            assertThat(plain.spec()).doesNotContainIgnoringCase("batchnorm");
            assertThat(bn.layerCount()).isEqualTo(plain.layerCount() + 2);
            assertThat(bn.layer(2)).isInstanceOf(BatchNorm.class); // flatten, linear, batchnorm, relu, ...
            assertThat(bn.layer(3)).isInstanceOf(ActivationLayer.class);
            assertThat(bn.layer(5)).isInstanceOf(BatchNorm.class);
            // BatchNorm adds a scale and a shift per hidden unit
            assertThat(bn.parameterCount()).isEqualTo(plain.parameterCount() + 2 * (32 + 16));
            assertThat(back.spec()).isEqualTo(bn.spec());
        }
    }
}
