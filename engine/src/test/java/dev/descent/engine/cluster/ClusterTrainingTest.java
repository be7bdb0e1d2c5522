package dev.descent.engine.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.descent.engine.actor.Fixtures;
import dev.descent.engine.actor.JobSpec;
import dev.descent.engine.actor.JobStatus;
import dev.descent.engine.actor.JobSupervisor;
import dev.descent.engine.data.Dataset;
import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.nn.Mlp;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.LrSchedule;
import dev.descent.engine.optim.Optimizers;
import dev.descent.engine.train.TrainingResult;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Three JVMs on 127.0.0.1: this one submits (supervisor, aggregator, evaluation), two child JVMs are worker nodes
 * with one node worker each. (1) a 2-worker cluster job ends with the parameters of a 2-worker single-JVM job,
 * bit for bit; (2) SIGKILL of one worker node mid-run: the job completes, every step once, with the node-lost
 * anomaly and the same test accuracy; (3) asking for a worker node that never joins fails with a time-out naming
 * what is missing; (4) a node that computes none of a job's shares at the start takes one from the next epoch;
 * (5) one worker in the submitting JVM and one on a node: the same bits. The child JVMs are destroyed after the tests (and exit when this JVM's pipe closes).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ClusterTrainingTest {
    private static final List<Process> NODES = new ArrayList<>();
    private static ClusterClient client;
    private static String seed;
    private static TrainingResult uninterrupted;

    /** Fast failure detection for tests (the same on every node). */
    static ClusterSettings timings(ClusterSettings s) {
        return s.heartbeatPause(Duration.ofSeconds(3)).stableAfter(Duration.ofSeconds(1));
    }

    @BeforeAll
    static void startNodes() throws Exception {
        int p1 = freePort();
        int p2 = freePort();
        seed = "127.0.0.1:" + p1;
        NODES.add(startNode(p1));
        NODES.add(startNode(p2));
        for (Process p : NODES) {
            awaitUp(p);
        }
        client = ClusterClient.start(timings(new ClusterSettings()).seedNodes(List.of(seed))
                .joinTimeout(Duration.ofSeconds(30)));
        client.placement("warm-up", 0, 2, Duration.ofSeconds(60)); // both nodes listed by the Receptionist
    }

    @AfterAll
    static void stopNodes() throws Exception {
        if (client != null) {
            client.close();
        }
        for (Process p : NODES) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A worker-node JVM with this JVM's class path and the launcher's JVM flags. */
    private static Process startNode(int port) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.JAVA, "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-Xss4m", "-Xmx256m", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"), NodeMain.class.getName(), Integer.toString(port), seed,
                "1"));
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    private static final class Path {
        static final String JAVA = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void awaitUp(Process p) throws Exception {
        CompletableFuture<String> up = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("UP ")) {
                        up.complete(line);
                    } else if (line.contains("ERROR") || line.contains("Exception")) {
                        System.err.println("[node] " + line);
                    }
                }
            } catch (java.io.IOException e) {
                // process gone
            }
            up.completeExceptionally(new IllegalStateException("worker node exited before it was up"));
        }, "node-output");
        t.setDaemon(true);
        t.start();
        up.get(60, TimeUnit.SECONDS);
    }

    private static Model mlp() {
        return Mlp.builder().input(20).hidden(32, 16).activation(Activation.RELU).output(3).dropout(0.1)
                .init(Init.KAIMING_NORMAL).seed(7).build();
    }

    /** 2 workers, batch 64 over 600 examples (last batch partial), 3 epochs: 30 steps. */
    private static JobSpec spec(String name, Model m, Dataset train, Dataset test) {
        return new JobSpec().name(name).model(m).train(train).test(test).loss(LossKind.CROSS_ENTROPY)
                .optimizer(Optimizers.momentum(0.05, 0.9)).schedule(LrSchedule.cosine(0.05, 0.0, 0))
                .batchSize(64).evalBatchSize(50).epochs(3).seed(11).workers(2)
                .stepTimeout(Duration.ofSeconds(60));
    }

    private static TrainingResult run(ActorSystem<?> system, JobSpec spec) throws Exception {
        CompletableFuture<TrainingResult> f = new CompletableFuture<>();
        system.systemActorOf(JobSupervisor.create(spec, new JobStatus(), f, DispatcherSelector.blocking()),
                "job-" + spec.name(), Props.empty());
        return f.get(120, TimeUnit.SECONDS);
    }

    @Test
    @Order(1)
    void aNodeThatNeverJoinsIsATimeOutNotAHang() {
        long t0 = System.nanoTime();
        TimeoutException e = assertThrows(TimeoutException.class,
                () -> client.placement("never", 0, 3, Duration.ofSeconds(3)));
        double s = (System.nanoTime() - t0) / 1e9;
        assertTrue(s < 10, "gave up after " + s + " s");
        assertTrue(e.getMessage().contains("only 2 of 3 worker node(s) joined"), e.getMessage());
        assertTrue(e.getMessage().contains(seed), e.getMessage());
    }

    @Test
    @Order(1)
    void aWorkerNodeWhoseSeedsNeverAnswerTimesOutWithAClearMessage() throws Exception {
        String nowhere = "127.0.0.1:" + freePort(); // nothing listens there
        try (WorkerNode lonely = WorkerNode.start(timings(new ClusterSettings()).port(0)
                .seedNodes(List.of(nowhere)))) {
            long t0 = System.nanoTime();
            TimeoutException e = assertThrows(TimeoutException.class, () -> lonely.awaitUp(Duration.ofSeconds(3)));
            assertTrue((System.nanoTime() - t0) / 1e9 < 10);
            assertTrue(e.getMessage().contains("did not join the cluster at [" + nowhere + "]"), e.getMessage());
        }
    }

    @Test
    @Order(2)
    void clusterRunEqualsSingleJvmRunWithTheSameWorkerCount() throws Exception {
        String local;
        ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "single-jvm");
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1); Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = mlp()) {
            local = run(system, spec("local", m, train, test)).parametersSha256();
        } finally {
            system.terminate();
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1); Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = mlp()) {
            ClusterWorkers placement = client.placement("cluster", 2, 2, Duration.ofSeconds(30));
            assertTrue(placement.describe().contains("2 node(s)"), placement.describe());
            uninterrupted = run(client.system(), spec("cluster", m, train, test).remoteWorkers(placement));
            assertEquals(local, uninterrupted.parametersSha256(), "cluster and single-JVM parameters differ");
            assertEquals(30, uninterrupted.steps());
            assertTrue(placement.bytesPerStep() > 0);
        }
    }

    @Test
    @Order(3)
    void aNodeUnusedAtTheStartTakesAShareFromTheNextEpochWithTheSameBits() throws Exception {
        assertTrue(uninterrupted != null, "runs after the uninterrupted cluster run");
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1); Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = mlp()) {
            // both logical workers start on the first node's only node worker; the second node has none of them,
            // as if it had joined during the job
            ClusterWorkers placement = client.placement("spread", 2, 1, Duration.ofSeconds(30));
            assertTrue(placement.describe().contains("2 worker(s) on 1 node(s)"), placement.describe());
            TrainingResult r = run(client.system(), spec("spread", m, train, test).remoteWorkers(placement));
            assertEquals(1, placement.sharesMoved());
            var perNode = placement.sharesPerNode();
            assertEquals(2, perNode.size(), perNode.toString());
            // epoch 1: both shares of its 10 steps on one node; epochs 2-3 (20 steps): one share per step on each
            assertEquals(List.of(20L, 2 * 10L + 20),
                    perNode.values().stream().sorted().toList(), perNode.toString());
            assertEquals(uninterrupted.parametersSha256(), r.parametersSha256(), "same shards, same bits");
        }
    }

    @Test
    @Order(3)
    void aWorkerInTheSubmittingJvmAndOneOnANodeGiveTheSameBits() throws Exception {
        assertTrue(uninterrupted != null, "runs after the uninterrupted cluster run");
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1); Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = mlp()) {
            ClusterWorkers placement = client.placement("hybrid", 2, 1, 1, Duration.ofSeconds(30));
            assertTrue(placement.runsHere(0) && !placement.runsHere(1));
            assertTrue(placement.describe().startsWith("2 worker(s): 1 in the submitting JVM, 1 on 1 node(s)"),
                    placement.describe());
            TrainingResult r = run(client.system(), spec("hybrid", m, train, test).remoteWorkers(placement));
            assertEquals(uninterrupted.parametersSha256(), r.parametersSha256(), "same shards, same bits");
            assertEquals(30L, placement.sharesPerNode().values().stream().mapToLong(Long::longValue).sum(),
                    "only worker 1's shares ran on a node: " + placement.sharesPerNode());
            assertThrows(IllegalArgumentException.class,
                    () -> client.placement("bad", 2, 2, 1, Duration.ofSeconds(1)));
        }
    }

    @Test
    @Order(4)
    void sigkillOfAWorkerNodeMidRunLosesNoStep() throws Exception {
        assertTrue(uninterrupted != null, "runs after the uninterrupted cluster run");
        List<TrainingEvent> events = new CopyOnWriteArrayList<>();
        Process victim = NODES.get(1);
        try (Dataset train = Fixtures.blobs("train", 600, 20, 3, 1); Dataset test = Fixtures.blobs("test", 230, 20, 3, 2);
             Model m = mlp()) {
            ClusterWorkers placement = client.placement("killed", 2, 2, Duration.ofSeconds(30));
            TrainingResult r = run(client.system(), spec("killed", m, train, test).remoteWorkers(placement)
                    .listener(e -> {
                        events.add(e);
                        if (e instanceof TrainingEvent.StepCompleted s && s.step() == 12) {
                            victim.destroyForcibly(); // SIGKILL
                        }
                    }));
            assertFalse(victim.isAlive());
            List<Long> steps = events.stream().filter(e -> e instanceof TrainingEvent.StepCompleted)
                    .map(e -> ((TrainingEvent.StepCompleted) e).step()).toList();
            assertEquals(java.util.stream.LongStream.rangeClosed(1, 30).boxed().toList(), steps,
                    "every step exactly once");
            assertTrue(events.stream().anyMatch(e -> e instanceof TrainingEvent.Anomaly a
                    && a.kind().equals("node-lost")), "a node-lost anomaly");
            assertEquals(1, placement.nodesLost());
            double before = uninterrupted.epochs().getLast().testAccuracy();
            double after = r.epochs().getLast().testAccuracy();
            assertTrue(Math.abs(before - after) <= 0.01, "test accuracy " + after + " vs " + before);
            // the share moved with its rows and parameters: even the bits are the same
            assertEquals(uninterrupted.parametersSha256(), r.parametersSha256());
        }
    }
}
