package dev.descent.engine.landscape;

import dev.descent.engine.data.Dataset;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.Model;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import java.util.function.Supplier;

/**
 * Both ends of the Hessian spectrum at points of the landscape, for Li et al. 2018's convexity map (their Fig. 7):
 * λ_min and λ_max of the Hessian of the full-batch loss on a fixed dataset, from {@code k} steps of the Lanczos
 * iteration with full reorthogonalization on Hessian-vector products (those of {@link Sharpness}), then the
 * eigenvalues of the k × k tridiagonal matrix. Lanczos finds the extreme eigenvalues first, both ends at
 * once, so a few steps give λ_max well and the most negative eigenvalue to the precision that tells
 * "no negative curvature" from "negative curvature comparable to the positive one".
 *
 * <p>{@link #map} evaluates the points of a plane {@code w + a·d1 + b·d2} on {@code threads} threads, each with its
 * own copy of the model.
 */
public final class HessianExtremes {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /**
     * @param lanczosSteps Lanczos steps k (each one Hessian-vector product, i.e. two gradients over the data)
     * @param fdStep       finite-difference step of the Hessian-vector product
     * @param seed         seed of the start vector
     */
    public record Settings(int lanczosSteps, double fdStep, long seed) {
        public Settings {
            if (lanczosSteps < 2 || !(fdStep > 0)) {
                throw new IllegalArgumentException("hessian extremes: need lanczosSteps >= 2 and fdStep > 0, was "
                        + lanczosSteps + " and " + fdStep);
            }
        }
    }

    /**
     * @param loss      L(w) on the data
     * @param lambdaMin smallest Ritz value (most negative curvature found)
     * @param lambdaMax largest Ritz value
     * @param steps     Lanczos steps run (fewer than asked when the Krylov space was exhausted)
     */
    public record Extremes(double loss, double lambdaMin, double lambdaMax, int steps) {
        /**
         * Li et al.'s non-convexity ratio |λ_min / λ_max| where λ_min < 0, and 0 where the Hessian found no negative
         * curvature (a locally convex point); NaN when λ_max is not positive.
         */
        public double negativeRatio() {
            if (!(lambdaMax > 0)) {
                return Double.NaN;
            }
            return lambdaMin < 0 ? -lambdaMin / lambdaMax : 0;
        }
    }

    private HessianExtremes() {
    }

    /**
     * λ_min, λ_max of the loss's Hessian at {@code w} (parameter layout) of a model built by {@code architecture},
     * BatchNorm statistics copied from {@code source}.
     */
    public static Extremes at(Supplier<Model> architecture, Model source, MemorySegment w, Dataset data,
                              LossKind lossKind, int batch, BnMode bn, KernelBackend kernels, Settings s) {
        try (Model m = architecture.get()) {
            ModelState.copyBatchNormStatistics(source, m);
            try (LossProbe probe = new LossProbe(m, kernels, lossKind, batch, bn, true);
                 Workspace ws = new Workspace(m.params().floatCount(), s.lanczosSteps())) {
                return lanczos(probe, m, w, data, kernels, s, ws);
            }
        }
    }

    /**
     * The extremes at every point {@code centre + as[i]·d1 + bs[j]·d2}, row-major ({@code [j][i]}), on
     * {@code threads} threads; {@code progress} is called with the number of finished points (from any thread).
     */
    public static Extremes[][] map(Supplier<Model> architecture, Model source, MemorySegment centre, MemorySegment d1,
                                   MemorySegment d2, double[] as, double[] bs, Dataset data, LossKind lossKind,
                                   int batch, BnMode bn, KernelBackend kernels, Settings s, int threads,
                                   IntConsumer progress) {
        if (threads < 1) {
            throw new IllegalArgumentException("hessian map: threads must be >= 1, was " + threads);
        }
        int nx = as.length;
        int total = nx * bs.length;
        Extremes[][] out = new Extremes[bs.length][nx];
        AtomicInteger next = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "hessian-map");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?>[] fs = new Future<?>[threads];
            for (int t = 0; t < threads; t++) {
                fs[t] = pool.submit(() -> {
                    try (Model m = architecture.get()) {
                        ModelState.copyBatchNormStatistics(source, m);
                        long n = m.params().floatCount();
                        try (LossProbe probe = new LossProbe(m, kernels, lossKind, batch, bn, true);
                             Workspace ws = new Workspace(n, s.lanczosSteps());
                             OffHeapBlock w = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE)) {
                            for (int k = next.getAndIncrement(); k < total; k = next.getAndIncrement()) {
                                if (Thread.currentThread().isInterrupted()) {
                                    return null;
                                }
                                int i = k % nx;
                                int j = k / nx;
                                MemorySegment ww = w.segment();
                                MemorySegment.copy(centre, 0, ww, 0, n * Float.BYTES);
                                kernels.axpy(ww, 0, (float) as[i], d1, 0, n);
                                kernels.axpy(ww, 0, (float) bs[j], d2, 0, n);
                                out[j][i] = lanczos(probe, m, ww, data, kernels, s, ws);
                                progress.accept(done.incrementAndGet());
                            }
                        }
                    }
                    return null;
                });
            }
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("hessian map interrupted", e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("hessian map failed: " + c, c);
        } finally {
            pool.shutdownNow();
        }
        return out;
    }

    /** Scratch of one thread: the Lanczos basis [k+1][n] and two gradient buffers. */
    private static final class Workspace implements AutoCloseable {
        final OffHeapBlock[] basis;
        final OffHeapBlock hv;
        final OffHeapBlock tmp;

        Workspace(long n, int k) {
            basis = new OffHeapBlock[k + 1];
            OffHeapBlock a = null;
            OffHeapBlock b = null;
            try {
                for (int i = 0; i <= k; i++) {
                    basis[i] = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                }
                a = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
                b = OffHeapBlock.allocateFloats(n, Purpose.WORKSPACE);
            } catch (RuntimeException | Error e) {
                for (OffHeapBlock x : basis) {
                    if (x != null) {
                        x.close();
                    }
                }
                if (a != null) {
                    a.close();
                }
                throw e;
            }
            hv = a;
            tmp = b;
        }

        @Override
        public void close() {
            for (OffHeapBlock x : basis) {
                x.close();
            }
            hv.close();
            tmp.close();
        }
    }

    private static Extremes lanczos(LossProbe probe, Model m, MemorySegment w, Dataset data, KernelBackend k,
                                    Settings s, Workspace ws) {
        long n = m.params().floatCount();
        MemorySegment p = m.params().segment();
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        double loss = probe.evaluate(data);
        int steps = s.lanczosSteps();
        double[] alpha = new double[steps];
        double[] beta = new double[steps];
        MemorySegment v0 = ws.basis[0].segment();
        Directions.gaussian(v0, m.layout(), s.seed(), 0);
        scale(v0, 1 / Math.sqrt(Directions.sumSquares(v0, 0, n)), n);
        int done = 0;
        for (int j = 0; j < steps; j++) {
            MemorySegment vj = ws.basis[j].segment();
            MemorySegment r = ws.hv.segment();
            Sharpness.hessianVector(probe, data, w, p, vj, s.fdStep(), r, ws.tmp.segment(), n, k);
            alpha[j] = Directions.dot(vj, r, n);
            done = j + 1;
            if (!Double.isFinite(alpha[j])) {
                return new Extremes(loss, Double.NaN, Double.NaN, done);
            }
            // full reorthogonalization (twice is enough): r -= Σ (r·v_i) v_i
            for (int pass = 0; pass < 2; pass++) {
                for (int i = 0; i <= j; i++) {
                    MemorySegment vi = ws.basis[i].segment();
                    k.axpy(r, 0, (float) -Directions.dot(r, vi, n), vi, 0, n);
                }
            }
            double b = Math.sqrt(Directions.sumSquares(r, 0, n));
            beta[j] = b;
            if (j + 1 == steps || b < 1e-10 * Math.max(1, Math.abs(alpha[j]))) {
                break;
            }
            MemorySegment vn = ws.basis[j + 1].segment();
            MemorySegment.copy(r, 0, vn, 0, n * Float.BYTES);
            scale(vn, 1 / b, n);
        }
        MemorySegment.copy(w, 0, p, 0, n * Float.BYTES);
        double[] ev = tridiagonalEigenvalues(alpha, beta, done);
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (double e : ev) {
            lo = Math.min(lo, e);
            hi = Math.max(hi, e);
        }
        return new Extremes(loss, lo, hi, done);
    }

    /**
     * Eigenvalues of the symmetric tridiagonal matrix with diagonal {@code alpha[0..n)} and off-diagonal
     * {@code beta[0..n-1)} (n is a few dozen at most: EJML's dense symmetric decomposition, as for the trajectory's PCA).
     */
    static double[] tridiagonalEigenvalues(double[] alpha, double[] beta, int n) {
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            a[i][i] = alpha[i];
            if (i + 1 < n) {
                a[i][i + 1] = beta[i];
                a[i + 1][i] = beta[i];
            }
        }
        return TrajectoryPca.eigen(a, new double[n][n]);
    }

    private static void scale(MemorySegment x, double s, long n) {
        for (long i = 0; i < n; i++) {
            x.setAtIndex(F, i, (float) (x.getAtIndex(F, i) * s));
        }
    }
}
