package dev.descent.bench;

import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The non-GEMM kernel families, simd against the scalar reference in the same run (compare the ratio, not the
 * absolute times): activations forward and backward (ReLU, tanh, GELU) over 64 Ki floats (L2-resident), fused
 * softmax + cross-entropy on [128, 10] and [128, 1000], the three reductions over 64 Ki floats, axpy, and one
 * Adam step over a 1 Mi-float slab (params, grads, m, v: 16 MiB, memory-bound).
 *
 * <pre>
 * java --add-modules jdk.incubator.vector ... -jar bench/jmh/target/descent-jmh.jar -f 1 -wi 2 -i 3 Ops
 * </pre>
 */
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class OpsBenchmark extends KernelBenchmark {
    private static final int N = 1 << 16;
    private static final int ADAM_N = 1 << 20;
    private static final int ROWS = 128;
    /** x and y also hold the [128, 1000] logits / probabilities. */
    private static final int XY = ROWS * 1000;

    @Param({"simd", "scalar"})
    public String backend;

    private KernelBackend k;
    private OffHeapBlock[] blocks;
    private MemorySegment x;      // [XY]: activation input (first N), logits
    private MemorySegment y;      // [XY]: dOut (first N)
    private MemorySegment out;    // [XY]: activation output, probabilities, dLogits
    private MemorySegment p;      // [ADAM_N] params
    private MemorySegment g;      // [ADAM_N] grads
    private MemorySegment m;      // [ADAM_N] first moment
    private MemorySegment v;      // [ADAM_N] second moment
    private MemorySegment losses; // [ROWS]
    private MemorySegment labels; // [ROWS] int32
    private long step;

    /** Activation under test. */
    @State(Scope.Thread)
    public static class Act {
        @Param({"RELU", "TANH", "GELU"})
        public Activation act;
    }

    /** Width of the logits for softmax-CE: [128, cols]. */
    @State(Scope.Thread)
    public static class Logits {
        @Param({"10", "1000"})
        public int cols;
    }

    @Setup
    public void setUp() {
        k = "simd".equals(backend) ? Kernels.simd() : Kernels.scalar();
        blocks = new OffHeapBlock[] {
            OffHeapBlock.allocateFloats(XY, Purpose.ACTIVATIONS),
            OffHeapBlock.allocateFloats(XY, Purpose.ACTIVATIONS),
            OffHeapBlock.allocateFloats(XY, Purpose.ACTIVATIONS),
            OffHeapBlock.allocateFloats(ADAM_N, Purpose.PARAMETERS),
            OffHeapBlock.allocateFloats(ADAM_N, Purpose.GRADIENTS),
            OffHeapBlock.allocateFloats(ADAM_N, Purpose.OPTIMIZER_STATE),
            OffHeapBlock.allocateFloats(ADAM_N, Purpose.OPTIMIZER_STATE),
            OffHeapBlock.allocateFloats(ROWS, Purpose.ACTIVATIONS),
            OffHeapBlock.allocate(ROWS * (long) Integer.BYTES, Purpose.BATCHES),
        };
        x = blocks[0].segment();
        y = blocks[1].segment();
        out = blocks[2].segment();
        p = blocks[3].segment();
        g = blocks[4].segment();
        m = blocks[5].segment();
        v = blocks[6].segment();
        losses = blocks[7].segment();
        labels = blocks[8].segment();
        SplittableRandom rnd = new SplittableRandom(7);
        fill(x, XY, rnd, -4, 4);
        fill(y, XY, rnd, -1, 1);
        fill(p, ADAM_N, rnd, -1, 1);
        fill(g, ADAM_N, rnd, -1, 1);
        fill(v, ADAM_N, rnd, 0, 1e-2);
        for (int r = 0; r < ROWS; r++) {
            labels.setAtIndex(ValueLayout.JAVA_INT, r, rnd.nextInt(10));
        }
        step = 1;
    }

    private static void fill(MemorySegment s, long n, SplittableRandom rnd, double lo, double hi) {
        for (long i = 0; i < n; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(lo, hi));
        }
    }

    @TearDown
    public void tearDown() {
        for (OffHeapBlock b : blocks) {
            b.close();
        }
    }

    // ---------------------------------------------------------------- activations

    @Benchmark
    public MemorySegment activationForward(Act s) {
        k.activationForward(s.act, out, 0, x, 0, N);
        return out;
    }

    @Benchmark
    public MemorySegment activationBackward(Act s) {
        k.activationBackward(s.act, out, 0, y, 0, x, 0, N, false);
        return out;
    }

    // ---------------------------------------------------------------- softmax + cross-entropy, [128, cols]

    @Benchmark
    public double softmaxCrossEntropyForward(Logits s) {
        return k.softmaxCrossEntropyForward(out, 0, losses, 0, x, 0, labels, 0, ROWS, s.cols);
    }

    @Benchmark
    public MemorySegment softmaxCrossEntropyBackward(Logits s) {
        k.softmaxCrossEntropyBackward(out, 0, x, 0, labels, 0, ROWS, s.cols, 1f / ROWS);
        return out;
    }

    // ---------------------------------------------------------------- reductions and BLAS-1

    @Benchmark
    public double sum() {
        return k.sum(x, 0, N);
    }

    @Benchmark
    public double dot() {
        return k.dot(x, 0, y, 0, N);
    }

    @Benchmark
    public double sumSquares() {
        return k.sumSquares(x, 0, N);
    }

    @Benchmark
    public MemorySegment axpy() {
        k.axpy(out, 0, 1e-6f, y, 0, N);
        return out;
    }

    // ---------------------------------------------------------------- optimizer

    @Benchmark
    public MemorySegment adamUpdate() {
        k.adamUpdate(p, 0, g, 0, m, 0, v, 0, 1e-6f, 0.9f, 0.999f, 1e-8f, 1e-4f, true, step++, ADAM_N);
        return p;
    }
}
