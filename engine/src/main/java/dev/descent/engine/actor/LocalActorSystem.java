package dev.descent.engine.actor;

/**
 * Configuration shared by the actor systems that run on one JVM only (an engine without a cluster, a landscape's
 * evaluators). Cluster systems keep Pekko's defaults.
 */
public final class LocalActorSystem {
    /**
     * Loads only the typed API's own extensions when the system starts. Pekko's defaults also start its serialization
     * extension and the streams materializer, which a local system never uses: the serialization extension builds
     * every serializer on the class path, the cluster's and remoting's included, and their ~130 lambdas are classes the
     * JVM generates at start-up, while the kernels' JIT warm-up needs the same two cores. Both still load on first use.
     * Measured on `./descent bench train --workers 2 --epochs 1` (Zen 5, 4 rounds alternated): ~1.3 s less CPU and
     * ~0.5 s less wall time per command (docs/performance.md).
     */
    public static final String LIBRARY_EXTENSIONS = "pekko.library-extensions = "
            + "[\"org.apache.pekko.actor.typed.internal.adapter.ActorSystemAdapter$LoadTypedExtensions\"]";

    private LocalActorSystem() {
    }
}
