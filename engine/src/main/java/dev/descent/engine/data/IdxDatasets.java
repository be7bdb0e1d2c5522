package dev.descent.engine.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Loads Fashion-MNIST and MNIST from IDX files (raw or .gz) into off-heap {@link Dataset}s:
 * features in [0, 1] (byte / 255: a raw file is mapped and its bytes read as float32, {@link Dataset#ofUnitBytes}),
 * row-major [count, 784], sample shape {1, 28, 28}; labels int32 in [0, 10).
 *
 * <p>Files are looked up as {@code <data dir>/<corpus dir>/<prefix>-{images-idx3,labels-idx1}-ubyte[.gz]}
 * (e.g. {@code data/fashion-mnist/train-images-idx3-ubyte}); a directory that holds the four files itself
 * is accepted too. The data directory is, in this order: the explicit path argument, the environment
 * variable {@value #DATA_DIR_ENV}, the system property {@value #DATA_DIR_PROP_NAME}, {@code ./data}
 * relative to the working directory. {@code scripts/fetch-data.sh} (or {@code ./descent data fetch})
 * fetches and verifies the files.
 */
public final class IdxDatasets {
    /** Environment variable naming the data directory. */
    public static final String DATA_DIR_ENV = "DESCENT_DATA_DIR";
    /** System property naming the data directory. */
    public static final String DATA_DIR_PROP_NAME = "descent.data.dir";
    /** Data directory used when nothing else is set, relative to the working directory. */
    public static final String DATA_DIR_DEFAULT = "data";
    public static final int ROWS = 28;
    public static final int COLS = 28;
    public static final int CLASSES = 10;

    /** The IDX corpora this loader knows. */
    public enum Corpus {
        FASHION_MNIST("fashion-mnist", "Fashion-MNIST", List.of("T-shirt/top", "Trouser", "Pullover", "Dress",
                "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")),
        MNIST("mnist", "MNIST", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"));

        private final String dirName;
        private final String displayName;
        private final List<String> classNames;

        Corpus(String dirName, String displayName, List<String> classNames) {
            this.dirName = dirName;
            this.displayName = displayName;
            this.classNames = classNames;
        }

        /** Sub-directory of the data directory: {@code fashion-mnist} or {@code mnist}. */
        public String dirName() {
            return dirName;
        }

        public String displayName() {
            return displayName;
        }

        /** Human-readable name of each class index. */
        public List<String> classNames() {
            return classNames;
        }
    }

    /** A data directory and where that choice came from (for messages). */
    public record DataDir(Path path, String origin) {
    }

    private IdxDatasets() {
    }

    /** Fashion-MNIST {@code split} from the resolved data directory. */
    public static Dataset fashionMnist(Split split) throws IOException {
        return load(Corpus.FASHION_MNIST, split, null);
    }

    /** MNIST {@code split} from the resolved data directory. */
    public static Dataset mnist(Split split) throws IOException {
        return load(Corpus.MNIST, split, null);
    }

    /**
     * Loads {@code corpus}/{@code split}.
     *
     * @param dataDir the data directory, or null to resolve it from the environment (see class comment)
     * @throws DatasetNotFoundException when the files are missing; the message says where they were looked
     *                                  for and how to fetch them
     * @throws IdxFormatException       when a file is present but malformed
     */
    public static Dataset load(Corpus corpus, Split split, Path dataDir) throws IOException {
        return load(corpus, split, dataDir, Integer.MAX_VALUE);
    }

    /**
     * Loads the first {@code first} examples of {@code corpus}/{@code split} (all when it has fewer), reading no
     * image past them ({@link IdxReader#readDataset(String, Path, Path, int, int, int, int)}); otherwise as
     * {@link #load(Corpus, Split, Path)}.
     */
    public static Dataset load(Corpus corpus, Split split, Path dataDir, int first) throws IOException {
        DataDir dir = resolveDataDir(dataDir);
        Path[] files = locate(corpus, split, dir).orElseThrow(() -> notFound(corpus, split, dir));
        return IdxReader.readDataset(corpus.dirName() + "/" + split.label(), files[0], files[1], ROWS, COLS,
                CLASSES, first);
    }

    /**
     * Examples in {@code corpus}/{@code split}, read from its (small) label file alone, validated like
     * {@link #load}: for sizing a run before the dataset itself is loaded.
     */
    public static int count(Corpus corpus, Split split, Path dataDir) throws IOException {
        DataDir dir = resolveDataDir(dataDir);
        Path[] files = locate(corpus, split, dir).orElseThrow(() -> notFound(corpus, split, dir));
        return IdxReader.readLabels(files[1], CLASSES).count();
    }

    /** True when both files of {@code corpus}/{@code split} are present (not verified) in the data directory. */
    public static boolean isPresent(Corpus corpus, Split split, Path dataDir) {
        return locate(corpus, split, resolveDataDir(dataDir)).isPresent();
    }

    /** The data directory: {@code explicit} if non-null, else the environment, system property or default. */
    public static DataDir resolveDataDir(Path explicit) {
        return resolveDataDir(explicit, System.getenv(DATA_DIR_ENV), System.getProperty(DATA_DIR_PROP_NAME));
    }

    static DataDir resolveDataDir(Path explicit, String env, String property) {
        if (explicit != null) {
            return new DataDir(explicit.toAbsolutePath(), "the path given");
        }
        if (env != null && !env.isBlank()) {
            return new DataDir(Path.of(env.strip()).toAbsolutePath(), "environment variable " + DATA_DIR_ENV);
        }
        if (property != null && !property.isBlank()) {
            return new DataDir(Path.of(property.strip()).toAbsolutePath(), "system property " + DATA_DIR_PROP_NAME);
        }
        return new DataDir(Path.of(DATA_DIR_DEFAULT).toAbsolutePath(), "the default ./" + DATA_DIR_DEFAULT
                + " (neither " + DATA_DIR_ENV + " nor -D" + DATA_DIR_PROP_NAME + " is set)");
    }

    /** Names of the image and label files of a split, without the optional .gz suffix. */
    static String[] fileNames(Split split) {
        return new String[] {split.filePrefix() + "-images-idx3-ubyte", split.filePrefix() + "-labels-idx1-ubyte"};
    }

    /** Directories searched, in order: {@code <dir>/<corpus>} then {@code <dir>} itself. */
    static List<Path> searchDirs(Corpus corpus, DataDir dir) {
        return List.of(dir.path().resolve(corpus.dirName()), dir.path());
    }

    private static Optional<Path[]> locate(Corpus corpus, Split split, DataDir dir) {
        String[] names = fileNames(split);
        for (Path d : searchDirs(corpus, dir)) {
            Path images = find(d, names[0]);
            Path labels = find(d, names[1]);
            if (images != null && labels != null) {
                return Optional.of(new Path[] {images, labels});
            }
        }
        return Optional.empty();
    }

    /** {@code dir/name} if it is a file, else {@code dir/name.gz} if that is, else null. */
    private static Path find(Path dir, String name) {
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : null;
    }

    private static DatasetNotFoundException notFound(Corpus corpus, Split split, DataDir dir) {
        String[] names = fileNames(split);
        List<String> where = new ArrayList<>();
        List<String> partial = new ArrayList<>();
        for (Path d : searchDirs(corpus, dir)) {
            where.add(d.toString());
            for (String name : names) {
                Path found = find(d, name);
                if (found != null) {
                    partial.add(found.toString());
                }
            }
        }
        return new DatasetNotFoundException(corpus.displayName() + " " + split.label() + " split not found: looked for "
                + names[0] + "[.gz] and " + names[1] + "[.gz] in " + String.join(" and ", where)
                + " (data directory " + dir.path() + ", from " + dir.origin() + ")"
                + (partial.isEmpty() ? "" : "; found only " + String.join(", ", partial)) + ". "
                + "Fetch the data with `./descent data fetch` or `scripts/fetch-data.sh` (writes <repo>/data, or "
                + "$" + DATA_DIR_ENV + "), or point " + DATA_DIR_ENV + " / -D" + DATA_DIR_PROP_NAME
                + " at a directory that holds " + corpus.dirName() + "/.");
    }
}
