package dev.descent.engine.actor;

import static dev.descent.engine.actor.BarrierSequence.Next.CHECKPOINT;
import static dev.descent.engine.actor.BarrierSequence.Next.FINISH;
import static dev.descent.engine.actor.BarrierSequence.Next.RESUME;
import static dev.descent.engine.actor.BarrierSequence.Next.WAIT;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The barrier state machine alone: the order of the barrier work and when the job may go on or end. */
class BarrierSequenceTest {

    @Test
    void shouldWaitForTheEvaluationAndTheModelBeforeResuming() {
        BarrierSequence b = new BarrierSequence(30, 0, false);
        b.begin();
        b.evaluationSent();
        assertThat(b.next(10)).isEqualTo(WAIT);
        assertThat(b.evaluated()).isTrue();
        b.keepSent();
        assertThat(b.next(10)).isEqualTo(WAIT);
        b.kept();
        assertThat(b.next(10)).isEqualTo(RESUME);
        assertThat(b.inBarrier()).isFalse();
        assertThat(b.evaluated()).as("a repeated answer is ignored").isFalse();
        assertThat(b.next(10)).as("nothing happens outside a barrier").isEqualTo(WAIT);
    }

    @Test
    void shouldCaptureADueCheckpointOncePerBarrierAfterTheModelIsKept() {
        BarrierSequence b = new BarrierSequence(30, 5, true);
        b.begin();
        b.keepSent();
        assertThat(b.next(10)).isEqualTo(WAIT);
        b.kept();
        assertThat(b.next(10)).isEqualTo(CHECKPOINT);
        assertThat(b.next(10)).isEqualTo(WAIT);
        b.captured();
        assertThat(b.next(10)).as("the write goes on while training resumes").isEqualTo(RESUME);
        b.begin();
        assertThat(b.next(15)).as("the next due step captures again").isEqualTo(CHECKPOINT);
        b.written();
        b.captured();
        b.written();
        assertThat(b.next(15)).isEqualTo(RESUME);
        b.begin();
        assertThat(b.next(16)).as("not due").isEqualTo(RESUME);
    }

    @Test
    void shouldTakeARequestedCheckpointAtTheNextBarrierOnlyWithAFolder() {
        BarrierSequence b = new BarrierSequence(30, 0, true);
        assertThat(b.requestCheckpoint()).isTrue();
        b.begin();
        assertThat(b.next(7)).isEqualTo(CHECKPOINT);
        b.captured();
        assertThat(b.next(7)).isEqualTo(RESUME);
        b.begin();
        assertThat(b.next(8)).as("one request, one checkpoint").isEqualTo(RESUME);

        BarrierSequence none = new BarrierSequence(30, 5, false);
        assertThat(none.requestCheckpoint()).isFalse();
        none.begin();
        assertThat(none.next(10)).isEqualTo(RESUME);
    }

    @Test
    void shouldFinishOnlyWhenEveryCheckpointWriteIsAnswered() {
        BarrierSequence b = new BarrierSequence(20, 10, true);
        b.begin();
        assertThat(b.next(10)).isEqualTo(CHECKPOINT);
        b.captured();
        assertThat(b.next(10)).isEqualTo(RESUME); // step 10's write still out
        b.begin();
        b.keepSent();
        b.kept();
        assertThat(b.next(20)).isEqualTo(CHECKPOINT);
        b.captured();
        assertThat(b.next(20)).as("two writes out").isEqualTo(WAIT);
        b.written();
        assertThat(b.next(20)).as("one write out").isEqualTo(WAIT);
        b.written();
        assertThat(b.next(20)).isEqualTo(FINISH);
    }

    @Test
    void shouldCountAFileOfTheStartPointOutsideABarrier() {
        BarrierSequence b = new BarrierSequence(20, 0, false);
        b.keepSent(); // the start point's trajectory file
        assertThat(b.next(0)).isEqualTo(WAIT);
        b.begin();
        b.keepSent(); // epoch 1
        b.kept();
        assertThat(b.next(10)).as("the start point is not written yet").isEqualTo(WAIT);
        b.kept();
        assertThat(b.next(10)).isEqualTo(RESUME);
    }
}
