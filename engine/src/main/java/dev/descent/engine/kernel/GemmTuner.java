package dev.descent.engine.kernel;

import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * {@code descent tune}: measures the candidate GEMM shapes on this machine and (optionally) stores the winner in the
 * tuning file of this CPU model ({@link GemmTuningFile}), which later JVMs read at start-up ({@link GemmSelection}).
 *
 * <p>Two phases within the time budget. (1) Every tile that fits the machine ({@link GemmTile#candidates}) with
 * the blocking derived from the caches, on a big square product (1024³ NN) and on an MLP layer's three training
 * products, timed together: the default model's first layer at batch 128 (forward 128 x 256 x 784 NT, weight
 * gradient 256 x 784 x 128 TN, input gradient 128 x 784 x 256 NN); score = geometric mean of the two GFLOP/s. The
 * layer counts the weight gradient, whose depth is the batch: a tile that wins the square and the forward can lose
 * there (on a Zen 5, 6x4 against 8x2 in JVMs of their own: 3-5% faster on 1024³, ~30% slower on 256 x 784 x 128
 * TN).
 * Each tile is measured in {@value #ROUNDS} rounds over all of them and its best figures count.
 * (2) The best tile with other blockings (kc 256/512/1024 x mc half/default/double) on the big product; the
 * blocking is kept only if it beats the default by more than 2% (noise). Each figure is the best single product
 * after a warm-up (a fixed number of small products first, so the kernels are compiled before a big product runs),
 * timed in this thread's CPU time where the JVM supports it: on a shared, oversubscribed machine wall-clock time
 * counts the time other processes held the core, CPU time does not (cache interference remains, which the best
 * of many repetitions filters). One thread; the kernels are not timed anywhere else.
 */
public final class GemmTuner {
    private static final int BIG = 1024;
    private static final int[] MLP = {128, 256, 784};
    private static final int PRIMER = 64;
    private static final double PHASE1_SHARE = 0.65;
    /** Measurements of each tile in phase 1, in rounds over all tiles (the best one counts). */
    private static final int ROUNDS = 2;
    private static final double MIN_BLOCKING_GAIN = 1.02;

    private GemmTuner() {
    }

    /**
     * One measured candidate.
     *
     * @param bigGflops GFLOP/s of the best 1024³ NN product
     * @param mlpGflops GFLOP/s of the best MLP layer (its NT, TN and NN products at batch 128 together; NaN when
     *                  not measured: blocking phase)
     */
    public record Trial(GemmShape shape, double bigGflops, double mlpGflops) {
        /** Geometric mean of the two figures (the big one alone when the MLP one was not measured). */
        public double score() {
            return Double.isNaN(mlpGflops) ? bigGflops : Math.sqrt(bigGflops * mlpGflops);
        }
    }

    /**
     * The outcome.
     *
     * @param cpu        the detected CPU
     * @param vectorBits native vector width
     * @param registers  inferred vector registers
     * @param trials     every measurement, in order
     * @param best       the chosen shape (tile from phase 1, blocking from phase 2)
     * @param file       the tuning file written, or null when not saved
     * @param seconds    wall-clock duration
     */
    public record Result(CpuInfo cpu, int vectorBits, int registers, List<Trial> trials, Trial best, Path file,
                         double seconds) {
    }

    /**
     * Tunes within about {@code budgetSeconds} (at least 5) and, if {@code save}, writes the winner to the tuning file
     * for this CPU in {@code dir}. {@code progress} receives one line per measurement.
     *
     * @throws IllegalStateException without the Vector API (nothing to tune)
     */
    public static Result tune(double budgetSeconds, Path dir, boolean save, Consumer<String> progress) {
        long start = System.nanoTime();
        KernelBackend simd = Kernels.simd();
        CpuInfo cpu = CpuInfo.detected();
        int bits = simd.vectorBits();
        int registers = GemmTile.registers(cpu.arch(), bits);
        List<GemmTile> tiles = GemmTile.candidates(bits, registers);
        double budget = Math.max(5, budgetSeconds);
        List<Trial> trials = new ArrayList<>();
        // the layer's operands, sized for the largest of its three products (floats: A 256x784, B 784x784,
        // C 256x784)
        try (Operands big = new Operands(BIG, BIG, BIG); Operands mlp = new Operands(MLP[1], MLP[2], MLP[2])) {
            // Warm every tile up before measuring any: the driver dispatches on the tile, so C2 compiles it with a
            // profile of all tiles at once; a tile first seen after that compile hits a deoptimization (measured: a
            // tile tried last ran at 6 instead of 93 GFLOP/s).
            for (GemmTile tile : tiles) {
                warmUp(Kernels.simd(GemmShape.of(tile, cpu, "descent tune")), big);
            }
            double left = budget - (System.nanoTime() - start) / 1e9;
            // rounds over all tiles, the best figure of each kept: measured once each, in order, the first tile ran
            // 15-20% below its rate measured again after the others (docs/performance.md, session 9)
            long perRound = (long) (Math.max(1.0 / ROUNDS, left * PHASE1_SHARE / tiles.size() / ROUNDS) * 1e9);
            List<GemmShape> shapes = tiles.stream().map(tile -> GemmShape.of(tile, cpu, "descent tune")).toList();
            double[][] figures = new double[tiles.size()][2];
            for (int round = 1; round <= ROUNDS; round++) {
                for (int i = 0; i < shapes.size(); i++) {
                    KernelBackend be = Kernels.simd(shapes.get(i));
                    Trial t = new Trial(shapes.get(i), best(be, big, perRound * 2 / 3),
                            bestLayer(be, mlp, perRound / 3));
                    figures[i][0] = Math.max(figures[i][0], t.bigGflops());
                    figures[i][1] = Math.max(figures[i][1], t.mlpGflops());
                    progress.accept(line(t) + " (round " + round + "/" + ROUNDS + ")");
                }
            }
            for (int i = 0; i < shapes.size(); i++) {
                trials.add(new Trial(shapes.get(i), figures[i][0], figures[i][1]));
            }
            Trial bestTile = trials.stream().max(Comparator.comparingDouble(Trial::score)).orElseThrow();
            GemmShape base = bestTile.shape();
            List<GemmShape> blockings = blockings(base);
            double remaining = budget - (System.nanoTime() - start) / 1e9;
            long perBlocking = (long) (Math.max(0.3, remaining / Math.max(1, blockings.size())) * 1e9);
            Trial bestBlocking = new Trial(base, bestTile.bigGflops(), Double.NaN);
            KernelBackend baseBackend = Kernels.simd(base);
            for (GemmShape shape : blockings) {
                KernelBackend be = Kernels.simd(shape);
                Trial t = new Trial(shape, best(be, big, perBlocking), Double.NaN);
                trials.add(t);
                progress.accept(line(t));
                if (t.bigGflops() > bestBlocking.bigGflops() * MIN_BLOCKING_GAIN) {
                    bestBlocking = t;
                }
            }
            if (bestBlocking.shape() != base) {   // confirm against the default blocking measured again, now
                double again = best(baseBackend, big, perBlocking);
                Trial t = new Trial(base, again, Double.NaN);
                trials.add(t);
                progress.accept(line(t) + " (default blocking, again)");
                if (bestBlocking.bigGflops() <= again * MIN_BLOCKING_GAIN) {
                    bestBlocking = t;
                }
            }
            Trial chosen = new Trial(bestBlocking.shape().withSource("descent tune"), bestBlocking.bigGflops(),
                    bestTile.mlpGflops());
            Path file = null;
            if (save) {
                file = GemmTuningFile.path(dir, cpu);
                GemmTuningFile.write(file, cpu, chosen.shape(), chosen.bigGflops());
            }
            return new Result(cpu, bits, registers, List.copyOf(trials), chosen, file,
                    (System.nanoTime() - start) / 1e9);
        }
    }

    /** kc in {256, 512, 1024} x mc in {half, default, double}, without the base itself. */
    static List<GemmShape> blockings(GemmShape base) {
        List<GemmShape> out = new ArrayList<>();
        int r = base.tile().rows();
        for (int kc : new int[] {256, 512, 1024}) {
            int mcDefault = (int) Math.max(r, (long) base.mc() * base.kc() / kc / r * r);
            for (int mc : new int[] {Math.max(r, mcDefault / 2 / r * r), mcDefault, Math.min(4096, mcDefault * 2)}) {
                if (kc == base.kc() && mc == base.mc()) {
                    continue;
                }
                GemmShape s = new GemmShape(base.tile(), kc, mc, base.nc(), "descent tune");
                if (out.stream().noneMatch(o -> o.kc() == s.kc() && o.mc() == s.mc())) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private static String line(Trial t) {
        return String.format(java.util.Locale.ROOT, "%-30s big %6.1f GFLOP/s  mlp %s", t.shape().describe(),
                t.bigGflops(), Double.isNaN(t.mlpGflops()) ? "   -  " : String.format(java.util.Locale.ROOT,
                        "%6.1f GFLOP/s", t.mlpGflops()));
    }

    /** Small products until the kernels of this shape are compiled (a count, not a time: load must not shorten it). */
    private static void warmUp(KernelBackend be, Operands big) {
        long end = System.nanoTime() + 10_000_000_000L;
        for (int i = 0; i < 1500 && System.nanoTime() < end; i++) {
            be.gemmNN(big.c, 0, big.a, 0, big.b, 0, PRIMER, PRIMER, PRIMER, false, 1);
            be.gemmNT(big.c, 0, big.a, 0, big.b, 0, PRIMER - 3, PRIMER + 5, PRIMER, false, 1);
            be.gemmTN(big.c, 0, big.a, 0, big.b, 0, PRIMER + 5, PRIMER - 3, PRIMER, false, 1);
        }
    }

    /**
     * GFLOP/s of the fastest NN product (in thread CPU time where supported, else wall-clock) over about
     * {@code nanos} of wall-clock time, at least 3 products.
     */
    private static double best(KernelBackend be, Operands o, long nanos) {
        return bestOf(nanos, 2.0 * o.m * o.n * o.k, () -> be.gemmNN(o.c, 0, o.a, 0, o.b, 0, o.m, o.n, o.k, false, 1));
    }

    /**
     * GFLOP/s of the fastest MLP layer in training (batch {@code MLP[0]}, {@code MLP[1]} outputs, {@code MLP[2]}
     * inputs): forward Y = X·Wᵀ (NT), weight gradient dW = dYᵀ·X (TN, depth = batch), input gradient dX = dY·W (NN).
     */
    private static double bestLayer(KernelBackend be, Operands o, long nanos) {
        int batch = MLP[0];
        int out = MLP[1];
        int in = MLP[2];
        return bestOf(nanos, 3 * 2.0 * batch * out * in, () -> {
            be.gemmNT(o.c, 0, o.a, 0, o.b, 0, batch, out, in, false, 1);
            be.gemmTN(o.c, 0, o.a, 0, o.b, 0, out, in, batch, false, 1);
            be.gemmNN(o.c, 0, o.a, 0, o.b, 0, batch, in, out, false, 1);
        });
    }

    /** GFLOP/s of the fastest of at least 3 runs of {@code work} ({@code flops} each) over about {@code nanos}. */
    private static double bestOf(long nanos, double flops, Runnable work) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        boolean cpu = mx.isCurrentThreadCpuTimeSupported();
        long start = System.nanoTime();
        long bestNanos = Long.MAX_VALUE;
        int reps = 0;
        while (reps < 3 || System.nanoTime() - start < nanos) {
            long t0 = cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime();
            work.run();
            long t = (cpu ? mx.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
            bestNanos = Math.min(bestNanos, Math.max(1, t));
            reps++;
        }
        return flops / bestNanos;
    }

    /** Random operands of one product, off-heap, closed after the run. */
    private static final class Operands implements AutoCloseable {
        final int m;
        final int n;
        final int k;
        final OffHeapBlock ab;
        final OffHeapBlock bb;
        final OffHeapBlock cb;
        final MemorySegment a;
        final MemorySegment b;
        final MemorySegment c;

        Operands(int m, int n, int k) {
            this.m = m;
            this.n = n;
            this.k = k;
            ab = OffHeapBlock.allocateFloats((long) m * k, Purpose.WORKSPACE);
            bb = OffHeapBlock.allocateFloats((long) k * n, Purpose.WORKSPACE);
            cb = OffHeapBlock.allocateFloats((long) m * n, Purpose.WORKSPACE);
            a = ab.segment();
            b = bb.segment();
            c = cb.segment();
            SplittableRandom rnd = new SplittableRandom(7);
            for (long i = 0; i < (long) m * k; i++) {
                a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
            }
            for (long i = 0; i < (long) k * n; i++) {
                b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
            }
        }

        @Override
        public void close() {
            cb.close();
            bb.close();
            ab.close();
        }
    }
}
