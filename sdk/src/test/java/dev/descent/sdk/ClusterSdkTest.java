package dev.descent.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The SDK's cluster wiring in one JVM: a worker node ({@link Descent#joinCluster}) and a submitting engine
 * ({@link DescentConfig#cluster}) on 127.0.0.1; a 2-worker plan trains on the node and ends with the parameters of
 * the same plan on a local 2-worker engine, with cluster statistics. (The multi-JVM tests, node loss included, are
 * the engine's ClusterTrainingTest.)
 */
@Timeout(120)
class ClusterSdkTest {
    private static final int N = 384;
    private static final int F = 12;

    private static TrainingPlan.Builder plan(float[][] x, int[] y) {
        return TrainingPlan.builder().model(ModelDefinition.mlp().input(F).hidden(16).activation(Activation.RELU)
                        .output(3).init("kaiming-normal").seed(5).build())
                .train(DataSource.arrays("blobs", x, y, 3)).test(DataSource.arrays("blobs-test", x, y, 3).limit(100))
                .optimizer(Optimizer.momentum(0.05, 0.9)).batchSize(64).evalBatchSize(100).epochs(2).seed(9)
                .workers(2);
    }

    @Test
    void aPlanOnAClusterNodeEqualsTheLocalRun() throws Exception {
        SplittableRandom r = new SplittableRandom(3);
        float[][] x = new float[N][F];
        int[] y = new int[N];
        for (int i = 0; i < N; i++) {
            y[i] = r.nextInt(3);
            for (int f = 0; f < F; f++) {
                x[i][f] = y[i] * (f % 3 == y[i] ? 1.5f : -0.5f) + (float) (r.nextGaussian() * 0.6);
            }
        }
        TrainingResult local;
        try (DescentEngine engine = Descent.start(new DescentConfig().workers(2).systemName("sdk-local"))) {
            local = engine.submit(plan(x, y).build()).await();
        }
        int port = freePort();
        String seed = "127.0.0.1:" + port;
        try (ClusterNode node = Descent.joinCluster(new DescentConfig().workers(2).cluster(List.of(seed))
                .clusterPort(port)).awaitUp(Duration.ofSeconds(60));
             DescentEngine engine = Descent.start(new DescentConfig().workers(2).cluster(List.of(seed))
                     .clusterNodes(1).clusterJoinTimeout(Duration.ofSeconds(60)))) {
            assertEquals(2, node.workers());
            TrainingJob job = engine.submit(plan(x, y).build());
            TrainingResult remote = job.await();
            assertEquals(local.parametersSha256(), remote.parametersSha256());
            ClusterStats stats = job.clusterStats().orElseThrow();
            assertEquals(2, stats.workers());
            assertTrue(stats.placement().contains(node.address()), stats.placement());
            assertTrue(stats.bytesPerStep() > 2 * 4 * (F * 16 + 16 + 16 * 3 + 3), "bytes per step " + stats.bytesPerStep());
            // asking for more worker nodes than there are: a clear time-out, not a hang
            DescentException e = assertThrows(DescentException.class, () -> {
                try (DescentEngine two = Descent.start(new DescentConfig().workers(1).cluster(List.of(seed))
                        .clusterNodes(2).clusterJoinTimeout(Duration.ofSeconds(3)))) {
                    two.submit(plan(x, y).build());
                }
            });
            assertTrue(e.getMessage().contains("only 1 of 2 worker node(s)"), e.getMessage());
        }
    }

    @Test
    void badSeedNodesAreRefusedUpFront() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new DescentConfig().cluster(List.of("no-port")).conclude());
        assertTrue(e.getMessage().contains("host:port"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Descent.joinCluster(new DescentConfig()));
    }

    private static int freePort() throws java.io.IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
