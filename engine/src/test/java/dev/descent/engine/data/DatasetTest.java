package dev.descent.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.memory.MemoryAccounting;
import org.junit.jupiter.api.Test;

class DatasetTest {
    private static Dataset fiveSamples() {
        float[] features = new float[5 * 3];
        for (int i = 0; i < features.length; i++) {
            features[i] = i;
        }
        return Dataset.of("five", features, new int[] {0, 2, 2, 1, 2}, new int[] {3}, 3);
    }

    @Test
    void shouldCountLabelsPerClass() {
        try (Dataset ds = fiveSamples()) {
            assertThat(ds.labelCounts()).containsExactly(1, 1, 3);
        }
    }

    @Test
    void shouldCopyASubsetThatOutlivesItsSource() {
        long baseline = MemoryAccounting.totalLiveBlocks();
        Dataset sub;
        try (Dataset ds = fiveSamples()) {
            sub = ds.subset(1, 3);
        }
        try (sub) {
            assertThat(sub.name()).isEqualTo("five[1, 4)");
            assertThat(sub.count()).isEqualTo(3);
            assertThat(sub.sampleShape()).containsExactly(3);
            assertThat(sub.features().toArray()).containsExactly(3, 4, 5, 6, 7, 8, 9, 10, 11);
            assertThat(new int[] {sub.label(0), sub.label(1), sub.label(2)}).containsExactly(2, 2, 1);
            assertThat(sub.features().purpose()).isEqualTo(sub.labels().purpose());
        }
        assertThat(MemoryAccounting.totalLiveBlocks()).isEqualTo(baseline);
    }

    @Test
    void shouldAllowEmptyAndWholeSubsetsAndRejectOutOfRangeOnes() {
        try (Dataset ds = fiveSamples(); Dataset empty = ds.subset(5, 0); Dataset all = ds.subset(0, 5)) {
            assertThat(empty.count()).isZero();
            assertThat(all.features().toArray()).containsExactly(ds.features().toArray());
            long blocks = MemoryAccounting.totalLiveBlocks();
            assertThatThrownBy(() -> ds.subset(3, 3)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessage("five: subset [3, 6) is outside [0, 5)");
            assertThatThrownBy(() -> ds.subset(-1, 2)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThatThrownBy(() -> ds.subset(0, Integer.MAX_VALUE)).isInstanceOf(IndexOutOfBoundsException.class);
            assertThat(MemoryAccounting.totalLiveBlocks()).isEqualTo(blocks);
        }
    }
}
