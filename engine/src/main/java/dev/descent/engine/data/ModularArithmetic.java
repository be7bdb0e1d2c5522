package dev.descent.engine.data;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Algorithmic datasets of Power et al. 2022 ("Grokking"): every pair {@code (a, b)} of residues modulo a prime
 * {@code p} with the result of a binary operation {@code a ∘ b mod p} as the class. A sample is the token
 * sequence {@code [a, op, b, =]} (4 ids stored as floats): ids {@code 0..p-1} are the residues, {@code p} is the
 * operator token and {@code p + 1} is {@code =}, so the vocabulary has {@code p + 2} tokens and the classes are
 * the {@code p} residues. {@link #split} shuffles all pairs with a seed and cuts them into a training and a
 * validation set.
 *
 * <pre>{@code
 * try (ModularArithmetic.Split s = ModularArithmetic.split(Operation.ADD, 97, 0.5, 1)) {
 *     Dataset train = s.train();      // 4704 of the 9409 pairs
 *     Dataset validation = s.validation();
 * }
 * }</pre>
 */
public final class ModularArithmetic {
    /** Tokens per sample: {@code a op b =}. */
    public static final int SEQUENCE_LENGTH = 4;

    private ModularArithmetic() {
    }

    /** The binary operations of the paper's table (a subset); {@code DIV} only pairs with {@code b != 0}. */
    public enum Operation {
        /** a + b. */
        ADD("+", "add"),
        /** a - b. */
        SUB("-", "sub"),
        /** a · b. */
        MUL("*", "mul"),
        /** a · b⁻¹ (the modular inverse), for b != 0. */
        DIV("/", "div"),
        /** a² + ab + b², the harder one. */
        SQUARE_SUM("a^2+ab+b^2", "square-sum");

        private final String symbol;
        private final String cliName;

        Operation(String symbol, String cliName) {
            this.symbol = symbol;
            this.cliName = cliName;
        }

        public String symbol() {
            return symbol;
        }

        /** The name on the command line: add, sub, mul, div, square-sum. */
        public String cliName() {
            return cliName;
        }

        /** {@code a ∘ b mod p} for residues a, b in [0, p). */
        public int apply(int a, int b, int p) {
            long x = a;
            long y = b;
            long r = switch (this) {
                case ADD -> x + y;
                case SUB -> x - y + p;
                case MUL -> x * y;
                case DIV -> x * inverse(b, p);
                case SQUARE_SUM -> x * x + x * y + y * y;
            };
            return (int) Math.floorMod(r, (long) p);
        }

        /** Whether the pair belongs to the table (every pair but b = 0 for division). */
        public boolean defined(int b) {
            return this != DIV || b != 0;
        }

        /** Parses a CLI name (add, sub, mul, div, square-sum) or a symbol (+, -, *, /). */
        public static Operation parse(String s) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            for (Operation o : values()) {
                if (o.cliName.equals(t) || o.symbol.equals(t) || o.name().toLowerCase(Locale.ROOT).equals(t)) {
                    return o;
                }
            }
            throw new IllegalArgumentException("unknown operation '" + s + "'; expected add, sub, mul, div or "
                    + "square-sum");
        }
    }

    /** The modular inverse of {@code b} modulo the prime {@code p} (Fermat: b^(p-2)). */
    public static long inverse(int b, int p) {
        if (Math.floorMod(b, p) == 0) {
            throw new ArithmeticException("0 has no inverse modulo " + p);
        }
        long result = 1;
        long base = Math.floorMod(b, p);
        long e = p - 2L;
        while (e > 0) {
            if ((e & 1) == 1) {
                result = result * base % p;
            }
            base = base * base % p;
            e >>= 1;
        }
        return result;
    }

    /** Vocabulary size for modulus {@code p}: the residues plus the operator and '=' tokens. */
    public static int vocabulary(int p) {
        return p + 2;
    }

    /** Number of pairs in the operation's table. */
    public static int pairs(Operation op, int p) {
        return op == Operation.DIV ? p * (p - 1) : p * p;
    }

    /** The training and validation halves of one table; owns both datasets. */
    public record Split(Dataset train, Dataset validation) implements AutoCloseable {
        @Override
        public void close() {
            train.close();
            validation.close();
        }
    }

    /**
     * All pairs of {@code op} modulo the prime {@code p}, shuffled with {@code seed}; the first
     * {@code round(trainFraction · pairs)} are the training set (at least one example each side).
     */
    public static Split split(Operation op, int p, double trainFraction, long seed) {
        checkPrime(p);
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("train fraction must be in (0, 1), was " + trainFraction);
        }
        int n = pairs(op, p);
        int[] order = new int[n];
        int k = 0;
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                if (op.defined(b)) {
                    order[k++] = a * p + b;
                }
            }
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        int nTrain = (int) Math.max(1, Math.min(n - 1, Math.round(trainFraction * n)));
        String name = "mod" + p + "-" + op.cliName();
        Dataset train = build(name + "/train", op, p, order, 0, nTrain);
        try {
            return new Split(train, build(name + "/validation", op, p, order, nTrain, n - nTrain));
        } catch (RuntimeException | Error e) {
            train.close();
            throw e;
        }
    }

    /** The whole table in row order (a major, b minor). */
    public static Dataset table(Operation op, int p) {
        checkPrime(p);
        int n = pairs(op, p);
        int[] order = new int[n];
        int k = 0;
        for (int a = 0; a < p; a++) {
            for (int b = 0; b < p; b++) {
                if (op.defined(b)) {
                    order[k++] = a * p + b;
                }
            }
        }
        return build("mod" + p + "-" + op.cliName(), op, p, order, 0, n);
    }

    private static Dataset build(String name, Operation op, int p, int[] order, int from, int count) {
        float[] x = new float[count * SEQUENCE_LENGTH];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            int a = order[from + i] / p;
            int b = order[from + i] % p;
            x[i * SEQUENCE_LENGTH] = a;
            x[i * SEQUENCE_LENGTH + 1] = p;       // the operator token
            x[i * SEQUENCE_LENGTH + 2] = b;
            x[i * SEQUENCE_LENGTH + 3] = p + 1;   // '='
            y[i] = op.apply(a, b, p);
        }
        return Dataset.of(name, x, y, new int[]{SEQUENCE_LENGTH}, p);
    }

    private static void checkPrime(int p) {
        if (p < 2 || p > 46_337) {
            throw new IllegalArgumentException("modulus must be a prime in [2, 46337], was " + p);
        }
        for (int d = 2; (long) d * d <= p; d++) {
            if (p % d == 0) {
                throw new IllegalArgumentException("modulus must be prime (the inverse needs it), was " + p
                        + " = " + d + " x " + p / d);
            }
        }
    }
}
