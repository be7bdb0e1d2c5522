package dev.descent.engine.actor;

import dev.descent.engine.checkpoint.CheckpointDirectory;
import dev.descent.engine.checkpoint.CheckpointException;
import dev.descent.engine.checkpoint.CheckpointFile;
import dev.descent.engine.checkpoint.TrainingCheckpoint;
import dev.descent.engine.nn.Model;
import dev.descent.engine.optim.OptimizerState;
import dev.descent.engine.train.EpochReport;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job's position in a checkpoint: writes an {@link EpochLedger} and the settings a resume must match into the
 * META section ({@link #write}), checks the settings ({@link #check}), reads the ledger back ({@link #read}), and
 * picks the newest usable checkpoint of a folder ({@link #resumeNewest}). Doubles are written as hex floats, so a
 * resumed job continues bit for bit.
 */
final class CheckpointMeta {
    private static final Logger LOG = LoggerFactory.getLogger(CheckpointMeta.class);

    private CheckpointMeta() {
    }

    /** META entries for {@code ledger}'s position and counters and {@code spec}'s settings, in a fixed order. */
    static Map<String, String> write(EpochLedger ledger, JobSpec spec) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("job", spec.name());
        m.put("applied", Long.toString(ledger.applied));
        m.put("epoch", Long.toString(ledger.applied / ledger.perEpoch));
        m.put("batchInEpoch", Long.toString(ledger.applied % ledger.perEpoch));
        m.put("seed", Long.toString(spec.seed()));
        m.put("batchSize", Integer.toString(spec.batchSize()));
        m.put("stepsPerEpoch", Integer.toString(ledger.perEpoch));
        m.put("workers", Integer.toString(spec.workers()));
        m.put("mode", spec.mode().name());
        m.put("optimizer", spec.optimizer().describe());
        m.put("shuffle", "BatchAssembler(seed, epoch)");
        m.put("epochLossSum", Double.toHexString(ledger.epochLossSum));
        m.put("epochCorrect", Long.toString(ledger.epochCorrect));
        m.put("epochExamples", Long.toString(ledger.epochExamples));
        m.put("epochNanos", Long.toString(ledger.epochNanos));
        m.put("trainNanos", Long.toString(ledger.trainNanos));
        m.put("trainExamples", Long.toString(ledger.trainExamples));
        m.put("history", Integer.toString(ledger.history.size()));
        for (int i = 0; i < ledger.history.size(); i++) {
            EpochReport r = ledger.history.get(i);
            m.put("history." + i, r.epoch() + "," + r.steps() + "," + hex(r.trainLoss()) + ","
                    + hex(r.trainAccuracy()) + "," + hex(r.testLoss()) + "," + hex(r.testAccuracy()) + ","
                    + hex(r.learningRate()) + "," + hex(r.seconds()) + "," + hex(r.examplesPerSecond()));
        }
        return m;
    }

    private static String hex(double d) {
        return Double.toHexString(d);
    }

    /** Whether the checkpoint was written with this job's settings; a {@link Mismatch} if not. */
    static void check(TrainingCheckpoint.Loaded ck, JobSpec spec, int perEpoch) throws CheckpointException, Mismatch {
        requireEqual(ck, "seed", Long.toString(spec.seed()));
        requireEqual(ck, "workers", Integer.toString(spec.workers()));
        requireEqual(ck, "mode", spec.mode().name());
        requireEqual(ck, "batchSize", Integer.toString(spec.batchSize()));
        requireEqual(ck, "stepsPerEpoch", Integer.toString(perEpoch));
        requireEqual(ck, "optimizer", spec.optimizer().describe());
    }

    private static void requireEqual(TrainingCheckpoint.Loaded ck, String key, String expected)
            throws CheckpointException, Mismatch {
        String v = ck.get(key);
        if (!v.equals(expected)) {
            throw new Mismatch(new CheckpointException(ck.path(), "it was written with " + key + " " + v
                    + ", this run has " + expected + ": resume with the same settings, or use another checkpoint "
                    + "folder"));
        }
    }

    /** A readable checkpoint of other settings: not a reason to fall back (older ones share the settings). */
    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;

        Mismatch(CheckpointException cause) {
            super(cause.getMessage(), cause, false, false);
        }

        @Override
        public synchronized CheckpointException getCause() {
            return (CheckpointException) super.getCause();
        }
    }

    /** Reads the position, counters and history of {@code ck} into {@code ledger} (its history is replaced). */
    static void read(TrainingCheckpoint.Loaded ck, EpochLedger ledger) throws CheckpointException {
        ledger.history.clear();
        try {
            ledger.applied = Long.parseLong(ck.get("applied"));
            ledger.epochLossSum = Double.parseDouble(ck.get("epochLossSum"));
            ledger.epochCorrect = Long.parseLong(ck.get("epochCorrect"));
            ledger.epochExamples = Long.parseLong(ck.get("epochExamples"));
            ledger.epochNanos = Long.parseLong(ck.get("epochNanos"));
            ledger.trainNanos = Long.parseLong(ck.get("trainNanos"));
            ledger.trainExamples = Long.parseLong(ck.get("trainExamples"));
            int n = Integer.parseInt(ck.get("history"));
            for (int i = 0; i < n; i++) {
                String[] f = ck.get("history." + i).split(",");
                ledger.history.add(new EpochReport(Integer.parseInt(f[0]), Long.parseLong(f[1]),
                        Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                        Double.parseDouble(f[5]), Double.parseDouble(f[6]), Double.parseDouble(f[7]),
                        Double.parseDouble(f[8])));
            }
        } catch (RuntimeException e) {
            throw new CheckpointException(ck.path(), "its META cannot be read: " + e);
        }
    }

    /**
     * Restores the newest checkpoint of {@code dir} that can be used into {@code model}, {@code optimizer} and
     * {@code ledger}. Any unreadable one (bad CRC, truncated, a damaged header or section, a META that does not
     * parse) is reported to {@code corrupt} and the previous one is tried; a checkpoint of other settings is an error
     * (the older ones share them). Checkpoint files of which none can be used are an error too: retraining from step
     * 0 would overwrite the outputs of the run the user meant to resume. No checkpoint at all leaves the ledger at 0.
     */
    static void resumeNewest(CheckpointDirectory dir, JobSpec spec, Model model, OptimizerState optimizer,
                             EpochLedger ledger, Consumer<String> corrupt) throws Exception {
        List<Path> all = dir.list();
        Exception newest = null;
        for (int i = all.size() - 1; i >= 0; i--) {
            Path p = all.get(i);
            try {
                TrainingCheckpoint.Loaded ck = TrainingCheckpoint.Loaded.of(new CheckpointDirectory.Found(p,
                        CheckpointDirectory.stepOf(p), CheckpointFile.read(p)));
                check(ck, spec, ledger.perEpoch);
                ck.restoreInto(model, optimizer);
                read(ck, ledger);
                LOG.info("job {}: resumed from {} at step {}", spec.name(), ck.path(), ledger.applied);
                return;
            } catch (Mismatch e) {
                throw e.getCause();
            } catch (Exception | OutOfMemoryError e) {
                String why = e instanceof CheckpointException ? e.getMessage() : "checkpoint " + p + ": " + e;
                newest = newest == null ? new CheckpointException(p, String.valueOf(e.getMessage())) : newest;
                LOG.warn("{}; falling back to the previous checkpoint", why);
                corrupt.accept(why + "; falling back to the previous checkpoint");
            }
        }
        ledger.applied = 0;
        ledger.history.clear();
        if (!all.isEmpty()) {
            throw new CheckpointException(dir.dir(), "none of its " + all.size() + " checkpoint file(s) can be read "
                    + "(newest: " + newest.getMessage() + "); move them away, or start afresh without resuming");
        }
    }
}
