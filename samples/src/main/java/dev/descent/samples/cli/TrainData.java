package dev.descent.samples.cli;

import dev.descent.samples.UserError;
import dev.descent.sdk.Corpus;
import dev.descent.sdk.DataSource;
import dev.descent.sdk.ModularArithmetic;
import dev.descent.sdk.Split;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The data of {@code descent train}: an image corpus from the data folder (fashion-mnist, mnist) or a generated
 * algorithmic table ({@code modular}: all pairs of {@code a op b mod p} as token sequences, split by
 * {@code --train-fraction}).
 *
 * @param vocabulary token ids of a sequence dataset (0 for images)
 */
record TrainData(String displayName, int[] sampleShape, int classes, int vocabulary, int available, DataSource train,
                 DataSource test) {

    /** Parses {@code --dataset}; {@code modular} uses the operation, modulus, train fraction and seed. */
    static TrainData of(String dataset, Path dataDir, String operation, int modulus, double trainFraction,
                        long seed) {
        if (dataset.trim().toLowerCase(Locale.ROOT).equals("modular")) {
            ModularArithmetic task;
            try {
                task = ModularArithmetic.of(ModularArithmetic.Operation.parse(operation), modulus, trainFraction,
                        seed);
            } catch (IllegalArgumentException e) {
                throw new UserError("--dataset modular: " + e.getMessage(), e);
            }
            return new TrainData(task.toString(), new int[]{task.sequenceLength()}, task.classes(),
                    task.vocabulary(), task.trainCount(), task.train(), task.validation());
        }
        Corpus corpus;
        try {
            corpus = Corpus.parse(dataset);
        } catch (IllegalArgumentException e) {
            throw new UserError("unknown --dataset '" + dataset + "'; expected fashion-mnist, mnist or modular", e);
        }
        return new TrainData(corpus.displayName(), corpus.sampleShape(), corpus.classes(), 0,
                corpus.count(Split.TRAIN, dataDir), corpus.source(Split.TRAIN, dataDir),
                corpus.source(Split.TEST, dataDir));
    }

    boolean sequences() {
        return vocabulary > 0;
    }
}
