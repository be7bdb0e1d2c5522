package dev.descent.samples.cli;

import dev.descent.engine.event.TrainingEvent;
import dev.descent.engine.event.TrainingListener;
import dev.descent.samples.OutputDir;
import dev.descent.samples.ProgressBar;
import dev.descent.samples.RunEstimate;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns the job's events into a progress bar per epoch, metrics.csv (rewritten after every epoch) and the
 * training curves, and remembers the newest checkpoint written and how many writes failed. A resumed run starts
 * from the rows its earlier processes wrote ({@link #keepHistory}), so metrics.csv and the curves cover every epoch
 * with its real number. Events arrive in order on one engine thread.
 */
final class RunRecorder implements TrainingListener {
    static final String HEADER = "epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,examples_per_second";
    private final OutputDir dir;
    private final int epochs;
    private final int stepsPerEpoch;
    private final String title;
    private final List<double[]> rows = new ArrayList<>(); // epoch, trainLoss, trainAcc, testLoss, testAcc, lr, s, ex/s
    private ProgressBar bar;
    private final RunEstimate estimate = new RunEstimate(System.out);
    private long firstStep = -1;

    /** The step this process started at (0, or the resumed step). */
    private long firstStep(TrainingEvent.StepCompleted s) {
        if (firstStep < 0) {
            firstStep = s.step();
        }
        return firstStep;
    }
    private int barEpoch = -1;
    private double epochSeconds;
    private long epochExamples;
    private double lastLr;
    private double stepSeconds;
    private TrainingEvent.EpochCompleted pendingEpoch;
    private volatile String lastCheckpoint;
    private volatile long lastCheckpointStep = -1;
    private volatile int failedCheckpoints;

    RunRecorder(OutputDir dir, int epochs, int stepsPerEpoch, String title) {
        this.dir = dir;
        this.epochs = epochs;
        this.stepsPerEpoch = stepsPerEpoch;
        this.title = title;
    }

    /** Keeps the rows of an earlier process's metrics.csv (a resumed run); a missing or foreign file keeps none. */
    void keepHistory(Path csv) {
        if (!Files.isRegularFile(csv)) {
            return;
        }
        try {
            List<String> lines = Files.readAllLines(csv);
            if (lines.isEmpty() || !lines.getFirst().equals(HEADER)) {
                return;
            }
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.split(",");
                double[] r = new double[8];
                for (int i = 0; i < 8; i++) {
                    r[i] = Double.parseDouble(f[i]);
                }
                rows.add(r);
            }
        } catch (IOException | RuntimeException e) {
            rows.clear(); // unreadable: this process's epochs only, as before
        }
    }

    @Override
    public void onEvent(TrainingEvent event) {
        switch (event) {
            case TrainingEvent.StepCompleted s -> onStep(s);
            case TrainingEvent.EpochCompleted e -> pendingEpoch = e;
            case TrainingEvent.EvaluationCompleted ev -> onEvaluation(ev);
            case TrainingEvent.CheckpointWritten c -> {
                lastCheckpoint = c.path();
                lastCheckpointStep = c.step();
            }
            case TrainingEvent.Anomaly a when a.kind().equals("checkpoint-failed") -> failedCheckpoints++;
            default -> { }
        }
    }

    /** The newest checkpoint this process wrote, or null. */
    String lastCheckpoint() {
        return lastCheckpoint;
    }

    long lastCheckpointStep() {
        return lastCheckpointStep;
    }

    int failedCheckpoints() {
        return failedCheckpoints;
    }

    /** Seconds of training steps in this process (a resumed run's earlier processes not included). */
    double stepSeconds() {
        return stepSeconds;
    }

    private void onStep(TrainingEvent.StepCompleted s) {
        if (s.epoch() != barEpoch) {
            barEpoch = s.epoch();
            epochSeconds = 0;
            epochExamples = 0;
            bar = new ProgressBar(System.out, String.format(Locale.ROOT, "epoch %d/%d", s.epoch() + 1, epochs),
                    stepsPerEpoch);
        }
        estimate.onStep(s.step() + 1 - firstStep(s), (long) epochs * stepsPerEpoch - firstStep(s));
        epochSeconds += s.seconds();
        stepSeconds += s.seconds();
        epochExamples += s.examples();
        lastLr = s.learningRate();
        long inEpoch = s.step() - (long) s.epoch() * stepsPerEpoch;
        bar.update(inEpoch, String.format(Locale.ROOT, "loss %.4f lr %.3g %,.0f ex/s", s.loss(), s.learningRate(),
                epochExamples / Math.max(1e-9, epochSeconds)));
    }

    private void onEvaluation(TrainingEvent.EvaluationCompleted ev) {
        TrainingEvent.EpochCompleted e = pendingEpoch;
        if (e == null || e.epoch() != ev.epoch()) {
            return;
        }
        pendingEpoch = null;
        rows.removeIf(r -> r[0] >= e.epoch() + 1); // a resumed run redoes the epoch it was in
        rows.add(new double[] {e.epoch() + 1, e.trainLoss(), e.trainAccuracy(), ev.loss(), ev.accuracy(), lastLr,
            e.seconds(), e.examplesPerSecond()});
        if (bar != null) {
            bar.finish(String.format(Locale.ROOT, "train loss %.4f acc %.4f | test loss %.4f acc %.4f | %,.0f ex/s",
                    e.trainLoss(), e.trainAccuracy(), ev.loss(), ev.accuracy(), e.examplesPerSecond()));
            bar = null;
        }
        writeCsv();
        drawCurves();
    }

    void finishBar() {
        if (bar != null) {
            bar.finish("stopped");
            bar = null;
        }
    }

    private void writeCsv() {
        StringBuilder csv = new StringBuilder(HEADER).append('\n');
        for (double[] r : rows) {
            csv.append(String.format(Locale.ROOT, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.3f,%.1f%n", (int) r[0], r[1],
                    r[2], r[3], r[4], r[5], r[6], r[7]));
        }
        dir.writeString("metrics.csv", csv.toString());
    }

    private void drawCurves() {
        int n = rows.size();
        double[] epoch = new double[n];
        double[][] col = new double[4][n];
        for (int i = 0; i < n; i++) {
            epoch[i] = rows.get(i)[0];
            for (int c = 0; c < 4; c++) {
                col[c][i] = rows.get(i)[c + 1];
            }
        }
        Figures.write(dir.resolve("training-curves.png"), title, List.of(
                Panel.of("Loss", "epoch", "loss", List.of(new Series("train", epoch, col[0]),
                        new Series("test", epoch, col[2]))),
                Panel.of("Accuracy", "epoch", "accuracy", List.of(new Series("train", epoch, col[1]),
                        new Series("test", epoch, col[3])))));
    }
}
