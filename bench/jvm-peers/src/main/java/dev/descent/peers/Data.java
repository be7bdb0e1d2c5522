package dev.descent.peers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** Fashion-MNIST from the IDX files Descent uses (data/fashion-mnist), pixels scaled to [0, 1]. */
final class Data {
    final float[] x;   // [n, 784]
    final int[] y;     // [n]
    final int n;

    private Data(float[] x, int[] y) {
        this.x = x;
        this.y = y;
        this.n = y.length;
    }

    static Data load(Path dir, boolean train, int limit) throws IOException {
        String prefix = train ? "train" : "t10k";
        ByteBuffer img = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(prefix + "-images-idx3-ubyte")));
        ByteBuffer lab = ByteBuffer.wrap(Files.readAllBytes(dir.resolve(prefix + "-labels-idx1-ubyte")));
        if (img.getInt() != 0x803 || lab.getInt() != 0x801) {
            throw new IOException("not IDX image/label files in " + dir);
        }
        int n = img.getInt();
        int rows = img.getInt();
        int cols = img.getInt();
        lab.getInt();
        if (limit > 0) {
            n = Math.min(n, limit);
        }
        int d = rows * cols;
        float[] x = new float[n * d];
        int[] y = new int[n];
        for (int i = 0; i < n * d; i++) {
            x[i] = (img.get() & 0xff) / 255f;
        }
        for (int i = 0; i < n; i++) {
            y[i] = lab.get() & 0xff;
        }
        return new Data(x, y);
    }

    /** A fresh permutation of 0..n-1 per epoch (Fisher-Yates), as every peer shuffles. */
    static int[] permutation(int n, Random rnd) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** Gathers rows perm[s .. s+b) into xb [b, 784] and yb [b]. */
    void batch(int[] perm, int s, int b, float[] xb, int[] yb) {
        for (int i = 0; i < b; i++) {
            int r = perm[s + i];
            System.arraycopy(x, r * 784, xb, i * 784, 784);
            yb[i] = y[r];
        }
    }
}
