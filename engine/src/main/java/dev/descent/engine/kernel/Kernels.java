package dev.descent.engine.kernel;

import dev.descent.engine.kernel.scalar.ScalarKernels;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one entry point to the compute kernels. The backend is chosen once, at first use:
 * <ul>
 *   <li>{@value #BACKEND_PROP_NAME}={@code simd|scalar|auto} (default {@value #BACKEND_DEFAULT});</li>
 *   <li>{@code auto} picks {@code simd} when the {@code jdk.incubator.vector} module is present in the
 *       boot layer (the JVM was started with {@code --add-modules jdk.incubator.vector}), else {@code scalar},
 *       and logs once, clearly, that it fell back.</li>
 * </ul>
 * Asking for {@code simd} explicitly without the module is an error, not a silent slow path.
 */
public final class Kernels {
    public static final String BACKEND_PROP_NAME = "descent.kernels";
    public static final String BACKEND_DEFAULT = "auto";
    public static final String THREADS_PROP_NAME = "descent.kernel.threads";

    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String SIMD_CLASS = "dev.descent.engine.kernel.simd.SimdKernels";

    static {
        loadSegmentImplementations();
    }

    private Kernels() {
    }

    /**
     * Loads every {@link MemorySegment} implementation class before any kernel is compiled. While only native
     * segments exist, C2 compiles segment accesses against that one class (class-hierarchy analysis); the first
     * heap segment made later invalidates every such method at once. In {@code ./descent train} java2d's font
     * shaper made one when the first chart was drawn (and a struct-layout var handle with it), deoptimizing 40 compiled kernels after epoch 1 and costing
     * the second epoch half its speed.
     */
    static void loadSegmentImplementations() {
        MemorySegment.ofArray(new byte[0]);
        MemorySegment.ofArray(new char[0]);
        MemorySegment.ofArray(new short[0]);
        MemorySegment.ofArray(new int[0]);
        MemorySegment.ofArray(new float[0]);
        MemorySegment.ofArray(new long[0]);
        MemorySegment.ofArray(new double[0]);
        // a var handle through a struct layout: the indirect var handle that font shaping uses later
        MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("x")).varHandle(MemoryLayout.PathElement.groupElement("x"));
        try {   // file mappings: loaded, not initialized, so nothing is mapped
            Class.forName("jdk.internal.foreign.MappedMemorySegmentImpl", false, null);
        } catch (ClassNotFoundException e) {
            LOG.debug("no MappedMemorySegmentImpl in this JDK: {}", e.toString());
        }
    }

    private static final class Holder {
        static final KernelBackend BACKEND = select(System.getProperty(BACKEND_PROP_NAME, BACKEND_DEFAULT));
        static final KernelPool POOL = new KernelPool(Integer.getInteger(THREADS_PROP_NAME,
                Runtime.getRuntime().availableProcessors()));
    }

    /** The backend chosen at start-up. */
    public static KernelBackend backend() {
        return Holder.BACKEND;
    }

    /** The layer kernels (conv, pooling, norms, attention) matching {@link #backend()}: simd with simd, else scalar. */
    public static LayerKernels layers() {
        return LayerKernels.forBackend(backend());
    }

    /** The shared kernel thread pool, sized to the cores (or {@value #THREADS_PROP_NAME}). */
    public static KernelPool pool() {
        return Holder.POOL;
    }

    /** The always-present scalar reference backend (for tests and as a fallback). */
    public static KernelBackend scalar() {
        return ScalarHolder.SCALAR;
    }

    private static final class ScalarHolder {
        static final KernelBackend SCALAR = new ScalarKernels();
    }

    /** True when the Vector API module is resolved in the boot layer of this JVM. */
    public static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /**
     * The SIMD backend, loaded reflectively so that no Vector API class is linked when the module is absent.
     *
     * @throws IllegalStateException if the JVM was started without {@code --add-modules jdk.incubator.vector}
     */
    public static KernelBackend simd() {
        if (!vectorModulePresent()) {
            throw new IllegalStateException("the simd kernels need the Vector API: start the JVM with "
                    + "--add-modules " + VECTOR_MODULE + " (or use -D" + BACKEND_PROP_NAME + "=scalar)");
        }
        try {
            return (KernelBackend) Class.forName(SIMD_CLASS).getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            throw new IllegalStateException("cannot load the simd kernels (" + SIMD_CLASS + "): " + e, e);
        }
    }

    /**
     * A SIMD backend whose GEMM runs {@code shape} instead of the machine's choice (tests, {@link GemmTuner}).
     *
     * @throws IllegalStateException    without the Vector API module
     * @throws IllegalArgumentException if the tile's vectors are wider than this machine's
     */
    public static KernelBackend simd(GemmShape shape) {
        KernelBackend base = simd();
        try {
            return (KernelBackend) base.getClass().getDeclaredConstructor(GemmShape.class).newInstance(shape);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("cannot load the simd kernels with shape " + shape + ": " + e.getCause(), e);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load the simd kernels with shape " + shape + ": " + e, e);
        }
    }

    static KernelBackend select(String requested) {
        String choice = requested.trim().toLowerCase(Locale.ROOT);
        switch (choice) {
            case "scalar":
                LOG.info("Descent kernels: scalar backend (requested by -D{}=scalar)", BACKEND_PROP_NAME);
                return scalar();
            case "simd":
                return simd();
            case "auto":
                if (vectorModulePresent()) {
                    return simd();
                }
                LOG.warn("Descent kernels: the Vector API module ({}) is not present, so the engine runs on the "
                        + "SCALAR kernels, several times slower. Start the JVM with --add-modules {} to use SIMD.",
                        VECTOR_MODULE, VECTOR_MODULE);
                return scalar();
            default:
                throw new IllegalArgumentException("-D" + BACKEND_PROP_NAME + "=" + requested
                        + " is not a kernel backend; expected simd, scalar or auto");
        }
    }
}
