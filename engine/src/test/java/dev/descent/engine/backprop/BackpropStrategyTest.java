package dev.descent.engine.backprop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.descent.engine.init.Init;
import dev.descent.engine.kernel.Activation;
import dev.descent.engine.kernel.KernelBackend;
import dev.descent.engine.kernel.Kernels;
import dev.descent.engine.loss.Loss;
import dev.descent.engine.loss.LossKind;
import dev.descent.engine.memory.OffHeapBlock;
import dev.descent.engine.memory.Purpose;
import dev.descent.engine.nn.ActivationLayer;
import dev.descent.engine.nn.Dropout;
import dev.descent.engine.nn.ExecutionContext;
import dev.descent.engine.nn.Linear;
import dev.descent.engine.nn.Model;
import dev.descent.engine.nn.Module;
import dev.descent.engine.nn.Sequential;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackpropStrategyTest {
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** A module with a workspace (it saves 2·x for its backward) that counts its non-recompute forwards. */
    static class SavingSquare implements Module {
        int size;
        int firstForwards;

        @Override
        public int[] configure(int layerIndex, int[] inputShape) {
            size = Module.size(inputShape);
            return inputShape.clone();
        }

        @Override
        public String spec() {
            return "saving-square";
        }

        @Override
        public String kind() {
            return "square";
        }

        @Override
        public long workspaceFloats(int batch) {
            return (long) batch * size;
        }

        @Override
        public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                            MemorySegment in, long inOff, int batch) {
            if (!ctx.isRecompute()) {
                firstForwards++;
            }
            for (long j = 0; j < (long) batch * size; j++) {
                float x = in.getAtIndex(F, inOff + j);
                out.setAtIndex(F, outOff + j, x * x * 0.5f);
                ws.setAtIndex(F, wsOff + j, x);
            }
        }

        @Override
        public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                             MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                             boolean needInputGrad) {
            for (long j = 0; j < (long) batch * size; j++) {
                dIn.setAtIndex(F, dInOff + j, dOut.getAtIndex(F, dOutOff + j) * ws.getAtIndex(F, wsOff + j));
            }
            // destroy the workspace: a strategy that reuses it without a fresh forward breaks the next check
            for (long j = 0; j < (long) batch * size; j++) {
                ws.setAtIndex(F, wsOff + j, Float.NaN);
            }
        }
    }

    private static Model deepNet(List<SavingSquare> squares) {
        Sequential s = Sequential.input(12);
        for (int b = 0; b < 4; b++) {
            s.add(new Linear(16)).add(new ActivationLayer(b % 2 == 0 ? Activation.TANH : Activation.RELU))
                    .add(new Dropout(0.25));
            if (b == 1 || b == 2) {
                SavingSquare sq = new SavingSquare();
                squares.add(sq);
                s.add(sq);
            }
        }
        s.add(new Linear(5));
        return s.build().initialize(Init.XAVIER_NORMAL, Init.normal(0.1), 5);
    }

    /** Runs steps 0..2 under a strategy; returns the gradient slab of the last step and checks the ledger. */
    private static float[] gradients(KernelBackend k, BackpropStrategy strategy, List<Long> evals) {
        List<SavingSquare> squares = new ArrayList<>();
        int batch = 6;
        try (Model m = deepNet(squares);
             BackpropExecutor ex = new BackpropExecutor(m, strategy, batch);
             Loss loss = LossKind.CROSS_ENTROPY.create(batch, 5);
             OffHeapBlock x = OffHeapBlock.allocateFloats(batch * 12L, Purpose.BATCHES);
             OffHeapBlock y = OffHeapBlock.allocate(batch * 4L, Purpose.BATCHES)) {
            assertThat(m.layerCount()).isGreaterThanOrEqualTo(10);
            SplittableRandom r = new SplittableRandom(3);
            for (int i = 0; i < batch * 12; i++) {
                x.setFloat(i, (float) r.nextGaussian());
            }
            for (int i = 0; i < batch; i++) {
                y.segment().setAtIndex(ValueLayout.JAVA_INT, i, r.nextInt(5));
            }
            ExecutionContext ctx = new ExecutionContext(k).seed(9).training(true);
            for (int step = 0; step < 3; step++) {
                ctx.step(step);
                ex.forward(ctx, x.segment(), 0, batch);
                loss.forward(k, ex.segment(), ex.outputOffset(), y.segment(), 0, batch);
                loss.backward(k, ex.outputGradient(), ex.outputGradientOffset(), y.segment(), 0, batch);
                ex.backward(ctx);
                assertThat(ex.ledger().currentBytes()).as("everything released after backward").isZero();
                evals.add(ex.ledger().forwardEvaluations());
            }
            for (SavingSquare sq : squares) {
                assertThat(sq.firstForwards).as("one non-recompute forward per step").isEqualTo(3);
            }
            return m.grads().toArray();
        }
    }

    @Test
    void shouldGiveBitwiseIdenticalGradientsUnderEveryStrategy() {
        KernelBackend k = Kernels.scalar();
        List<Long> vEvals = new ArrayList<>();
        float[] vanilla = gradients(k, BackpropStrategy.VANILLA, vEvals);
        assertThat(vanilla).isNotEqualTo(new float[vanilla.length]);
        for (BackpropStrategy s : List.of(BackpropStrategy.RECOMPUTE, BackpropStrategy.checkpointed(),
                BackpropStrategy.checkpointed(2), BackpropStrategy.checkpointed(5), BackpropStrategy.checkpointed(100))) {
            List<Long> evals = new ArrayList<>();
            float[] g = gradients(k, s, evals);
            for (int i = 0; i < g.length; i++) {
                assertThat(Float.floatToRawIntBits(g[i])).as("%s gradient %d", s, i)
                        .isEqualTo(Float.floatToRawIntBits(vanilla[i]));
            }
            if (!(s instanceof BackpropStrategy.Checkpointed c && c.every() >= 100)) {
                assertThat(evals.get(0)).as("%s recomputes", s).isGreaterThan(vEvals.get(0));
            }
        }
    }

    /** A parameter-free identity (SavingSquare's shape plumbing, no workspace) that records needInputGrad. */
    static final class FlagRecorder extends SavingSquare {
        Boolean lastNeedInputGrad;

        @Override
        public long workspaceFloats(int batch) {
            return 0;
        }

        @Override
        public void forward(ExecutionContext ctx, MemorySegment out, long outOff, MemorySegment ws, long wsOff,
                            MemorySegment in, long inOff, int batch) {
            MemorySegment.copy(in, F, inOff * Float.BYTES, out, F, outOff * Float.BYTES, (long) batch * size);
        }

        @Override
        public void backward(ExecutionContext ctx, MemorySegment dIn, long dInOff, MemorySegment ws, long wsOff,
                             MemorySegment dOut, long dOutOff, MemorySegment in, long inOff, int batch,
                             boolean needInputGrad) {
            lastNeedInputGrad = needInputGrad;
            if (needInputGrad) {
                MemorySegment.copy(dOut, F, dOutOff * Float.BYTES, dIn, F, dInOff * Float.BYTES, (long) batch * size);
            }
        }
    }

    /**
     * Nothing upstream of the first layer with parameters needs a gradient: asking for one there (a Flatten before
     * the first Linear, as in every Fashion-MNIST model) used to cost a full extra GEMM per step, a quarter of the
     * default MLP's step time.
     */
    @Test
    void shouldAskForInputGradientsOnlyDownstreamOfTheFirstParameters() {
        FlagRecorder front = new FlagRecorder();
        FlagRecorder second = new FlagRecorder();
        FlagRecorder behind = new FlagRecorder();
        int batch = 3;
        KernelBackend k = Kernels.scalar();
        try (Model m = Sequential.input(4).add(front).add(second).add(new Linear(5)).add(behind).add(new Linear(2))
                     .build().initialize(Init.XAVIER_NORMAL, Init.ZEROS, 1);
             BackpropExecutor ex = new BackpropExecutor(m, BackpropStrategy.VANILLA, batch);
             OffHeapBlock x = OffHeapBlock.allocateFloats(batch * 4L, Purpose.BATCHES)) {
            ExecutionContext ctx = new ExecutionContext(k);
            ex.forward(ctx, x.segment(), 0, batch);
            ex.backward(ctx);
        }
        assertThat(front.lastNeedInputGrad).as("module 0").isFalse();
        assertThat(second.lastNeedInputGrad).as("module 1, before the first Linear").isFalse();
        assertThat(behind.lastNeedInputGrad).as("module 3, between the Linears").isTrue();
    }

    /** A chain of n equal-width Linear layers, so every node has the same byte size u. */
    private static ActivationLedger run(int n, int width, int batch, BackpropStrategy s) {
        Sequential seq = Sequential.input(width);
        for (int i = 0; i < n; i++) {
            seq.add(new Linear(width));
        }
        KernelBackend k = Kernels.scalar();
        try (Model m = seq.build().initialize(Init.XAVIER_NORMAL, Init.ZEROS, 1);
             BackpropExecutor ex = new BackpropExecutor(m, s, batch);
             OffHeapBlock x = OffHeapBlock.allocateFloats((long) batch * width, Purpose.BATCHES)) {
            ExecutionContext ctx = new ExecutionContext(k);
            ex.forward(ctx, x.segment(), 0, batch);
            ex.backward(ctx);
            ActivationLedger l = new ActivationLedger();
            l.hold(ex.ledger().peakBytes());
            for (long i = 0; i < ex.ledger().forwardEvaluations(); i++) {
                l.evaluated();
            }
            return l;
        }
    }

    @Test
    void shouldAccountVanillaLinearRecomputeConstantCheckpointedSqrt() {
        int width = 8;
        int batch = 4;
        long u = (long) width * batch * Float.BYTES;
        for (int n : new int[]{16, 64}) {
            ActivationLedger v = run(n, width, batch, BackpropStrategy.VANILLA);
            assertThat(v.peakBytes()).isEqualTo((n + 1) * u);
            assertThat(v.forwardEvaluations()).isEqualTo(n);

            ActivationLedger r = run(n, width, batch, BackpropStrategy.RECOMPUTE);
            assertThat(r.peakBytes()).isEqualTo(3 * u); // x_0, x_j, x_{j+1}
            assertThat(r.forwardEvaluations()).isEqualTo(n + (long) (n - 1) * (n - 2) / 2);

            int k = (int) Math.ceil(Math.sqrt(n));
            ActivationLedger c = run(n, width, batch, BackpropStrategy.checkpointed());
            int lastSegment = (n - 1) / k * k;
            int checkpoints = (n - 1) / k; // k, 2k, ... < n
            assertThat(c.peakBytes()).isEqualTo((1 + checkpoints + (n - lastSegment)) * u);
            assertThat(c.forwardEvaluations()).isEqualTo(n + (long) checkpoints * (k - 1));
        }
        // scaling: 4x depth -> ~4x vanilla memory, same recompute memory, ~2x checkpointed memory
        double vRatio = (double) run(64, width, batch, BackpropStrategy.VANILLA).peakBytes()
                / run(16, width, batch, BackpropStrategy.VANILLA).peakBytes();
        double cRatio = (double) run(64, width, batch, BackpropStrategy.checkpointed()).peakBytes()
                / run(16, width, batch, BackpropStrategy.checkpointed()).peakBytes();
        assertThat(vRatio).isBetween(3.5, 4.0);
        assertThat(cRatio).isBetween(1.8, 2.2);
    }
}
