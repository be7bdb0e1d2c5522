package dev.descent.engine.actor;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.nn.Model;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Child-JVM entry point of {@link CheckpointResumeTest}: trains the test job with checkpoints into {@code args[0]},
 * slowed down so that the parent can SIGKILL it mid-epoch; prints {@code CHECKPOINT <step>} after each write and,
 * with a second argument, {@code STEP <step>} after each step (for {@link FaultInjectionTest}).
 */
public final class KillableRun {
    private KillableRun() {
    }

    public static void main(String[] args) throws Exception {
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "killable");
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1);
             Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = Fixtures.mlp(0.1)) {
            CompletableFuture<dev.descent.engine.train.TrainingResult> f = new CompletableFuture<>();
            JobSpec spec = CheckpointResumeTest.checkpointed(Fixtures.spec(m, train, test), Path.of(args[0]))
                    .faults((w, step, attempt) -> Thread.sleep(40))
                    .listener(e -> {
                        if (e instanceof TrainingEvent.CheckpointWritten c) {
                            System.out.println("CHECKPOINT " + c.step());
                            System.out.flush();
                        } else if (args.length > 1 && e instanceof TrainingEvent.StepCompleted s) {
                            System.out.println("STEP " + s.step());
                            System.out.flush();
                        }
                    });
            system.systemActorOf(JobSupervisor.create(spec, new JobStatus(), f, DispatcherSelector.blocking()), "job",
                    org.apache.pekko.actor.typed.Props.empty());
            f.get();
            System.out.println("FINISHED");
        } finally {
            system.terminate();
        }
    }
}
