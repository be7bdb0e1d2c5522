package dev.descent.peers;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** DJL with the PyTorch engine (native libtorch from the pytorch-native-cpu jar; run with -Dai.djl.offline=true). */
final class DjlPeer {
    private DjlPeer() {
    }

    static String run(Args a) throws Exception {
        int threads = a.integer("threads", 1);
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine engine = Engine.getEngine("PyTorch");
        String backend = "PyTorch " + engine.getVersion() + " (DJL " + Engine.getDjlVersion() + ")";
        return switch (a.str("task", "mlp")) {
            case "gemm" -> gemm(a, threads, backend);
            case "mlp", "cnn" -> train(a, backend);
            default -> throw new IllegalArgumentException("--task gemm, mlp or cnn");
        };
    }

    private static String gemm(Args a, int threads, String backend) {
        int s = a.integer("size", 1024);
        double seconds = a.real("seconds", 3);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray x = m.randomUniform(-1, 1, new Shape(s, s));
            NDArray y = m.randomUniform(-1, 1, new Shape(s, s));
            for (int i = 0; i < 5; i++) {
                x.matMul(y).close();
            }
            long n = 0;
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            while (System.nanoTime() < end) {
                try (NDArray z = x.matMul(y)) {
                    z.getFloat(0, 0); // forces completion
                }
                n++;
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            return Report.gemm("djl", backend, threads, s, s, s, 2.0 * s * s * s * n / sec / 1e9);
        }
    }

    private static SequentialBlock block(String task, int[] widths) {
        SequentialBlock b = new SequentialBlock();
        if (task.equals("cnn")) {
            // Descent's layer order (Models.cnn): each ReLU after its pooling, the same function as before it
            b.add(Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(16).build())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                    .add(Activation.reluBlock())
                    .add(Conv2d.builder().setKernelShape(new Shape(5, 5)).optPadding(new Shape(2, 2)).setFilters(32)
                            .build())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                    .add(Activation.reluBlock())
                    .add(Blocks.batchFlattenBlock())
                    .add(Linear.builder().setUnits(128).build())
                    .add(Activation.reluBlock());
        } else {
            for (int w : widths) {
                b.add(Linear.builder().setUnits(w).build()).add(Activation.reluBlock());
            }
        }
        return b.add(Linear.builder().setUnits(10).build());
    }

    private static String train(Args a, String backend) throws Exception {
        String task = a.str("task", "mlp");
        boolean cnn = task.equals("cnn");
        int batch = a.integer("batch", 128);
        int epochs = a.integer("epochs", 1);
        Path dir = Path.of(a.str("data", "data/fashion-mnist"));
        Data train = Data.load(dir, true, a.integer("train-limit", 0));
        Data test = Data.load(dir, false, 0);
        Shape in = cnn ? new Shape(batch, 1, 28, 28) : new Shape(batch, 784);
        try (Model model = Model.newInstance("peer", "PyTorch")) {
            model.setBlock(block(task, a.widths()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed((float) a.real("lr", 0.01)))
                            .optMomentum(0.9f).build())
                    .optDevices(new Device[]{Device.cpu()});
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(in);
                NDManager root = trainer.getManager();
                Random rnd = new Random(a.integer("seed", 1));
                float[] xb = new float[batch * 784];
                int[] yb = new int[batch];
                float[] ybf = new float[batch];
                List<Double> perEpoch = new ArrayList<>();
                long examples = 0;
                double seconds = 0;
                int steps = train.n / batch;
                for (int e = 0; e < epochs; e++) {
                    int[] perm = Data.permutation(train.n, rnd);
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) {
                        train.batch(perm, s * batch, batch, xb, yb);
                        for (int i = 0; i < batch; i++) {
                            ybf[i] = yb[i];
                        }
                        try (NDManager sub = root.newSubManager()) {
                            NDArray x = sub.create(xb, in);
                            NDArray y = sub.create(ybf, new Shape(batch));
                            try (GradientCollector gc = trainer.newGradientCollector()) {
                                NDArray out = trainer.forward(new NDList(x)).singletonOrThrow();
                                NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(out));
                                gc.backward(loss);
                            }
                            trainer.step();
                        }
                    }
                    double sec = (System.nanoTime() - t0) / 1e9;
                    seconds += sec;
                    examples += (long) steps * batch;
                    perEpoch.add(steps * batch / sec);
                }
                double acc = accuracy(trainer, root, test, cnn);
                return Report.train("djl", backend, a, perEpoch, examples, seconds, acc);
            }
        }
    }

    private static double accuracy(Trainer trainer, NDManager root, Data test, boolean cnn) {
        int correct = 0;
        int chunk = 1000;
        for (int s = 0; s + chunk <= test.n; s += chunk) {
            try (NDManager sub = root.newSubManager()) {
                float[] xs = new float[chunk * 784];
                System.arraycopy(test.x, s * 784, xs, 0, xs.length);
                Shape shape = cnn ? new Shape(chunk, 1, 28, 28) : new Shape(chunk, 784);
                NDArray out = trainer.evaluate(new NDList(sub.create(xs, shape))).singletonOrThrow();
                long[] pred = out.argMax(1).toLongArray();
                for (int i = 0; i < chunk; i++) {
                    if (pred[i] == test.y[s + i]) {
                        correct++;
                    }
                }
            }
        }
        return (double) correct / (test.n / chunk * chunk);
    }
}
