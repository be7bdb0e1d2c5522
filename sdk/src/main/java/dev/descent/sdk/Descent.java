package dev.descent.sdk;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Locale;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Entry point of the SDK.
 * <pre>{@code
 * try (DescentEngine engine = Descent.start(new DescentConfig().workers(2))) {
 *     TrainingJob job = engine.submit(plan);
 *     job.addListener(e -> { if (e instanceof TrainingEvent.EpochCompleted ep) System.out.println(ep); });
 *     TrainingResult r = job.await();
 * }
 * }</pre>
 */
public final class Descent {
    private Descent() {
    }

    /** Starts an engine with its own actor system (terminated by {@link DescentEngine#close()}). */
    public static DescentEngine start(DescentConfig config) {
        DescentConfig c = config.isConcluded() ? config : config.conclude();
        int pool = Math.max(4, 2 * c.workers() + 4);
        Config conf = ConfigFactory.parseString(String.format(Locale.ROOT, """
                descent.job-dispatcher {
                  type = Dispatcher
                  executor = "thread-pool-executor"
                  thread-pool-executor.fixed-pool-size = %d
                  throughput = 1
                }
                pekko.log-dead-letters-during-shutdown = off
                pekko.log-dead-letters = 0
                """, pool)).withFallback(ConfigFactory.load());
        return new DescentEngine(ActorSystem.create(Behaviors.empty(), c.systemName(), conf), true, c);
    }

    /** Starts an engine with the default configuration. */
    public static DescentEngine start() {
        return start(new DescentConfig());
    }

    /**
     * An engine that runs its jobs on a host service's actor system (the host keeps owning it; close() only
     * stops the jobs). Compute actors use the host's {@code descent.job-dispatcher} if configured, else Pekko's
     * blocking-IO dispatcher.
     */
    public static DescentEngine attach(ActorSystem<?> system, DescentConfig config) {
        return new DescentEngine(system, false, config.isConcluded() ? config : config.conclude());
    }
}
