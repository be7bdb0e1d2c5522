package dev.descent.bench;

import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.kernel.LayerKernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
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
 * 2x2 stride-2 max pooling, forward and backward, on the SIMD kernels: the two pools of {@code Models.cnn} at
 * batch 128 ({@code [128,16,28,28]} and {@code [128,32,14,14]}).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector ... -jar bench/jmh/target/descent-jmh.jar -f 1 -wi 3 -i 5 Pool
 * </pre>
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PoolBenchmark extends KernelBenchmark {

    /** "batch:channels:h:w". */
    @Param({"128:16:28:28", "128:32:14:14"})
    public String shape;

    private LayerKernels kernels;
    private OffHeapBlock x;
    private OffHeapBlock dx;
    private OffHeapBlock y;
    private OffHeapBlock dy;
    private int planes;
    private int h;
    private int w;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = shape.split(":");
        planes = Integer.parseInt(p[0]) * Integer.parseInt(p[1]);
        h = Integer.parseInt(p[2]);
        w = Integer.parseInt(p[3]);
        kernels = LayerKernels.forBackend(Kernels.simd());
        x = BenchBuffers.gaussian((long) planes * h * w, 1);
        dx = OffHeapBlock.allocateFloats((long) planes * h * w, Purpose.WORKSPACE);
        y = OffHeapBlock.allocateFloats((long) planes * h * w / 4, Purpose.WORKSPACE);
        dy = BenchBuffers.gaussian((long) planes * h * w / 4, 2);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        BenchBuffers.closeAll(x, dx, y, dy);
    }

    @Benchmark
    public void forward() {
        kernels.maxPoolForward(y.segment(), 0, x.segment(), 0, planes, h, w, 2, 2, 0, h / 2, w / 2);
    }

    @Benchmark
    public void backward() {
        kernels.maxPoolBackward(dx.segment(), 0, dy.segment(), 0, x.segment(), 0, planes, h, w, 2, 2, 0, h / 2,
                w / 2);
    }
}
