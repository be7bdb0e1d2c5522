package dev.descent.engine.actor;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.TrainingCheckpoint;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.OptimizerState;
import java.nio.file.Path;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Writes a job's checkpoints: on {@link Save} (sent while training is paused at a barrier) it copies parameters,
 * moments and buffers into its staging slabs, answers {@link Captured} at once so training resumes, then writes
 * the file atomically (temp, fsync, rename) and keeps the newest K, answering {@link Written} or {@link
 * WriteFailed}. Saves are handled one at a time, so a slow disk delays the next capture (backpressure), it never
 * queues copies. It runs on the blocking dispatcher (a slow fsync must not hold a compute thread).
 */
public final class CheckpointStore extends AbstractBehavior<CheckpointStore.Command> {

    /** The store's protocol. */
    public sealed interface Command {
    }

    /** Capture and write the state after {@code step} steps; {@code meta} holds the position and counters. */
    public record Save(long step, Map<String, String> meta, ActorRef<Reply> replyTo) implements Command {
    }

    /** Replies of the store. */
    public sealed interface Reply {
    }

    /** The state of {@code step} is copied; training may change the parameters again. */
    public record Captured(long step) implements Reply {
    }

    /** The checkpoint of {@code step} is on disk. */
    public record Written(long step, Path path, long bytes, double seconds) implements Reply {
    }

    /** Writing the checkpoint of {@code step} failed. */
    public record WriteFailed(long step, Path path, Exception cause) implements Reply {
    }

    private final CheckpointDirectory dir;
    private final Model model;
    private final OptimizerState optimizer;
    private final TrainingCheckpoint.Staging staging;
    private final FaultInjector faults;

    static Behavior<Command> create(CheckpointDirectory dir, Model model, OptimizerState optimizer,
                                    FaultInjector faults) {
        return Behaviors.setup(ctx -> new CheckpointStore(ctx, dir, model, optimizer, faults));
    }

    private CheckpointStore(ActorContext<Command> ctx, CheckpointDirectory dir, Model model, OptimizerState optimizer,
                            FaultInjector faults) {
        super(ctx);
        this.dir = dir;
        this.faults = faults;
        this.model = model;
        this.optimizer = optimizer;
        this.staging = new TrainingCheckpoint.Staging(model, optimizer);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Save.class, this::onSave)
                .onSignal(PostStop.class, s -> {
                    staging.close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onSave(Save s) {
        staging.capture(s.step(), s.meta(), model, optimizer);
        s.replyTo().tell(new Captured(s.step()));
        long t0 = System.nanoTime();
        Path path = dir.pathFor(s.step());
        try {
            faults.beforeCheckpointWrite(s.step());
            long bytes = dir.write(s.step(), staging.sections());
            s.replyTo().tell(new Written(s.step(), path, bytes, (System.nanoTime() - t0) / 1e9));
        } catch (Exception e) {
            s.replyTo().tell(new WriteFailed(s.step(), path, e));
        }
        return this;
    }
}
