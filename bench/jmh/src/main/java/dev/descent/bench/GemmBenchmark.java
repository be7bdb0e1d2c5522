package dev.descent.bench;

import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * SGEMM on the SIMD backend: 1024^3 on one and two threads, and the three products of one training step of the
 * 784-256-128-10 MLP's first layer at batch 128 (forward Y = X·Wᵀ: NT 128x256x784; input gradient dX = dY·W:
 * NN 128x784x256; weight gradient dW = dYᵀ·X: TN 256x784x128), plus the narrow output layer (NT 128x10x128).
 * Time per product; GFLOP/s = 2*m*n*k / time. Compare with bench/compare-gemm.sh (numpy, torch) in one run.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector ... -jar bench/jmh/target/descent-jmh.jar -f 1 -wi 3 -i 5 Gemm
 * </pre>
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GemmBenchmark extends KernelBenchmark {

    /** "layout:m:n:k:threads". */
    @Param({"NN:1024:1024:1024:1", "NN:1024:1024:1024:2",
            "NT:128:256:784:1", "NN:128:784:256:1", "TN:256:784:128:1", "NT:128:10:128:1",
            "NT:128:256:784:2", "NN:128:784:256:2", "TN:256:784:128:2"})
    public String shape;

    private KernelBackend backend;
    private OffHeapBlock a;   // [m,k] or, for TN, [k,m]
    private OffHeapBlock b;   // [k,n] or, for NT, [n,k]
    private OffHeapBlock c;   // [m,n]
    private MemorySegment as;
    private MemorySegment bs;
    private MemorySegment cs;
    private int layout;
    private int m;
    private int n;
    private int k;
    private int threads;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = shape.split(":");
        layout = switch (p[0]) {
            case "NN" -> 0;
            case "NT" -> 1;
            case "TN" -> 2;
            default -> throw new IllegalArgumentException("layout " + p[0]);
        };
        m = Integer.parseInt(p[1]);
        n = Integer.parseInt(p[2]);
        k = Integer.parseInt(p[3]);
        threads = Integer.parseInt(p[4]);
        backend = Kernels.simd();
        a = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
        b = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
        c = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE);
        as = a.segment();
        bs = b.segment();
        cs = c.segment();
        SplittableRandom rnd = new SplittableRandom(42);
        for (long i = 0; i < (long) m * k; i++) {
            as.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
        for (long i = 0; i < (long) k * n; i++) {
            bs.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        c.close();
    }

    @Benchmark
    public MemorySegment gemm() {
        switch (layout) {
            case 0 -> backend.gemmNN(cs, 0, as, 0, bs, 0, m, n, k, false, threads);
            case 1 -> backend.gemmNT(cs, 0, as, 0, bs, 0, m, n, k, false, threads);
            default -> backend.gemmTN(cs, 0, as, 0, bs, 0, m, n, k, false, threads);
        }
        return cs;
    }
}
