package dev.descent.sdk;

import java.util.Locale;

/**
 * The algorithmic datasets of the grokking paper (Power et al. 2022), generated in-process: all pairs
 * {@code (a, b)} of residues modulo a prime {@code p} with {@code a ∘ b mod p} as the class, each sample the token
 * sequence {@code a op b =} (ids {@code 0..p-1} the residues, {@code p} the operator, {@code p + 1} '='), split at
 * random (seeded) into a training and a validation set.
 *
 * <pre>{@code
 * ModularArithmetic task = ModularArithmetic.of(ModularArithmetic.Operation.ADD, 97, 0.5, 1);
 * ModelDefinition m = ModelDefinition.transformer(task.vocabulary(), task.sequenceLength(), 128, 4, 2,
 *         task.classes(), 1);
 * TrainingPlan plan = TrainingPlan.builder().model(m).train(task.train()).test(task.validation()) ... .build();
 * }</pre>
 */
public final class ModularArithmetic {
    /** The binary operation of the table. */
    public enum Operation {
        /** a + b. */
        ADD(dev.descent.engine.data.ModularArithmetic.Operation.ADD),
        /** a - b. */
        SUB(dev.descent.engine.data.ModularArithmetic.Operation.SUB),
        /** a · b. */
        MUL(dev.descent.engine.data.ModularArithmetic.Operation.MUL),
        /** a · b⁻¹ (modular inverse), pairs with b != 0 only. */
        DIV(dev.descent.engine.data.ModularArithmetic.Operation.DIV),
        /** a² + ab + b². */
        SQUARE_SUM(dev.descent.engine.data.ModularArithmetic.Operation.SQUARE_SUM);

        private final dev.descent.engine.data.ModularArithmetic.Operation engine;

        Operation(dev.descent.engine.data.ModularArithmetic.Operation engine) {
            this.engine = engine;
        }

        /** The symbol: +, -, *, /, a^2+ab+b^2. */
        public String symbol() {
            return engine.symbol();
        }

        /** The command-line name: add, sub, mul, div, square-sum. */
        public String cliName() {
            return engine.cliName();
        }

        /** {@code a ∘ b mod p}. */
        public int apply(int a, int b, int p) {
            return engine.apply(a, b, p);
        }

        /** Parses add, sub, mul, div, square-sum (or +, -, *, /). */
        public static Operation parse(String s) {
            return valueOf(dev.descent.engine.data.ModularArithmetic.Operation.parse(s).name());
        }
    }

    private final Operation op;
    private final int p;
    private final double trainFraction;
    private final long seed;
    private final int trainCount;

    private ModularArithmetic(Operation op, int p, double trainFraction, long seed, int trainCount) {
        this.op = op;
        this.p = p;
        this.trainFraction = trainFraction;
        this.seed = seed;
        this.trainCount = trainCount;
    }

    /**
     * The table of {@code op} modulo the prime {@code p}, its pairs shuffled with {@code seed}, the first
     * {@code round(trainFraction · pairs)} for training and the rest for validation.
     *
     * @throws IllegalArgumentException when p is not a prime in [2, 46337] or the fraction is outside (0, 1)
     */
    public static ModularArithmetic of(Operation op, int p, double trainFraction, long seed) {
        try (dev.descent.engine.data.ModularArithmetic.Split s =
                     dev.descent.engine.data.ModularArithmetic.split(op.engine, p, trainFraction, seed)) {
            return new ModularArithmetic(op, p, trainFraction, seed, s.train().count());
        }
    }

    public Operation operation() {
        return op;
    }

    public int modulus() {
        return p;
    }

    public double trainFraction() {
        return trainFraction;
    }

    /** Token ids per sample: 4 ({@code a op b =}). */
    public int sequenceLength() {
        return dev.descent.engine.data.ModularArithmetic.SEQUENCE_LENGTH;
    }

    /** Distinct token ids: p residues + operator + '='. */
    public int vocabulary() {
        return dev.descent.engine.data.ModularArithmetic.vocabulary(p);
    }

    /** Classes: the p residues. */
    public int classes() {
        return p;
    }

    /** All pairs of the table (p², or p(p - 1) for division). */
    public int pairs() {
        return dev.descent.engine.data.ModularArithmetic.pairs(op.engine, p);
    }

    public int trainCount() {
        return trainCount;
    }

    public int validationCount() {
        return pairs() - trainCount;
    }

    /** The training pairs. */
    public DataSource train() {
        return source(true);
    }

    /** The held-out pairs. */
    public DataSource validation() {
        return source(false);
    }

    private DataSource source(boolean train) {
        return DataSource.generated(String.format(Locale.ROOT, "mod%d-%s/%s", p, op.cliName(),
                train ? "train" : "validation"), () -> {
                    dev.descent.engine.data.ModularArithmetic.Split s =
                            dev.descent.engine.data.ModularArithmetic.split(op.engine, p, trainFraction, seed);
                    if (train) {
                        s.validation().close();
                        return s.train();
                    }
                    s.train().close();
                    return s.validation();
                });
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "(a %s b) mod %d, %d pairs, train fraction %s (seed %d)", op.symbol(), p,
                pairs(), trainFraction, seed);
    }
}
