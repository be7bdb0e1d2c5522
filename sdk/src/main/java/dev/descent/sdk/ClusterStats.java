package dev.descent.sdk;

/**
 * Where a cluster job's workers ran and what crossed the wire, averaged over the job so far.
 *
 * @param placement                  workers per node, e.g. {@code 2 worker(s) on 2 node(s) {...}}
 * @param workers                    logical workers (the shards of each batch)
 * @param bytesPerStep               bytes on the wire per optimizer step, all workers, both directions
 * @param transportSecondsPerShare   per worker-step: round trip minus the node's compute (serialization,
 *                                   transport, deserialization, queueing)
 * @param computeSecondsPerShare     per worker-step: forward/backward on the node
 * @param nodesLost                  worker nodes lost during the job (their shares were re-dealt)
 * @param sharesMoved                shares moved at an epoch start to a node worker that had none of the job's
 *                                   shares (a node that joined during the job, or one unused so far)
 * @param sharesPerNode              worker-steps computed per node ({@code host:port}), sorted by node
 */
public record ClusterStats(String placement, int workers, double bytesPerStep, double transportSecondsPerShare,
                           double computeSecondsPerShare, int nodesLost, int sharesMoved,
                           java.util.SortedMap<String, Long> sharesPerNode) {
}
