package dev.descent.engine.cluster;

import java.time.Duration;
import java.util.List;

/**
 * Child-JVM entry point of {@link ClusterTrainingTest}: a worker node on 127.0.0.1:{@code args[0]} joining the seed
 * nodes {@code args[1]} (comma-separated) with {@code args[2]} node workers. Prints {@code UP host:port} once it is
 * Up; exits when its standard input closes (the test JVM ended), when it is downed, or when killed.
 */
public final class NodeMain {
    private NodeMain() {
    }

    public static void main(String[] args) throws Exception {
        WorkerNode node = WorkerNode.start(ClusterTrainingTest.timings(new ClusterSettings())
                .port(Integer.parseInt(args[0])).seedNodes(List.of(args[1].split(",")))
                .workers(Integer.parseInt(args[2])).exitJvmWhenDowned(true));
        Thread watchdog = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // parent alive
                }
            } catch (java.io.IOException e) {
                // parent gone
            }
            node.close();
            System.exit(0);
        }, "stdin-watch");
        watchdog.setDaemon(true);
        watchdog.start();
        node.awaitUp(Duration.ofSeconds(60));
        System.out.println("UP " + node.address());
        System.out.flush();
        node.whenTerminated().toCompletableFuture().get();
        System.exit(0);
    }
}
