package dev.descent.sdk;

/**
 * The scale of the signal at one node of a network, measured on real inputs by
 * {@link Network#activationStatistics(DataSource, int)}.
 *
 * @param node  node index: 0 is the input, j >= 1 the output of layer j - 1
 * @param layer {@code input}, or the layer that produced the node as {@code <index>:<kind>}, e.g. {@code 0:linear}
 *              (the pre-activation of the first Linear layer) or {@code 1:relu} (its activation)
 * @param mean  mean of the node's values over the batch
 * @param std   standard deviation of the node's values over the batch
 */
public record LayerActivation(int node, String layer, double mean, double std) {
    /** True when the node is the output of a layer of this kind, e.g. {@code isKind("linear")}. */
    public boolean isKind(String kind) {
        return layer.endsWith(":" + kind);
    }
}
