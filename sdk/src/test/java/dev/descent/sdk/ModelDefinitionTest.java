package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Model definitions build the networks they describe. */
class ModelDefinitionTest {

    @Test
    void shouldLeaveBatchNormOutOfResMlpBlocksWhenAsked() {
        int[] shape = {1, 4, 4};
        int depth = 3;
        int width = 8;
        try (Network withBn = Network.create(ModelDefinition.resMlp(shape, 5, depth, width, true, 7));
             Network explicitBn = Network.create(ModelDefinition.resMlp(shape, 5, depth, width, true, true, 7));
             Network noBn = Network.create(ModelDefinition.resMlp(shape, 5, depth, width, true, false, 7))) {
            assertThat(explicitBn.architecture()).isEqualTo(withBn.architecture());
            assertThat(explicitBn.parametersSha256()).isEqualTo(withBn.parametersSha256());
            assertThat(withBn.architecture()).contains("batchnorm");
            assertThat(noBn.architecture()).doesNotContain("batchnorm").contains("residual skip");
            // two BatchNorm layers per block, each with a scale and a shift per feature
            assertThat(withBn.parameterCount() - noBn.parameterCount()).isEqualTo((long) depth * 2 * 2 * width);
            assertThat(noBn.parameterCount()).isEqualTo(16L * width + width + depth * 2L * (width * width + width)
                    + width * 5L + 5);
            assertThat(noBn.inputSize()).isEqualTo(16);
        }
    }
}
