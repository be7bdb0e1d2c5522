package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * A training job's test evaluation: spawns and watches E {@link RangeEvaluator}s, splits the test set into E ranges
 * of whole evaluation batches, sends each evaluator the same parameter point ({@link Evaluate}) and answers one
 * {@link Evaluated} with the sums added in evaluator order (exactly the direct evaluation for E = 1). A range that
 * fails answers {@link Failed}; an answer to an older request is ignored. An evaluator that stops makes this actor
 * fail with the evaluator's cause (its watcher, the {@link JobSupervisor}, then fails the job).
 */
public final class EvaluationFanOut extends AbstractBehavior<EvaluationFanOut.Command> {

    /** The fan-out's protocol. */
    public sealed interface Command {
    }

    /** Evaluate {@code point} on the whole test set; reply {@link Evaluated} or {@link Failed} with {@code requestId}. */
    public record Evaluate(long requestId, RangeEvaluator.ParameterPoint point, ActorRef<Reply> replyTo)
            implements Command {
    }

    /** Replies of the fan-out. */
    public sealed interface Reply {
    }

    /** Sums over the test set: per-sample losses, correct samples, examples. */
    public record Evaluated(long requestId, double lossSum, long correct, int examples) implements Reply {
        /** Mean loss (NaN for no examples). */
        public double loss() {
            return examples == 0 ? Double.NaN : lossSum / examples;
        }

        /** Fraction correct (NaN for no examples). */
        public double accuracy() {
            return examples == 0 ? Double.NaN : (double) correct / examples;
        }
    }

    /** A range of request {@code requestId} failed with {@code cause}. */
    public record Failed(long requestId, Exception cause) implements Reply {
    }

    private record Part(RangeEvaluator.Evaluated reply) implements Command {
    }

    private final Dataset data;
    private final int batchSize;
    private final List<ActorRef<RangeEvaluator.Command>> evaluators = new ArrayList<>();
    private final RangeEvaluator.Evaluated[] parts;
    private final ActorRef<RangeEvaluator.Evaluated> partReplies;
    private long request = -1;
    private int pending;
    private ActorRef<Reply> replyTo;

    /**
     * Evaluates on {@code data} in batches of {@code batchSize} with {@code count} evaluators
     * {@code evaluator.apply(i)} spawned with {@code props}.
     */
    public static Behavior<Command> create(Dataset data, int batchSize, int count,
                                           IntFunction<Behavior<RangeEvaluator.Command>> evaluator, Props props) {
        return Behaviors.setup(ctx -> new EvaluationFanOut(ctx, data, batchSize, count, evaluator, props));
    }

    private EvaluationFanOut(ActorContext<Command> ctx, Dataset data, int batchSize, int count,
                             IntFunction<Behavior<RangeEvaluator.Command>> evaluator, Props props) {
        super(ctx);
        if (count < 1) {
            throw new IllegalArgumentException("need at least one evaluator, was " + count);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.parts = new RangeEvaluator.Evaluated[count];
        this.partReplies = ctx.messageAdapter(RangeEvaluator.Evaluated.class, Part::new);
        for (int i = 0; i < count; i++) {
            ActorRef<RangeEvaluator.Command> e = ctx.spawn(evaluator.apply(i), "evaluator-" + i, props);
            ctx.watch(e);
            evaluators.add(e);
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Evaluate.class, this::onEvaluate)
                .onMessage(Part.class, m -> onPart(m.reply()))
                .onSignal(ChildFailed.class, this::onEvaluatorFailed)
                .onSignal(Terminated.class, s -> {
                    throw new IllegalStateException("job actor " + s.getRef().path().name() + " stopped unexpectedly");
                })
                .build();
    }

    /** Range {@code i} of {@code e}: whole batches, the last range takes the partial batch. */
    static int[] range(int n, int batchSize, int i, int e) {
        int batches = (n + batchSize - 1) / batchSize;
        int from = Math.min(n, (int) ((long) batches * i / e) * batchSize);
        int to = Math.min(n, (int) ((long) batches * (i + 1) / e) * batchSize);
        return new int[]{from, to};
    }

    private Behavior<Command> onEvaluate(Evaluate m) {
        int n = data.count();
        int e = evaluators.size();
        request = m.requestId();
        replyTo = m.replyTo();
        pending = e;
        java.util.Arrays.fill(parts, null);
        for (int i = 0; i < e; i++) {
            int[] r = range(n, batchSize, i, e);
            evaluators.get(i).tell(new RangeEvaluator.Evaluate(request, m.point(), data, r[0], r[1] - r[0],
                    partReplies));
        }
        return this;
    }

    private Behavior<Command> onPart(RangeEvaluator.Evaluated r) {
        if (r.requestId() != request || pending == 0) {
            return this;
        }
        if (r.error() != null) {
            pending = 0;
            replyTo.tell(new Failed(request, r.error()));
            return this;
        }
        parts[r.evaluator()] = r;
        if (--pending > 0) {
            return this;
        }
        double lossSum = 0;
        long correct = 0;
        int examples = 0;
        for (RangeEvaluator.Evaluated x : parts) { // fixed order: exact for one evaluator
            lossSum += x.lossSum();
            correct += x.correct();
            examples += x.examples();
        }
        replyTo.tell(new Evaluated(request, lossSum, correct, examples));
        return this;
    }

    private Behavior<Command> onEvaluatorFailed(ChildFailed s) throws Exception {
        Throwable cause = s.getCause();
        if (cause instanceof Exception ex) {
            throw ex;
        }
        if (cause instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException("job actor " + s.getRef().path().name() + " failed: " + cause, cause);
    }
}
