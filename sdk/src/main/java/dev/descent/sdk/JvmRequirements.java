package dev.descent.sdk;

import java.util.ArrayList;
import java.util.List;

/**
 * What the SDK needs from the JVM it runs in, checked once before any work starts, so that a missing flag fails
 * {@link Descent#start} with one message naming the flags instead of killing the host's JVM after the work
 * (Agrona's off-heap buffers reach {@code jdk.internal.misc.Unsafe} on first use; without the export that is an
 * {@link IllegalAccessError} on a dispatcher thread).
 */
final class JvmRequirements {
    /** The flag without which the off-heap memory cannot work at all. */
    static final String EXPORT_FLAG = "--add-exports java.base/jdk.internal.misc=ALL-UNNAMED";
    /** The flag without which the kernels fall back to the (several times slower) scalar backend. */
    static final String VECTOR_FLAG = "--add-modules jdk.incubator.vector";
    /** Every flag the launcher passes; what an embedding service should pass too. */
    static final String ALL_FLAGS = VECTOR_FLAG + " " + EXPORT_FLAG
            + " --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow";

    private JvmRequirements() {
    }

    /** Throws a {@link DescentException} naming every missing flag that the SDK cannot work without. */
    static void check() {
        List<String> missing = missingRequired(Object.class.getModule(), org.agrona.concurrent.UnsafeBuffer.class.getModule());
        if (!missing.isEmpty()) {
            throw new DescentException("this JVM was started without " + String.join(" and ", missing)
                    + ", which Descent's off-heap memory (Agrona) needs. Start the JVM with: " + ALL_FLAGS
                    + " (docs/sdk.md, 'JVM flags', shows them for Maven, Gradle and java -jar)");
        }
    }

    /** The required flags missing for a consumer module reaching into {@code javaBase}; package-private for tests. */
    static List<String> missingRequired(Module javaBase, Module agrona) {
        List<String> missing = new ArrayList<>();
        if (!javaBase.isExported("jdk.internal.misc", agrona)) {
            missing.add(EXPORT_FLAG);
        }
        return missing;
    }

    /**
     * Null when the SIMD kernels run; otherwise a warning saying that the engine runs on the scalar kernels and
     * which flag fixes it (the SDK ships no logging binding, so this is also reported by {@link Descent#kernels()}
     * and as an {@code Anomaly} event of kind {@code scalar-kernels} at the start of every job).
     */
    static String kernelWarning(String backend) {
        if (!"scalar".equals(backend)) {
            return null;
        }
        boolean vectorPresent = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        return vectorPresent
                ? "the engine runs on the SCALAR kernels (requested with -Ddescent.kernels=scalar), several times slower than SIMD"
                : "the engine runs on the SCALAR kernels, several times slower: the JVM was started without "
                        + VECTOR_FLAG + " (add it to use the SIMD kernels)";
    }
}
