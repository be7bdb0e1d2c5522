package dev.descent.sdk;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** A worker node running in this JVM ({@link Descent#joinCluster}); close it to leave the cluster. */
public final class ClusterNode implements AutoCloseable {
    private final dev.descent.engine.cluster.WorkerNode node;

    ClusterNode(dev.descent.engine.cluster.WorkerNode node) {
        this.node = node;
    }

    /** {@code host:port} of this node. */
    public String address() {
        return node.address();
    }

    /** Compute slots (one thread each) this node offers. */
    public int workers() {
        return node.workers();
    }

    /** Waits until the node is a member (Up) of the cluster; {@link DescentException} after {@code timeout}. */
    public ClusterNode awaitUp(Duration timeout) throws InterruptedException {
        try {
            node.awaitUp(timeout);
        } catch (TimeoutException e) {
            throw new DescentException(e.getMessage(), e);
        }
        return this;
    }

    /** Blocks until the node stops (closed, or downed by the cluster after it was unreachable). */
    public void awaitTermination() throws InterruptedException {
        try {
            node.whenTerminated().toCompletableFuture().get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new DescentException("worker node stopped with " + e.getCause(), e.getCause());
        }
    }

    /** Leaves the cluster and stops the node. */
    @Override
    public void close() {
        node.close();
    }
}
