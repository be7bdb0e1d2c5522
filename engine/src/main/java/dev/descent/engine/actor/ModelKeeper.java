package dev.descent.engine.actor;

import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.ParameterSnapshot;
import dev.descent.engine.train.ModelFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Keeps a job's last good model and its files: at each epoch end ({@link Keep}, sent while training is paused) it
 * copies the job's model into the last-good snapshot, writes the model file and the trajectory point
 * {@code trajectoryDir/epoch-NNN.descent} from that snapshot and answers {@link Kept}; when the job diverges
 * ({@link Restore}) it copies the snapshot back into the job's model and writes the model file, so the last good
 * parameters stay in memory and on disk. Every file is written from the snapshot (never from the model training is
 * changing), atomically. It runs on the blocking dispatcher (file writes and fsync must not hold a compute thread).
 * The snapshot and the model belong to the {@link JobSupervisor}, which frees them after this actor has stopped.
 */
public final class ModelKeeper extends AbstractBehavior<ModelKeeper.Command> {

    /** The keeper's protocol. */
    public sealed interface Command {
    }

    /**
     * Training is paused after {@code epoch} epochs: copy the model into the last good snapshot, write the model file
     * and trajectory point {@code epoch}; reply {@link Kept} or {@link WriteFailed}.
     */
    public record Keep(int epoch, ActorRef<Reply> replyTo) implements Command {
    }

    /** Write trajectory point {@code epoch} of the snapshot as it is (the start point); reply like {@link Keep}. */
    public record WritePoint(int epoch, ActorRef<Reply> replyTo) implements Command {
    }

    /** The job diverged: copy the snapshot back into the model, write the model file; reply {@link Restored}. */
    public record Restore(ActorRef<Reply> replyTo) implements Command {
    }

    /** Replies of the keeper. */
    public sealed interface Reply {
    }

    /** The state after {@code epoch} epochs is kept and its files are written. */
    public record Kept(int epoch) implements Reply {
    }

    /** A file of {@code epoch} could not be written ({@code cause} names it). */
    public record WriteFailed(int epoch, UncheckedIOException cause) implements Reply {
    }

    /** The model holds the last good state again; {@code writeError} is null when the model file was written too. */
    public record Restored(UncheckedIOException writeError) implements Reply {
    }

    private final Model model;
    private final ParameterSnapshot lastGood;
    private final Path modelFile;
    private final Path trajectoryDir;

    /**
     * A keeper of {@code model}'s last good state in {@code lastGood} (taken by the caller before training starts);
     * {@code modelFile} and {@code trajectoryDir} may be null (not written).
     */
    public static Behavior<Command> create(Model model, ParameterSnapshot lastGood, Path modelFile,
                                           Path trajectoryDir) {
        return Behaviors.setup(ctx -> new ModelKeeper(ctx, model, lastGood, modelFile, trajectoryDir));
    }

    private ModelKeeper(ActorContext<Command> ctx, Model model, ParameterSnapshot lastGood, Path modelFile,
                        Path trajectoryDir) {
        super(ctx);
        this.model = model;
        this.lastGood = lastGood;
        this.modelFile = modelFile;
        this.trajectoryDir = trajectoryDir;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Keep.class, this::onKeep)
                .onMessage(WritePoint.class, this::onWritePoint)
                .onMessage(Restore.class, this::onRestore)
                .build();
    }

    private Behavior<Command> onKeep(Keep k) {
        model.snapshotInto(lastGood);
        try {
            saveModelFile();
            saveTrajectoryPoint(k.epoch());
            k.replyTo().tell(new Kept(k.epoch()));
        } catch (UncheckedIOException e) {
            k.replyTo().tell(new WriteFailed(k.epoch(), e));
        }
        return this;
    }

    private Behavior<Command> onWritePoint(WritePoint w) {
        try {
            saveTrajectoryPoint(w.epoch());
            w.replyTo().tell(new Kept(w.epoch()));
        } catch (UncheckedIOException e) {
            w.replyTo().tell(new WriteFailed(w.epoch(), e));
        }
        return this;
    }

    private Behavior<Command> onRestore(Restore r) {
        model.restore(lastGood);
        try {
            saveModelFile();
            r.replyTo().tell(new Restored(null));
        } catch (UncheckedIOException e) {
            r.replyTo().tell(new Restored(e));
        }
        return this;
    }

    private void saveModelFile() {
        if (modelFile != null) {
            try {
                ModelFile.save(lastGood, modelFile);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot save the model file " + modelFile + ": " + e.getMessage(), e);
            }
        }
    }

    /** The snapshot as trajectoryDir/epoch-NNN.descent (0 = the initial point). */
    private void saveTrajectoryPoint(int epoch) {
        if (trajectoryDir == null) {
            return;
        }
        Path file = trajectoryDir.resolve(String.format(Locale.ROOT, "epoch-%03d.descent", epoch));
        try {
            Files.createDirectories(trajectoryDir);
            ModelFile.save(lastGood, file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the trajectory point " + file + ": " + e.getMessage(), e);
        }
    }
}
