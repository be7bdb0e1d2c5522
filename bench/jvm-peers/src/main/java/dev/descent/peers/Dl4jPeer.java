package dev.descent.peers;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Deeplearning4j on ND4J's CPU backend (libnd4j + the OpenBLAS bundled by JavaCPP). Thread count through
 * OMP_NUM_THREADS / OPENBLAS_NUM_THREADS in the environment (set by compare-all.sh).
 */
final class Dl4jPeer {
    private Dl4jPeer() {
    }

    static String run(Args a) throws Exception {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        String backend = "ND4J " + Nd4j.getBackend().getClass().getSimpleName() + " + bundled OpenBLAS";
        return switch (a.str("task", "mlp")) {
            case "gemm" -> gemm(a, backend);
            case "mlp", "cnn" -> train(a, backend);
            default -> throw new IllegalArgumentException("--task gemm, mlp or cnn");
        };
    }

    private static String gemm(Args a, String backend) {
        int s = a.integer("size", 1024);
        double seconds = a.real("seconds", 3);
        INDArray x = Nd4j.rand(DataType.FLOAT, s, s);
        INDArray y = Nd4j.rand(DataType.FLOAT, s, s);
        INDArray z = Nd4j.create(DataType.FLOAT, new long[]{s, s}, 'f');
        for (int i = 0; i < 5; i++) {
            x.mmuli(y, z);
        }
        long n = 0;
        long t0 = System.nanoTime();
        long end = t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < end) {
            x.mmuli(y, z);
            n++;
        }
        double sec = (System.nanoTime() - t0) / 1e9;
        return Report.gemm("dl4j", backend, a.integer("threads", 1), s, s, s, 2.0 * s * s * s * n / sec / 1e9);
    }

    private static MultiLayerConfiguration config(Args a, boolean cnn) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
                .seed(a.integer("seed", 1))
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.RELU)
                .updater(new Nesterovs(a.real("lr", 0.01), 0.9))
                .list();
        if (cnn) {
            // Descent's layer order (Models.cnn): each ReLU after its pooling, the same function as before it
            b.layer(new ConvolutionLayer.Builder(5, 5).nOut(16).stride(1, 1).padding(2, 2)
                            .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2)
                            .stride(2, 2).build())
                    .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
                    .layer(new ConvolutionLayer.Builder(5, 5).nOut(32).stride(1, 1).padding(2, 2)
                            .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build())
                    .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2)
                            .stride(2, 2).build())
                    .layer(new ActivationLayer.Builder().activation(Activation.RELU).build())
                    .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build());
        } else {
            for (int w : a.widths()) {
                b.layer(new DenseLayer.Builder().nOut(w).activation(Activation.RELU).build());
            }
        }
        b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10).activation(Activation.SOFTMAX)
                .build());
        b.setInputType(cnn ? InputType.convolutionalFlat(28, 28, 1) : InputType.feedForward(784));
        return b.build();
    }

    private static String train(Args a, String backend) throws Exception {
        boolean cnn = a.str("task", "mlp").equals("cnn");
        int batch = a.integer("batch", 128);
        int epochs = a.integer("epochs", 1);
        Path dir = Path.of(a.str("data", "data/fashion-mnist"));
        Data train = Data.load(dir, true, a.integer("train-limit", 0));
        Data test = Data.load(dir, false, 0);
        MultiLayerNetwork net = new MultiLayerNetwork(config(a, cnn));
        net.init();
        Random rnd = new Random(a.integer("seed", 1));
        float[] xb = new float[batch * 784];
        int[] yb = new int[batch];
        float[] onehot = new float[batch * 10];
        List<Double> perEpoch = new ArrayList<>();
        long examples = 0;
        double seconds = 0;
        int steps = train.n / batch;
        for (int e = 0; e < epochs; e++) {
            int[] perm = Data.permutation(train.n, rnd);
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                train.batch(perm, s * batch, batch, xb, yb);
                java.util.Arrays.fill(onehot, 0f);
                for (int i = 0; i < batch; i++) {
                    onehot[i * 10 + yb[i]] = 1f;
                }
                net.fit(new DataSet(Nd4j.create(xb, new long[]{batch, 784}, 'c'),
                        Nd4j.create(onehot, new long[]{batch, 10}, 'c')));
            }
            double sec = (System.nanoTime() - t0) / 1e9;
            seconds += sec;
            examples += (long) steps * batch;
            perEpoch.add(steps * batch / sec);
        }
        INDArray out = net.output(Nd4j.create(test.x, new long[]{test.n, 784}, 'c'));
        long[] pred = out.argMax(1).toLongVector();
        int correct = 0;
        for (int i = 0; i < test.n; i++) {
            if (pred[i] == test.y[i]) {
                correct++;
            }
        }
        return Report.train("dl4j", backend, a, perEpoch, examples, seconds,
                (double) correct / test.n);
    }
}
