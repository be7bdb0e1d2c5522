package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
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
 * Evaluates loss and accuracy of a point of parameter space on a range of a dataset, in eval mode, for a training
 * job's test evaluation ({@link EvaluationFanOut} spreads a test set over E of them). It owns a model of the job's
 * architecture and an {@link Evaluator}; the point arrives as a handle to a parameter slab (copied in, never sent
 * as floats) with a range of a dataset ({@link Evaluate}). Several evaluators split a dataset into ranges and their
 * {@link Evaluated} sums add up exactly. An exception while evaluating is sent back in the reply (the actor keeps
 * serving); an {@link Error} stops the actor, which its watcher sees. (Landscape grid points are the other
 * evaluator role: {@link ProjectionEvaluator}.)
 */
public final class RangeEvaluator extends AbstractBehavior<RangeEvaluator.Command> {

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

    private final int index;
    private final Model model;
    private final Evaluator evaluator;

    /** Evaluator {@code index} for models with {@code spec}; batches of {@code batchSize}, one GEMM thread. */
    public static Behavior<Command> create(int index, String spec, KernelBackend kernels, LossKind loss,
                                           int batchSize) {
        return Behaviors.setup(ctx -> new RangeEvaluator(ctx, index, spec, kernels, loss, batchSize));
    }

    private RangeEvaluator(ActorContext<Command> ctx, int index, String spec, KernelBackend kernels, LossKind loss,
                           int batchSize) {
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
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Evaluate.class, this::onEvaluate)
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    private Behavior<Command> onPostStop() {
        evaluator.close();
        model.close();
        return this;
    }

    private Behavior<Command> onEvaluate(Evaluate e) {
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
