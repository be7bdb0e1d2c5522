package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.Evaluator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The test-set fan-out alone: ranges, fixed-order sums, failures, stale answers, a dying evaluator. */
class EvaluationFanOutTest {
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

    /** A stand-in evaluator: records its range and answers lossSum = from, correct = count, examples = count. */
    private static IntFunction<Behavior<RangeEvaluator.Command>> recording(List<int[]> ranges, int failing) {
        return i -> Behaviors.receive(RangeEvaluator.Command.class)
                .onMessage(RangeEvaluator.Evaluate.class, e -> {
                    ranges.add(new int[]{i, e.from(), e.count()});
                    e.replyTo().tell(i == failing
                            ? new RangeEvaluator.Evaluated(e.requestId(), i, 0, 0, 0, new IllegalStateException("boom"))
                            : new RangeEvaluator.Evaluated(e.requestId(), i, e.from(), e.count(), e.count(), null));
                    return Behaviors.same();
                })
                .build();
    }

    @Test
    void shouldSplitTheTestSetIntoWholeBatchesAndAddTheSums() {
        List<int[]> ranges = new CopyOnWriteArrayList<>();
        TestProbe<EvaluationFanOut.Reply> probe = kit.createTestProbe();
        ActorRef<EvaluationFanOut.Command> fan = kit.spawn(EvaluationFanOut.create(test, 50, 3,
                recording(ranges, -1), Props.empty()));
        fan.tell(new EvaluationFanOut.Evaluate(7, null, probe.getRef()));
        EvaluationFanOut.Evaluated r = probe.expectMessageClass(EvaluationFanOut.Evaluated.class);
        assertThat(r.requestId()).isEqualTo(7);
        // 230 rows in 5 batches of 50 over 3 evaluators: [0, 50), [50, 150), [150, 230)
        assertThat(ranges).extracting(x -> x[0] + ":" + x[1] + "+" + x[2])
                .containsExactlyInAnyOrder("0:0+50", "1:50+100", "2:150+80");
        assertThat(r.examples()).isEqualTo(230);
        assertThat(r.correct()).isEqualTo(230);
        assertThat(r.lossSum()).isEqualTo(0 + 50 + 150);
        assertThat(r.loss()).isEqualTo(200.0 / 230);
        kit.stop(fan);
    }

    @Test
    void shouldCoverEveryRowOnceForAnyEvaluatorCount() {
        for (int e = 1; e <= 7; e++) {
            for (int n : new int[]{1, 49, 50, 51, 230}) {
                long covered = 0;
                int next = 0;
                for (int i = 0; i < e; i++) {
                    int[] r = EvaluationFanOut.range(n, 50, i, e);
                    assertThat(r[0]).as("e=%d n=%d i=%d", e, n, i).isEqualTo(next);
                    assertThat(r[0] % 50 == 0 || r[0] == n).isTrue();
                    covered += r[1] - r[0];
                    next = r[1];
                }
                assertThat(covered).as("e=%d n=%d", e, n).isEqualTo(n);
            }
        }
    }

    @Test
    void shouldAnswerFailedWhenARangeFailsAndIgnoreStaleAnswers() {
        List<int[]> ranges = new CopyOnWriteArrayList<>();
        TestProbe<EvaluationFanOut.Reply> probe = kit.createTestProbe();
        ActorRef<EvaluationFanOut.Command> fan = kit.spawn(EvaluationFanOut.create(test, 50, 2,
                recording(ranges, 1), Props.empty()));
        fan.tell(new EvaluationFanOut.Evaluate(3, null, probe.getRef()));
        EvaluationFanOut.Failed f = probe.expectMessageClass(EvaluationFanOut.Failed.class);
        assertThat(f.requestId()).isEqualTo(3);
        assertThat(f.cause()).hasMessage("boom");
        probe.expectNoMessage(Duration.ofMillis(200)); // the other range's answer does not make a second reply
        kit.stop(fan);
    }

    @Test
    void shouldFailWhenAnEvaluatorStops() {
        TestProbe<EvaluationFanOut.Reply> probe = kit.createTestProbe();
        IntFunction<Behavior<RangeEvaluator.Command>> dying = i -> Behaviors.receive(RangeEvaluator.Command.class)
                .onMessage(RangeEvaluator.Evaluate.class, e -> {
                    throw new IllegalStateException("evaluator " + i + " lost its memory");
                })
                .build();
        ActorRef<EvaluationFanOut.Command> fan = kit.spawn(EvaluationFanOut.create(test, 50, 2, dying,
                Props.empty()));
        TestProbe<Object> watcher = kit.createTestProbe();
        fan.tell(new EvaluationFanOut.Evaluate(1, null, probe.getRef()));
        watcher.expectTerminated(fan, Duration.ofSeconds(5));
    }

    @Test
    void shouldEqualTheDirectEvaluationWithOneRealEvaluator() {
        try (Model m = Fixtures.mlp(0.0);
             Evaluator direct = new Evaluator(m, Kernels.backend(), LossKind.CROSS_ENTROPY, 50, 1)) {
            Evaluator.Sums expected = direct.evaluateSums(test, 0, test.count());
            TestProbe<EvaluationFanOut.Reply> probe = kit.createTestProbe();
            String spec = m.spec();
            ActorRef<EvaluationFanOut.Command> fan = kit.spawn(EvaluationFanOut.create(test, 50, 1,
                    i -> RangeEvaluator.create(i, spec, Kernels.backend(), LossKind.CROSS_ENTROPY, 50), Props.empty()));
            fan.tell(new EvaluationFanOut.Evaluate(1, new RangeEvaluator.ParameterPoint(m.params(), m),
                    probe.getRef()));
            EvaluationFanOut.Evaluated r = probe.expectMessageClass(EvaluationFanOut.Evaluated.class,
                    Duration.ofSeconds(10));
            assertThat(r.lossSum()).isEqualTo(expected.lossSum());
            assertThat(r.correct()).isEqualTo(expected.correct());
            assertThat(r.examples()).isEqualTo(expected.examples());
            TestProbe<Object> watcher = kit.createTestProbe();
            kit.stop(fan);
            watcher.expectTerminated(fan);
        }
    }
}
