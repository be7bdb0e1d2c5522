package dev.descent.engine.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.descent.engine.data.ModularArithmetic.Operation;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModularArithmeticTest {
    @Test
    void shouldComputeEachOperationModuloP() {
        int p = 97;
        assertThat(Operation.ADD.apply(96, 5, p)).isEqualTo(4);
        assertThat(Operation.SUB.apply(3, 5, p)).isEqualTo(95);
        assertThat(Operation.MUL.apply(50, 2, p)).isEqualTo(3);
        assertThat(Operation.SQUARE_SUM.apply(10, 20, p)).isEqualTo((100 + 200 + 400) % 97);
        for (int b = 1; b < p; b++) {
            int q = Operation.DIV.apply(1, b, p);
            assertThat(q * b % p).as("1/%d", b).isEqualTo(1);
            assertThat(Operation.DIV.apply(Operation.MUL.apply(7, b, p), b, p)).isEqualTo(7);
        }
        assertThatThrownBy(() -> ModularArithmetic.inverse(0, p)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void shouldEncodeEveryPairAsTokensAOpBEqualsWithTheAnswerAsClass() {
        int p = 7;
        try (Dataset d = ModularArithmetic.table(Operation.SUB, p)) {
            assertThat(d.count()).isEqualTo(49);
            assertThat(d.sampleShape()).containsExactly(4);
            assertThat(d.classes()).isEqualTo(7);
            for (int i = 0; i < d.count(); i++) {
                float[] x = row(d, i);
                int a = (int) x[0];
                int b = (int) x[2];
                assertThat(x[1]).isEqualTo(7f);   // operator token
                assertThat(x[3]).isEqualTo(8f);   // '='
                assertThat(d.label(i)).isEqualTo(Math.floorMod(a - b, p));
            }
        }
        assertThat(ModularArithmetic.vocabulary(97)).isEqualTo(99);
    }

    @Test
    void shouldSplitAllPairsDisjointlyAndReproduciblyBySeed() {
        try (ModularArithmetic.Split s = ModularArithmetic.split(Operation.DIV, 11, 0.3, 5);
             ModularArithmetic.Split again = ModularArithmetic.split(Operation.DIV, 11, 0.3, 5);
             ModularArithmetic.Split other = ModularArithmetic.split(Operation.DIV, 11, 0.3, 6)) {
            assertThat(s.train().count()).isEqualTo(Math.round(0.3 * 110));
            assertThat(s.train().count() + s.validation().count()).isEqualTo(110); // b = 0 left out
            Set<Integer> seen = new HashSet<>();
            for (Dataset d : new Dataset[] {s.train(), s.validation()}) {
                for (int i = 0; i < d.count(); i++) {
                    float[] x = row(d, i);
                    assertThat(x[2]).isNotZero();
                    assertThat(seen.add((int) x[0] * 11 + (int) x[2])).isTrue();
                }
            }
            assertThat(seen).hasSize(110);
            assertThat(row(again.train(), 0)).containsExactly(row(s.train(), 0));
            boolean differs = false;
            for (int i = 0; i < s.train().count(); i++) {
                differs |= !java.util.Arrays.equals(row(s.train(), i), row(other.train(), i));
            }
            assertThat(differs).as("another seed gives another split").isTrue();
        }
    }

    @Test
    void shouldRejectANonPrimeModulusAndABadFraction() {
        assertThatThrownBy(() -> ModularArithmetic.split(Operation.ADD, 91, 0.5, 1))
                .hasMessageContaining("prime").hasMessageContaining("91 = 7 x 13");
        assertThatThrownBy(() -> ModularArithmetic.split(Operation.ADD, 97, 1.0, 1))
                .hasMessageContaining("train fraction must be in (0, 1), was 1.0");
        assertThatThrownBy(() -> Operation.parse("pow")).hasMessageContaining("unknown operation 'pow'");
        assertThat(Operation.parse("/")).isEqualTo(Operation.DIV);
        assertThat(Operation.parse("square-sum")).isEqualTo(Operation.SQUARE_SUM);
    }

    private static float[] row(Dataset d, int i) {
        float[] x = new float[4];
        java.lang.foreign.MemorySegment.copy(d.features().segment(), ValueLayout.JAVA_FLOAT, (long) i * 4 * Float.BYTES,
                x, 0, 4);
        return x;
    }
}
