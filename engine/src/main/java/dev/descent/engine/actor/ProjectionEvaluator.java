package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.landscape.PointEvaluator;
import dev.descent.engine.landscape.PointResult;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.nn.Model;
import dev.descent.engine.train.Evaluator;
import java.lang.foreign.MemorySegment;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Evaluates loss and accuracy at points of parameter space, in eval mode, in one of two roles fixed at creation:
 * <ul>
 * <li>{@link #create} (training jobs): owns a model of the job's architecture and an {@link Evaluator}; the point
 * arrives as a handle to a parameter slab (copied in, never sent as floats) with a range of a dataset
 * ({@link Evaluate}). Several evaluators split a dataset into ranges and their {@link Evaluated} sums add up
 * exactly.</li>
 * <li>{@link #forLandscape} (landscapes): owns a {@link PointEvaluator} (its own parameter slab and activation
 * workspace, built on the actor's thread); a grid point arrives as its index and coordinates ({@link EvaluatePoint},
 * scalars only: the evaluator writes {@code base + a·d1 + b·d2} into its own slab) and the answer is one
 * {@link PointEvaluated}. {@code dev.descent.engine.landscape.ActorScheduler} spreads a projection over E of them.
 * </li>
 * </ul>
 * A request of the other role is answered with an error, never dropped. An exception while evaluating is sent back
 * in the reply (the actor keeps serving); an {@link Error} stops the actor, which its watcher sees.
 */
public final class ProjectionEvaluator extends AbstractBehavior<ProjectionEvaluator.Command> {

    /** The evaluator's protocol. */
    public sealed interface Command {
    }

    /**
     * A point of parameter space: a slab with the model's layout, plus the model whose non-trainable buffers
     * (BatchNorm running statistics) to use ({@code buffersFrom} may be null: defaults).
     */
    public record ParameterPoint(OffHeapBlock parameters, Model buffersFrom) {
    }

    /**
     * Evaluate {@code point} on samples [from, from + count) of {@code data}; reply {@link Evaluated} to
     * {@code replyTo} with the same {@code requestId}.
     */
    public record Evaluate(long requestId, ParameterPoint point, Dataset data, int from, int count,
                           ActorRef<Evaluated> replyTo) implements Command {
    }

    /**
     * Sums over the range (add them across evaluators, then divide): {@code lossSum} of per-sample losses,
     * {@code correct} samples, {@code examples}; on failure {@code error} is set and the sums are zero.
     */
    public record Evaluated(long requestId, int evaluator, double lossSum, long correct, int examples,
                            Exception error) {
        public double loss() {
            return examples == 0 ? Double.NaN : lossSum / examples;
        }

        public double accuracy() {
            return examples == 0 ? Double.NaN : (double) correct / examples;
        }
    }

    /** Evaluate grid point {@code point} = {@code base + a·d1 + b·d2}; reply {@link PointEvaluated}. */
    public record EvaluatePoint(long requestId, int point, double a, double b, ActorRef<PointEvaluated> replyTo)
            implements Command {
    }

    /** The answer to {@link EvaluatePoint}: {@code result}, or {@code error} (then {@code result} is null). */
    public record PointEvaluated(long requestId, int evaluator, PointResult result, Exception error) {
    }

    private final int index;
    /** Training role: the model and its evaluator (null in the landscape role). */
    private final Model model;
    private final Evaluator evaluator;
    /** Landscape role (null in the training role). */
    private final PointEvaluator points;

    /** Evaluator {@code index} for models with {@code spec}; batches of {@code batchSize}, one GEMM thread. */
    public static Behavior<Command> create(int index, String spec, KernelBackend kernels, LossKind loss,
                                           int batchSize) {
        return Behaviors.setup(ctx -> new ProjectionEvaluator(ctx, index, spec, kernels, loss, batchSize));
    }

    /**
     * Landscape evaluator {@code index}: creates its {@link PointEvaluator} with {@code factory.create(index)} on the
     * actor's thread and closes it when the actor stops. A factory that throws fails the actor's start (its watcher
     * sees it stop).
     */
    public static Behavior<Command> forLandscape(int index, PointEvaluator.Factory factory) {
        return Behaviors.setup(ctx -> new ProjectionEvaluator(ctx, index, factory.create(index)));
    }

    private ProjectionEvaluator(ActorContext<Command> ctx, int index, PointEvaluator points) {
        super(ctx);
        this.index = index;
        this.model = null;
        this.evaluator = null;
        this.points = points;
    }

    private ProjectionEvaluator(ActorContext<Command> ctx, int index, String spec, KernelBackend kernels,
                                LossKind loss, int batchSize) {
        super(ctx);
        this.index = index;
        this.model = Model.fromSpec(spec);
        Evaluator e;
        try {
            e = new Evaluator(model, kernels, loss, batchSize, 1);
        } catch (RuntimeException | Error ex) {
            model.close();
            throw ex;
        }
        this.evaluator = e;
        this.points = null;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Evaluate.class, this::onEvaluate)
                .onMessage(EvaluatePoint.class, this::onEvaluatePoint)
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    private Behavior<Command> onPostStop() {
        if (points != null) {
            points.close();
        } else {
            evaluator.close();
            model.close();
        }
        return this;
    }

    private Behavior<Command> onEvaluatePoint(EvaluatePoint e) {
        PointEvaluated reply;
        if (points == null) {
            reply = new PointEvaluated(e.requestId(), index, null, new IllegalStateException("evaluator " + index
                    + " was created for training-job evaluation, not for landscape points"));
        } else {
            try {
                reply = new PointEvaluated(e.requestId(), index, points.evaluate(e.point(), e.a(), e.b()), null);
            } catch (RuntimeException ex) {
                reply = new PointEvaluated(e.requestId(), index, null, ex);
            }
        }
        e.replyTo().tell(reply);
        return this;
    }

    private Behavior<Command> onEvaluate(Evaluate e) {
        if (evaluator == null) {
            e.replyTo().tell(new Evaluated(e.requestId(), index, 0, 0, 0, new IllegalStateException("evaluator "
                    + index + " was created for landscape points, not for dataset ranges")));
            return this;
        }
        try {
            OffHeapBlock p = e.point().parameters();
            if (p.byteSize() != model.params().byteSize()) {
                throw new IllegalArgumentException("parameter point holds " + p.byteSize() + " bytes, the model needs "
                        + model.params().byteSize());
            }
            MemorySegment.copy(p.segment(), 0, model.params().segment(), 0, p.byteSize());
            if (e.point().buffersFrom() != null) {
                model.copyBuffersFrom(e.point().buffersFrom());
            }
            Evaluator.Sums s = evaluator.evaluateSums(e.data(), e.from(), e.count());
            e.replyTo().tell(new Evaluated(e.requestId(), index, s.lossSum(), s.correct(), s.examples(), null));
        } catch (RuntimeException ex) {
            e.replyTo().tell(new Evaluated(e.requestId(), index, 0, 0, 0, ex));
        }
        return this;
    }
}
