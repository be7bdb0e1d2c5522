package dev.descent.sdk;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.descent.engine.actor.LocalActorSystem;
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

    /**
     * Starts an engine with its own actor system (terminated by {@link DescentEngine#close()}).
     *
     * @throws DescentException if the JVM lacks a flag the engine cannot work without (the message names it); the
     *                          engine's actor system never exits the host's JVM on a fatal error, and does not
     *                          stop itself from a JVM shutdown hook ({@link DescentEngine#close()} does, so that a
     *                          host's own shutdown hook can still checkpoint and cancel its jobs)
     */
    public static DescentEngine start(DescentConfig config) {
        JvmRequirements.check();
        DescentConfig c = config.isConcluded() ? config : config.conclude();
        // One thread per worker, no more. With spare threads every message lands on whichever thread is idle, so a
        // worker's step and the optimizer update that follows ran on different cores and the parameter, gradient and
        // momentum slabs moved between caches every step: the default MLP trained at 64-76k examples/s with one
        // worker on a 6-thread pool and at 82k on one thread (the direct trainer's speed); two workers 85k vs 116k.
        // The loader and the supervisor run between steps on the same threads; nothing in a job blocks on another actor.
        if (c.isCluster()) {
            dev.descent.engine.cluster.ClusterClient client = dev.descent.engine.cluster.ClusterClient.start(
                    c.clusterSettings(false));
            return new DescentEngine(client.system(), true, c, client);
        }
        int pool = Math.max(1, c.workers());
        Config conf = ConfigFactory.parseString(String.format(Locale.ROOT, """
                descent.job-dispatcher {
                  type = Dispatcher
                  executor = "thread-pool-executor"
                  thread-pool-executor.fixed-pool-size = %d
                  throughput = 1
                }
                pekko.jvm-exit-on-fatal-error = off
                pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off
                pekko.log-dead-letters-during-shutdown = off
                pekko.log-dead-letters = 0
                %s
                """, pool, LocalActorSystem.LIBRARY_EXTENSIONS)).withFallback(ConfigFactory.load());
        return new DescentEngine(ActorSystem.create(Behaviors.empty(), c.systemName(), conf), true, c);
    }

    /**
     * The kernel backend, the most threads a kernel may use in this JVM, and a warning when the engine runs on the
     * slow scalar fallback (the SDK ships no logging binding, so read it here or from the jobs' events).
     */
    public static KernelInfo kernels() {
        String backend = dev.descent.engine.kernel.Kernels.backend().name();
        String shape = dev.descent.engine.kernel.Kernels.backend().gemmShape()
                .map(g -> g.describe() + " [" + g.source() + "]").orElse(backend);
        return new KernelInfo(backend, dev.descent.engine.kernel.Kernels.pool().size(),
                JvmRequirements.kernelWarning(backend), shape, dev.descent.engine.kernel.CpuInfo.detected().describe());
    }

    /**
     * Measures the SIMD GEMM's candidate register tiles and cache blockings on this machine for about
     * {@code budgetSeconds} (one thread) and, if {@code save}, stores the winner in the tuning file of this CPU model
     * ({@code ~/.descent/tuning/gemm-<cpu>.properties}, or under {@code -Ddescent.tuning.dir}), which JVMs started
     * later use. This JVM keeps the shape it started with. {@code progress} receives one line per measurement.
     *
     * @throws IllegalStateException without the Vector API (the scalar kernels have nothing to tune)
     */
    public static KernelTuning tuneKernels(double budgetSeconds, boolean save, java.util.function.Consumer<String> progress) {
        return KernelTuning.of(dev.descent.engine.kernel.GemmTuner.tune(budgetSeconds,
                dev.descent.engine.kernel.GemmTuningFile.dir(), save, progress));
    }

    /**
     * Runs {@code plan} on the calling thread with the engine's single-process trainer: no actors, one model, the
     * plan's {@code threadsPerWorker} kernel threads (0: 1). The same numbers as a one-worker job on a
     * {@link DescentEngine}, without its messaging; the baseline of the throughput benchmarks. The plan's listeners
     * receive StepCompleted, EpochCompleted and (with a test set) EvaluationCompleted events on this thread, and
     * GradientStats (per-layer gradient norms and update ratios) after steps 1, N + 1, 2N + 1, ... for the plan's
     * {@code gradientStatsEvery} N (the first at step 1 carries the gradients at initialization); its model
     * file, if any, is written after every epoch. Settings that need the actor engine (more than one worker, async
     * mode, checkpoints, trajectories) are refused with an {@link IllegalArgumentException}. A non-finite loss throws
     * {@link DivergedException}.
     */
    public static TrainingResult trainInProcess(TrainingPlan plan) {
        JvmRequirements.check();
        return InProcessTraining.run(plan);
    }

    /**
     * Measures the loss landscape {@code plan} describes on the calling thread (its points on the plan's evaluator
     * actors, in a private actor system started and stopped around the run) and returns it. The plan's listeners see
     * the points as they finish. Interrupting the calling thread stops the run with a
     * {@link java.util.concurrent.CancellationException}; finished points stay in the plan's partial-results file.
     * Bad files and data are {@link DescentException}s naming them.
     */
    public static LandscapeResult landscape(LandscapePlan plan) {
        JvmRequirements.check();
        Thread caller = Thread.currentThread();
        return Landscapes.run(plan, caller::isInterrupted, null, null);
    }

    /** As {@link #landscape(LandscapePlan)} on a thread of its own: a handle with progress, result and cancel. */
    public static LandscapeJob startLandscape(LandscapePlan plan) {
        JvmRequirements.check();
        return LandscapeJob.start(plan, null);
    }

    /**
     * Starts a worker node in this JVM: it joins the configuration's cluster seed nodes and offers
     * {@code config.workers()} compute slots (one thread each) to the jobs of submitting nodes. Stop it with
     * {@link ClusterNode#close()}.
     */
    public static ClusterNode joinCluster(DescentConfig config) {
        JvmRequirements.check();
        DescentConfig c = config.isConcluded() ? config : config.conclude();
        if (!c.isCluster()) {
            throw new IllegalArgumentException("joinCluster needs seed nodes: DescentConfig.cluster(List.of(\"host:port\"))");
        }
        return new ClusterNode(dev.descent.engine.cluster.WorkerNode.start(c.clusterSettings(true)));
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
        JvmRequirements.check();
        return new DescentEngine(system, false, config.isConcluded() ? config : config.conclude());
    }
}
