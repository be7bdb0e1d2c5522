package dev.descent.peers;

/**
 * JVM peers of Descent for bench/compare-all.sh, one JSON line per run on stdout:
 * <pre>
 *   java -cp 'target/jvm-peers.jar:target/lib/*' dev.descent.peers.Main --lib djl|dl4j --task gemm|mlp|cnn
 *        [--threads 1] [--epochs 1] [--batch 128] [--widths 256,128] [--lr 0.01] [--size 1024] [--seconds 3]
 *        [--data data/fashion-mnist] [--train-limit N] [--seed 1]
 * </pre>
 * Workloads as Descent's (`descent bench train`, `descent train --model cnn`, `descent bench gemm`): MLP 784-widths-10
 * ReLU or the LeNet-like CNN (conv 5x5 16 same, ReLU, maxpool 2, conv 5x5 32 same, ReLU, maxpool 2, dense 128,
 * ReLU, dense 10), softmax cross-entropy, SGD with momentum 0.9 (DL4J: its Nesterovs updater, the only momentum
 * SGD it has), data shuffled per epoch, training-loop examples/s per epoch and test accuracy at the end.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] argv) throws Exception {
        Args a = new Args(argv);
        String lib = a.str("lib", "djl");
        String line = switch (lib) {
            case "djl" -> DjlPeer.run(a);
            case "dl4j" -> Dl4jPeer.run(a);
            default -> throw new IllegalArgumentException("--lib djl or dl4j, got " + lib);
        };
        System.out.println(line);
        System.out.flush();
        // native thread pools of both libraries may keep the JVM alive
        System.exit(0);
    }
}
