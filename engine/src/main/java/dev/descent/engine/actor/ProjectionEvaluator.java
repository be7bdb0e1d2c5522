package dev.descent.engine.actor;

import dev.descent.engine.landscape.PointEvaluator;
import dev.descent.engine.landscape.PointResult;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Evaluates loss and accuracy at landscape grid points. It owns a {@link PointEvaluator} (its own parameter slab
 * and activation workspace, built on the actor's thread); a grid point arrives as its index and coordinates
 * ({@link EvaluatePoint}, scalars only: the evaluator writes {@code base + a·d1 + b·d2} into its own slab) and the
 * answer is one {@link PointEvaluated}. {@code dev.descent.engine.landscape.ActorScheduler} spreads a projection
 * over E of them. An exception while evaluating is sent back in the reply (the actor keeps serving); an
 * {@link Error} stops the actor, which its watcher sees. (A training job's test-set evaluation is the other
 * evaluator role: {@link RangeEvaluator}.)
 */
public final class ProjectionEvaluator extends AbstractBehavior<ProjectionEvaluator.Command> {

    /** The evaluator's protocol. */
    public sealed interface Command {
    }

    /** Evaluate grid point {@code point} = {@code base + a·d1 + b·d2}; reply {@link PointEvaluated}. */
    public record EvaluatePoint(long requestId, int point, double a, double b, ActorRef<PointEvaluated> replyTo)
            implements Command {
    }

    /** The answer to {@link EvaluatePoint}: {@code result}, or {@code error} (then {@code result} is null). */
    public record PointEvaluated(long requestId, int evaluator, PointResult result, Exception error) {
    }

    private final int index;
    private final PointEvaluator points;

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
        this.points = points;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(EvaluatePoint.class, this::onEvaluatePoint)
                .onSignal(PostStop.class, s -> {
                    points.close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onEvaluatePoint(EvaluatePoint e) {
        PointEvaluated reply;
        try {
            reply = new PointEvaluated(e.requestId(), index, points.evaluate(e.point(), e.a(), e.b()), null);
        } catch (RuntimeException ex) {
            reply = new PointEvaluated(e.requestId(), index, null, ex);
        }
        e.replyTo().tell(reply);
        return this;
    }
}
