package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.Evaluator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A range evaluator alone: the direct evaluator's sums for the parameters it is sent, errors in the reply. */
class RangeEvaluatorTest {
    private static ActorTestKit kit;
    private static Dataset test;

    @BeforeAll
    static void setUp() {
        kit = ActorTestKit.create();
        test = Fixtures.blobs("test", 230, 20, 3, 2);
    }

    @AfterAll
    static void tearDown() {
        kit.shutdownTestKit();
        test.close();
    }

    @Test
    void shouldEvaluateTheParametersItIsSentOnItsRange() {
        try (Model trained = Fixtures.mlp(0.0); Model other = Fixtures.mlp(0.0);
             Evaluator direct = new Evaluator(trained, Kernels.backend(), LossKind.CROSS_ENTROPY, 50, 1)) {
            other.params().segment().fill((byte) 0); // the actor's own model starts elsewhere: the point decides
            Evaluator.Sums expected = direct.evaluateSums(test, 50, 130);
            TestProbe<RangeEvaluator.Evaluated> probe = kit.createTestProbe();
            ActorRef<RangeEvaluator.Command> e = kit.spawn(RangeEvaluator.create(4, trained.spec(), Kernels.backend(),
                    LossKind.CROSS_ENTROPY, 50));
            e.tell(new RangeEvaluator.Evaluate(9, new RangeEvaluator.ParameterPoint(trained.params(), trained), test,
                    50, 130, probe.getRef()));
            RangeEvaluator.Evaluated r = probe.receiveMessage();
            assertThat(r.requestId()).isEqualTo(9);
            assertThat(r.evaluator()).isEqualTo(4);
            assertThat(r.error()).isNull();
            assertThat(r.lossSum()).isEqualTo(expected.lossSum());
            assertThat(r.correct()).isEqualTo(expected.correct());
            assertThat(r.examples()).isEqualTo(130);

            e.tell(new RangeEvaluator.Evaluate(10, new RangeEvaluator.ParameterPoint(other.params(), null), test,
                    50, 130, probe.getRef()));
            assertThat(probe.receiveMessage().lossSum()).isNotEqualTo(expected.lossSum());
            kit.stop(e);
        }
    }

    @Test
    void shouldAnswerAnErrorAndKeepServing() {
        try (Model m = Fixtures.mlp(0.0); OffHeapBlock small = OffHeapBlock.allocate(64, Purpose.PARAMETERS)) {
            TestProbe<RangeEvaluator.Evaluated> probe = kit.createTestProbe();
            ActorRef<RangeEvaluator.Command> e = kit.spawn(RangeEvaluator.create(0, m.spec(), Kernels.backend(),
                    LossKind.CROSS_ENTROPY, 50));
            e.tell(new RangeEvaluator.Evaluate(1, new RangeEvaluator.ParameterPoint(small, null), test, 0, 10,
                    probe.getRef()));
            RangeEvaluator.Evaluated bad = probe.receiveMessage();
            assertThat(bad.error()).hasMessageContaining("parameter point holds 64 bytes");
            assertThat(bad.examples()).isZero();
            e.tell(new RangeEvaluator.Evaluate(2, new RangeEvaluator.ParameterPoint(m.params(), m), test, 0, 10,
                    probe.getRef()));
            RangeEvaluator.Evaluated good = probe.receiveMessage();
            assertThat(good.error()).isNull();
            assertThat(good.examples()).isEqualTo(10);
            kit.stop(e);
        }
    }
}
