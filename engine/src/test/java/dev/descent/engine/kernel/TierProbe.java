package dev.descent.engine.kernel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Run in child JVMs by {@link TierDeterminismTest}: every kernel family of the simd backend and of
 * {@link Kernels#layers()} on fixed inputs (sizes with vector tails), printing one line per kernel:
 * {@code name sha256-of-the-output-bits bytes-allocated-by-the-last-call}. Before each call the inputs and
 * outputs are restored from a pristine copy, so every call computes the same thing.
 *
 * <p>Argument: the maximum number of warm-up rounds (100 calls each). 0 runs each kernel once (under
 * {@code -XX:TieredStopAtLevel=1} that is the Vector API's Java fallback); otherwise rounds are repeated until
 * the measured call allocates nothing, which only C2-compiled, intrinsified vector code achieves (the fallback
 * allocates per operation).
 */
public final class TierProbe {
    private static final int N = 203;              // 12 vectors of 16 + a tail (any vector width up to 64 has one)
    private static final int BUF = 4096;

    private TierProbe() {
    }

    public static void main(String[] args) throws Exception {
        int maxRounds = Integer.parseInt(args[0]);
        KernelBackend k = Kernels.simd();
        LayerKernels lk = Kernels.layers();
        Arena arena = Arena.ofShared();
        SplittableRandom rnd = new SplittableRandom(11);
        MemorySegment[] buf = new MemorySegment[8];
        MemorySegment[] pristine = new MemorySegment[buf.length];
        for (int b = 0; b < buf.length; b++) {
            buf[b] = arena.allocate((long) BUF * Float.BYTES, 64);
            pristine[b] = arena.allocate((long) BUF * Float.BYTES, 64);
            for (int i = 0; i < BUF; i++) {
                // buffer 7 holds non-negative values (variances, Adam's v); the others are N(0, 3^2)
                float v = b == 7 ? (float) rnd.nextDouble(0, 1e-2) : (float) (rnd.nextGaussian() * 3);
                pristine[b].setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            }
        }
        MemorySegment x = buf[0];
        MemorySegment y = buf[1];
        MemorySegment z = buf[2];
        MemorySegment o = buf[3];
        MemorySegment p = buf[4];
        MemorySegment q = buf[5];
        MemorySegment w = buf[6];
        MemorySegment v = buf[7];
        MemorySegment labels = arena.allocate(64L * Integer.BYTES, 64);
        MemorySegment ids = arena.allocate(64L * Float.BYTES, 64);
        for (int i = 0; i < 64; i++) {
            labels.setAtIndex(ValueLayout.JAVA_INT, i, (i * 7) % 10);
            ids.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i * 5) % 13);
        }

        Map<String, Runnable> ks = new LinkedHashMap<>();
        ks.put("gemmNN", () -> k.gemmNN(o, 0, x, 0, y, 0, 19, 37, 23, false, 1));
        ks.put("gemmNT", () -> k.gemmNT(o, 0, x, 0, y, 0, 19, 37, 23, true, 1));
        ks.put("gemmTN", () -> k.gemmTN(o, 0, x, 0, y, 0, 19, 37, 23, false, 1));
        ks.put("biasAdd", () -> k.biasAdd(o, 0, x, 0, 7, 37));
        ks.put("biasGrad", () -> k.biasGrad(o, 0, x, 0, 7, 37, true));
        for (Activation act : Activation.values()) {
            ks.put(act + " forward", () -> k.activationForward(act, o, 0, x, 0, N));
            ks.put(act + " backward", () -> k.activationBackward(act, o, 0, y, 0, x, 0, N, false));
            ks.put(act + " backward acc", () -> k.activationBackward(act, o, 0, y, 0, x, 0, N, true));
        }
        ks.put("axpy", () -> k.axpy(o, 0, 0.3f, x, 0, N));
        ks.put("scale", () -> k.scale(o, 0, 0.7f, N));
        ks.put("mul", () -> k.mul(o, 0, x, 0, y, 0, N));
        ks.put("add", () -> k.add(o, 0, x, 0, y, 0, N));
        ks.put("sum", () -> o.setAtIndex(ValueLayout.JAVA_DOUBLE, 0, k.sum(x, 0, N)));
        ks.put("dot", () -> o.setAtIndex(ValueLayout.JAVA_DOUBLE, 0, k.dot(x, 0, y, 0, N)));
        ks.put("sumSquares", () -> o.setAtIndex(ValueLayout.JAVA_DOUBLE, 0, k.sumSquares(x, 0, N)));
        ks.put("softmaxCE forward 10", () -> o.setAtIndex(ValueLayout.JAVA_DOUBLE, 0,
                k.softmaxCrossEntropyForward(p, 0, q, 0, x, 0, labels, 0, 13, 10)));
        ks.put("softmaxCE forward 100", () -> o.setAtIndex(ValueLayout.JAVA_DOUBLE, 0,
                k.softmaxCrossEntropyForward(p, 0, q, 0, x, 0, labels, 0, 7, 100)));
        ks.put("softmaxCE backward", () -> k.softmaxCrossEntropyBackward(o, 0, p, 0, labels, 0, 7, 100, 0.1f));
        ks.put("sgd", () -> k.sgdUpdate(p, 0, x, 0, 0.01f, 1e-3f, N));
        ks.put("momentum", () -> k.momentumUpdate(p, 0, x, 0, q, 0, 0.01f, 0.9f, 1e-3f, true, N));
        ks.put("adam", () -> k.adamUpdate(p, 0, x, 0, q, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, false, 3, N));
        ks.put("adamW", () -> k.adamUpdate(p, 0, x, 0, q, 0, v, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-2f, true, 3, N));
        // layer kernels: conv 2x9x9 (3x3, pad 1), pooling, batch norm [3, 5, 37], layer norm [6, 100],
        // attention b=2 t=9 c=32 nh=2, embedding
        ks.put("im2col", () -> lk.im2col(o, 0, 81, x, 0, 2, 9, 9, 3, 3, 1, 1, 9, 9));
        ks.put("col2im", () -> lk.col2im(o, 0, x, 0, 81, 2, 9, 9, 3, 3, 1, 1, 9, 9));
        ks.put("swapLeadingAxes", () -> lk.swapLeadingAxes(o, 0, x, 0, 3, 5, 37));
        ks.put("channelBiasAdd", () -> lk.channelBiasAdd(o, 0, x, 0, 5, 37));
        ks.put("channelSum", () -> lk.channelSum(o, 0, x, 0, 5, 37, true));
        ks.put("maxPool", () -> {
            lk.maxPoolForward(o, 0, x, 0, 3, 9, 9, 2, 2, 0, 4, 4);
            lk.maxPoolBackward(p, 0, y, 0, x, 0, 3, 9, 9, 2, 2, 0, 4, 4);
        });
        ks.put("avgPool", () -> {
            lk.avgPoolForward(o, 0, x, 0, 3, 9, 9, 3, 1, 1, 9, 9);
            lk.avgPoolBackward(p, 0, y, 0, 3, 9, 9, 3, 1, 1, 9, 9);
        });
        ks.put("planeMean", () -> {
            lk.planeMeanForward(o, 0, x, 0, 5, 37);
            lk.planeMeanBackward(p, 0, y, 0, 5, 37);
        });
        ks.put("batchNormStats", () -> lk.batchNormStats(o, 0, p, 0, x, 0, 3, 5, 37));
        ks.put("batchNormForward", () -> lk.batchNormForward(o, 0, x, 0, y, 0, v, 0, z, 0, w, 0, 3, 5, 37));
        ks.put("batchNormBackward", () -> lk.batchNormBackward(o, 0, p, 0, q, 0, y, 0, x, 0, z, 0, v, 0, w, 0,
                3, 5, 37, true));
        ks.put("layerNormForward", () -> lk.layerNormForward(o, 0, p, 0, q, 0, x, 0, z, 0, w, 0, 6, 100, 1e-5f));
        ks.put("layerNormBackward", () -> lk.layerNormBackward(o, 0, p, 0, q, 0, y, 0, x, 0, z, 0, v, 0, w, 0,
                6, 100));
        ks.put("attention", () -> {
            lk.attentionForward(o, 0, p, 0, x, 0, 2, 9, 32, 2);
            lk.attentionBackward(q, 0, w, 0, y, 0, x, 0, p, 0, 2, 9, 32, 2);
        });
        ks.put("embedding", () -> {
            lk.embeddingForward(o, 0, ids, 0, x, 0, y, 0, 2, 9, 32, 13);
            lk.embeddingBackward(p, 0, q, 0, y, 0, ids, 0, 2, 9, 32, 13);
        });

        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Runnable> e : ks.entrySet()) {
            Runnable kernel = e.getValue();
            long allocated = 0;
            for (int round = 0; round <= maxRounds; round++) {
                for (int i = 0; round > 0 && i < 100; i++) {
                    reset(buf, pristine);
                    kernel.run();
                }
                reset(buf, pristine);
                long before = threads.getThreadAllocatedBytes(tid);
                kernel.run();
                allocated = threads.getThreadAllocatedBytes(tid) - before;
                if (maxRounds == 0 || allocated == 0) {
                    break;
                }
            }
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (MemorySegment s : buf) {
                sha.update(s.asByteBuffer());
            }
            out.append(e.getKey().replace(' ', '_')).append(' ').append(HexFormat.of().formatHex(sha.digest()))
                    .append(' ').append(allocated).append('\n');
        }
        System.out.print(out);
    }

    private static void reset(MemorySegment[] buf, MemorySegment[] pristine) {
        for (int b = 0; b < buf.length; b++) {
            buf[b].copyFrom(pristine[b]);
        }
    }
}
