package dev.descent.bench;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Conv2d;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import dev.descent.engine.nn.Sequential;
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
 * Conv2d forward and backward (weight, bias and input gradients) on the SIMD kernels, one thread, on the two
 * convolutions of {@code Models.cnn} at batch 128: {@code [128,1,28,28] -> 16 5x5 pad 2} and
 * {@code [128,16,14,14] -> 32 5x5 pad 2}, plus a 3x3 ResNet-style layer {@code [64,32,16,16] -> 32 3x3 pad 1}.
 * The same shapes run in PyTorch with bench/peers/torch_conv.py; bench/compare-conv.sh runs both and prints the
 * ratios.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector ... -jar bench/jmh/target/descent-jmh.jar -f 1 -wi 3 -i 5 Conv
 * </pre>
 */
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 2)
public class ConvBenchmark extends KernelBenchmark {

    /** "batch:inC:h:w:outC:kernel:stride:pad". */
    @Param({"128:1:28:28:16:5:1:2", "128:16:14:14:32:5:1:2", "64:32:16:16:32:3:1:1"})
    public String shape;

    private Model model;
    private Module conv;
    private ExecutionContext ctx;
    private OffHeapBlock x;
    private OffHeapBlock y;
    private OffHeapBlock dy;
    private OffHeapBlock dx;
    private OffHeapBlock ws;
    private int batch;

    @Setup(Level.Trial)
    public void setUp() {
        String[] p = shape.split(":");
        batch = Integer.parseInt(p[0]);
        int c = Integer.parseInt(p[1]);
        int h = Integer.parseInt(p[2]);
        int w = Integer.parseInt(p[3]);
        model = Sequential.input(c, h, w).add(new Conv2d(Integer.parseInt(p[4]), Integer.parseInt(p[5]),
                Integer.parseInt(p[6]), Integer.parseInt(p[7]))).build().initialize(Init.KAIMING_NORMAL, Init.ZEROS, 1);
        conv = model.layer(0);
        ctx = new ExecutionContext(Kernels.simd()).threads(1);
        x = BenchBuffers.gaussian((long) batch * model.nodeSize(0), 1);
        dx = OffHeapBlock.allocateFloats((long) batch * model.nodeSize(0), Purpose.WORKSPACE);
        y = OffHeapBlock.allocateFloats((long) batch * model.nodeSize(1), Purpose.WORKSPACE);
        dy = BenchBuffers.gaussian((long) batch * model.nodeSize(1), 2);
        ws = OffHeapBlock.allocateFloats(conv.workspaceFloats(batch), Purpose.WORKSPACE);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        BenchBuffers.closeAll(x, dx, y, dy, ws);
        model.close();
    }

    @Benchmark
    public void forward() {
        conv.forward(ctx, y.segment(), 0, ws.segment(), 0, x.segment(), 0, batch);
    }

    /** Weight, bias and input gradients (what a training step needs of a non-first layer). */
    @Benchmark
    public void backward() {
        conv.backward(ctx, dx.segment(), 0, ws.segment(), 0, dy.segment(), 0, x.segment(), 0, batch, true);
    }
}
