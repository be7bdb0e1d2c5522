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
 * the blocking derived from the caches, on a big square product (1024³ NN) and on the default MLP's training step
 * (784-256-128-10 at batch 128: per layer the forward NT, the weight gradient TN and, past the first layer, the input
 * gradient NN, timed together); score = geometric mean of the two GFLOP/s. The step counts the weight gradient, whose
 * depth is the batch, and the narrow layers, where a wide tile computes padding: a tile that wins the square can
 * lose there (on a Zen 5, 6x4 against 8x2: 9% faster on 1024³, 8% slower on the step, 7-10% slower training the
 * default MLP; measured on the first layer alone, the tuner saw them within 1.3% and chose 6x4). The built-in tile
 * stays unless another scores more than 3% above it.
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
    /** The default MLP's training step: its batch and layer widths. */
    private static final int BATCH = 128;
    private static final int[] WIDTHS = {784, 256, 128, 10};
    private static final int PRIMER = 64;
    private static final double PHASE1_SHARE = 0.65;
    /** Measurements of each tile in phase 1, in rounds over all tiles (the best one counts). */
    private static final int ROUNDS = 2;
    /** A tile replaces the built-in one only when its score is higher by more than this factor. */
    private static final double MIN_TILE_GAIN = 1.03;
    private static final double MIN_BLOCKING_GAIN = 1.02;

    private GemmTuner() {
    }

    /**
     * One measured candidate.
     *
     * @param bigGflops GFLOP/s of the best 1024³ NN product
     * @param mlpGflops GFLOP/s of the best default-MLP training step (its products at batch 128 together; NaN when
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
        // the step's operands, sized for its largest products, the first layer's (floats: A 256x784, B 784x784,
        // C 256x784)
        try (Operands big = new Operands(BIG, BIG, BIG);
             Operands mlp = new Operands(WIDTHS[1], WIDTHS[0], WIDTHS[0])) {
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
                            bestStep(be, mlp, perRound / 3));
                    figures[i][0] = Math.max(figures[i][0], t.bigGflops());
                    figures[i][1] = Math.max(figures[i][1], t.mlpGflops());
                    progress.accept(line(t) + " (round " + round + "/" + ROUNDS + ")");
                }
            }
            for (int i = 0; i < shapes.size(); i++) {
                trials.add(new Trial(shapes.get(i), figures[i][0], figures[i][1]));
            }
            Trial bestTile = pickTile(trials, GemmTile.builtIn(bits, registers, cpu.intel()));
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
     * The trial with the highest score, unless the built-in tile scores within {@link #MIN_TILE_GAIN} of it: the
     * built-in tile was chosen on whole training runs, and another replaces it only by a margin above the noise of
     * these best-of figures (on a Zen 5, 12x2u2 scored 2% above 8x2 in one tune run and trained 1-3% slower).
     */
    static Trial pickTile(List<Trial> trials, GemmTile builtIn) {
        Trial best = trials.stream().max(Comparator.comparingDouble(Trial::score)).orElseThrow();
        for (Trial t : trials) {
            if (t.shape().tile().equals(builtIn) && best.score() <= t.score() * MIN_TILE_GAIN) {
                return t;
            }
        }
        return best;
    }

    /**
     * GFLOP/s of the fastest training step of the default MLP's products (batch {@code BATCH}, layers {@code WIDTHS}):
     * per layer the forward Y = X·Wᵀ (NT), the weight gradient dW = dYᵀ·X (TN, depth = batch) and, past the first
     * layer, the input gradient dX = dY·W (NN). The narrow layers count: a wide tile that wins the first layer pays
     * for its padding on the 128- and 10-wide ones.
     */
    private static double bestStep(KernelBackend be, Operands o, long nanos) {
        double flops = 0;
        for (int l = 0; l + 1 < WIDTHS.length; l++) {
            flops += (l == 0 ? 2 : 3) * 2.0 * BATCH * WIDTHS[l] * WIDTHS[l + 1];
        }
        return bestOf(nanos, flops, () -> {
            for (int l = 0; l + 1 < WIDTHS.length; l++) {
                int in = WIDTHS[l];
                int out = WIDTHS[l + 1];
                be.gemmNT(o.c, 0, o.a, 0, o.b, 0, BATCH, out, in, false, 1);
                be.gemmTN(o.c, 0, o.a, 0, o.b, 0, out, in, BATCH, false, 1);
                if (l > 0) {
                    be.gemmNN(o.c, 0, o.a, 0, o.b, 0, BATCH, in, out, false, 1);
                }
            }
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
