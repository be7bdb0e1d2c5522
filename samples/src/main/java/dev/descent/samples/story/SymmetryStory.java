package dev.descent.samples.story;

import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.Activation;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.Network;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code descent story symmetry}: why weights must not start equal. The same MLP trained from a constant
 * initialization and from a random one: with constant weights every hidden unit of a layer computes the same
 * function and receives the same gradient, so the units stay identical through training (the symmetry is never
 * broken) and the network is no wider than one unit per layer.
 */
@Command(name = "symmetry", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"The same MLP trained from a constant and from a random (Kaiming) initialization: with constant "
                + "weights every hidden unit stays identical through training and accuracy is poor.",
            "Writes symmetry.png (accuracy curves), weights.png (a hidden weight matrix of both runs), "
                + "accuracy.csv, weights-<run>.csv and summary.json to --out."})
public final class SymmetryStory implements Callable<Integer> {
    @Option(names = "--widths", defaultValue = "64,64", split = ",", description = "hidden widths (default: ${DEFAULT-VALUE})")
    int[] widths;

    @Option(names = "--constant", defaultValue = "0.01", description = "value of every weight of the constant run (biases 0) (default: ${DEFAULT-VALUE})")
    double constant;

    @Option(names = "--train-limit", defaultValue = "20000", description = "train on the first N training examples (default: ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "10000", description = "test accuracy on the first N test examples (default: ${DEFAULT-VALUE})")
    int testLimit;

    @Option(names = "--epochs", defaultValue = "8", description = "epochs of every run (default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "64", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "0.01", description = "learning rate, constant, momentum 0.9 (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the random weights and the shuffling (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data-dir", description = "folder with the IDX files (default: data/ of the checkout, or $DESCENT_DATA_DIR)")
    Path dataDir;

    @Option(names = "--out", defaultValue = "out/story-symmetry", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (widths.length < 1 || epochs < 1 || batch < 1 || !(lr > 0) || !Double.isFinite(constant)) {
            throw new UserError("--widths needs >= 1 width, --epochs, --batch >= 1, --lr > 0, --constant finite; got "
                    + widths.length + " widths, epochs " + epochs + ", batch " + batch + ", lr " + lr + ", constant "
                    + constant);
        }
        for (int w : widths) {
            if (w < 2) {
                throw new UserError("--widths must all be >= 2 (symmetry needs two units to compare), got " + w);
            }
        }
        DataSource train = StoryTraining.train(dataDir, trainLimit);
        DataSource test = StoryTraining.test(dataDir, testLimit);
        int examples = StoryTraining.trainExamples(dataDir, trainLimit);
        OutputDir dir = OutputDir.create(out); // only once the data is known to be there
        System.out.printf(Locale.ROOT, "story symmetry: MLP 784-%s-10 ReLU, constant:%s vs kaiming-normal, momentum "
                + "0.9 lr %s, batch %d, %d epochs on %d examples, seed %d%n", dashed(widths), constant, lr,
                batch, epochs, examples, seed);
        Map<String, Object> runs = new LinkedHashMap<>();
        StringBuilder csv = new StringBuilder("run,epoch,train_loss,train_accuracy,test_accuracy\n");
        List<Series> acc = new ArrayList<>();
        List<Series> loss = new ArrayList<>();
        List<float[][]> pictures = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        int pictureLayer = 0; // the first hidden layer: identical rows show as vertical stripes
        for (String name : List.of("constant", "random")) {
            String init = name.equals("constant") ? "constant:" + constant : "kaiming-normal";
            ModelDefinition def = ModelDefinition.mlp().input(Corpus.FASHION_MNIST.sampleShape()).hidden(widths)
                    .activation(Activation.RELU).output(10).init(init).seed(seed).build();
            Path file = Files.createTempFile(dir.path(), name, ".descent");
            try {
                StoryTraining.Run r = trainAndSave(name, def, train, examples, test, file);
                double[] trainAcc = r.epochs().stream().mapToDouble(e -> e.trainAccuracy()).toArray();
                double[] testAcc = r.epochs().stream().mapToDouble(e -> e.testAccuracy()).toArray();
                double[] trainLoss = r.epochs().stream().mapToDouble(e -> e.trainLoss()).toArray();
                for (int e = 0; e < testAcc.length; e++) {
                    csv.append(String.format(Locale.ROOT, "%s,%d,%.6g,%.6g,%.6g%n", name, e + 1, trainLoss[e],
                            trainAcc[e], testAcc[e]));
                }
                acc.add(Series.ofIndexed(name + " test", testAcc));
                acc.add(Series.ofIndexed(name + " train", trainAcc));
                loss.add(Series.ofIndexed(name, trainLoss));
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("init", init);
                m.put("test_accuracy", StoryTraining.number(r.testAccuracy()));
                List<Double> spreads = new ArrayList<>();
                List<Integer> distinct = new ArrayList<>();
                try (Network trained = Network.load(file)) {
                    for (int l = 0; l < widths.length; l++) {
                        float[][] w = trained.weightRows(l);
                        spreads.add(maxRowSpread(w));
                        distinct.add(distinctRows(w));
                    }
                    float[][] w = trained.weightRows(pictureLayer);
                    pictures.add(w);
                    labels.add(name + " (" + init + "), after training");
                    dir.writeString("weights-" + name + ".csv", matrixCsv(w));
                }
                m.put("max_row_spread", spreads.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
                m.put("row_spread_by_hidden_layer", spreads);
                m.put("distinct_rows_by_hidden_layer", distinct);
                m.put("final_train_loss", StoryTraining.number(r.finalTrainLoss()));
                m.put("test_accuracy_by_epoch", r.epochTestAccuracy());
                runs.put(name, m);
            } finally {
                Files.deleteIfExists(file);
            }
        }
        dir.writeString("accuracy.csv", csv.toString());
        Figures.write(dir.resolve("symmetry.png"), "Constant vs random initialization, MLP 784-"
                + dashed(widths) + "-10", List.of(Panel.of("accuracy", "epoch", "accuracy", acc),
                Panel.of("train loss", "epoch", "mean train loss of the epoch", loss)));
        Figures.writePng(picture(pictures, labels, "hidden layer " + (pictureLayer + 1) + " weights ["
                + pictures.get(0).length + " units × " + pictures.get(0)[0].length + " inputs], one row per unit"),
                dir.resolve("weights.png"));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("runs", runs);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("widths", widths);
        cfg.put("constant", constant);
        cfg.put("train_examples", examples);
        cfg.put("test_examples", testLimit);
        cfg.put("epochs", epochs);
        cfg.put("batch", batch);
        cfg.put("optimizer", "momentum 0.9, constant lr " + lr);
        cfg.put("max_row_spread", "max over hidden Linear layers of max over unit pairs (i, j) of max_k |W[i,k] - "
                + "W[j,k]| after training");
        cfg.put("picture_layer", pictureLayer);
        cfg.put("seed", seed);
        summary.put("config", cfg);
        dir.writeJson("summary.json", summary);
        for (var e : runs.entrySet()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) e.getValue();
            System.out.printf(Locale.ROOT, "  %-8s test acc %s  max row spread %.3g  distinct rows %s%n", e.getKey(),
                    m.get("test_accuracy"), (double) m.get("max_row_spread"), m.get("distinct_rows_by_hidden_layer"));
        }
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private StoryTraining.Run trainAndSave(String name, ModelDefinition def, DataSource train, int examples,
                                           DataSource test, Path file) {
        StoryTraining.Run r = StoryTraining.run(name, def, train, examples, test, epochs, batch, lr, seed, 0, file);
        if (r.diverged()) {
            throw new UserError(name + " run diverged (" + r.divergedMessage() + "); lower --lr");
        }
        return r;
    }

    /** Largest |W[i,k] - W[j,k]| over all unit pairs and inputs: max over k of (max_i W[i,k] - min_i W[i,k]). */
    static double maxRowSpread(float[][] w) {
        double spread = 0;
        for (int k = 0; k < w[0].length; k++) {
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (float[] row : w) {
                lo = Math.min(lo, row[k]);
                hi = Math.max(hi, row[k]);
            }
            spread = Math.max(spread, hi - lo);
        }
        return spread;
    }

    /** Number of bit-distinct rows. */
    static int distinctRows(float[][] w) {
        java.util.Set<String> rows = new java.util.HashSet<>();
        for (float[] row : w) {
            rows.add(java.util.Arrays.toString(row));
        }
        return rows.size();
    }

    private static String matrixCsv(float[][] w) {
        StringBuilder sb = new StringBuilder();
        for (float[] row : w) {
            for (int k = 0; k < row.length; k++) {
                sb.append(k == 0 ? "" : ",").append(row[k]);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The matrices one above the other, blue (negative) - white - red (positive), each on its own symmetric scale. */
    private static BufferedImage picture(List<float[][]> ms, List<String> labels, String title) {
        int rows = ms.get(0).length;
        int cols = ms.get(0)[0].length;
        int cw = Math.max(1, Math.min(8, 800 / cols));
        int ch = Math.max(1, Math.min(8, 256 / rows));
        int pw = cols * cw;
        int ph = rows * ch;
        int margin = 30;
        int block = ph + 60;
        int width = pw + 2 * margin;
        int height = 40 + ms.size() * block;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, margin, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int p = 0; p < ms.size(); p++) {
            float[][] w = ms.get(p);
            double max = 1e-30;
            for (float[] row : w) {
                for (float v : row) {
                    max = Math.max(max, Math.abs(v));
                }
            }
            int x0 = margin;
            int y0 = 40 + p * block + 20;
            for (int i = 0; i < w.length; i++) {
                for (int k = 0; k < w[i].length; k++) {
                    g.setColor(diverging(w[i][k] / max));
                    g.fillRect(x0 + k * cw, y0 + i * ch, cw, ch);
                }
            }
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1f));
            g.drawRect(x0, y0, pw, ph);
            g.drawString(String.format(Locale.ROOT, "%s — colour scale ±%.3g, max row spread %.3g, %d distinct rows",
                    labels.get(p), max, maxRowSpread(w), distinctRows(w)), x0, y0 - 6);
        }
        g.dispose();
        return img;
    }

    private static String dashed(int[] v) {
        return InitStory.join(v).replace(',', '-');
    }

    private static Color diverging(double t) {
        double c = Math.max(-1, Math.min(1, t));
        int fade = (int) Math.round(255 * (1 - Math.abs(c)));
        return c >= 0 ? new Color(255, fade, fade) : new Color(fade, fade, 255);
    }
}
