package dev.descent.samples.story.grokking;

import dev.descent.samples.OutputDir;
import dev.descent.samples.UserError;
import dev.descent.sdk.ModelDefinition;
import dev.descent.sdk.ModularArithmetic;
import dev.descent.sdk.Optimizer;
import dev.descent.sdk.Schedule;
import dev.descent.sdk.TrainingPlan;
import dev.descent.sdk.plot.Figures;
import dev.descent.sdk.plot.Panel;
import dev.descent.sdk.plot.Series;
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
 * {@code descent story grokking}: Power et al. 2022. A model trained on half of the table of {@code (a + b) mod 97}
 * fits its training pairs early, then — long after, under weight decay — generalizes to the held-out pairs. A
 * control run with the same budget but no weight decay does not.
 */
@Command(name = "grokking", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Grokking (Power et al. 2022): trains on a random part of the table of a op b mod p, full batch, "
                + "AdamW with weight decay, and draws train/validation accuracy against steps (log axis) and the "
                + "weight norm, beside a control run without weight decay on the same budget.",
            "Presets: fast (embedding + MLP, groks in minutes on 2 cores) and paper (the paper's decoder-only "
                + "transformer, 2 layers, width 128, 4 heads, batch 512, up to 1e5 steps; resumable).",
            "Writes grokking.png, run.csv, control.csv, summary.json and checkpoints/ to --out."})
public final class GrokkingStory implements Callable<Integer> {
    /** The settings of a preset; options given on the command line override them. */
    record Preset(String name, String model, long steps, int batch, double trainFraction, long warmup,
                  long checkpointEvery) {
        static Preset of(String name) {
            return switch (name.trim().toLowerCase(Locale.ROOT)) {
                case "fast" -> new Preset("fast", "embedding-mlp(dim 32, hidden 256)", 3000, 0, 0.5, 10, 1000);
                case "paper" -> new Preset("paper", "transformer(2 layers, width 128, 4 heads)", 100_000, 512, 0.5,
                        10, 2000);
                default -> throw new UserError("--preset must be fast or paper, was '" + name + "'");
            };
        }
    }

    @Option(names = "--preset", defaultValue = "fast", description = "fast (embedding MLP) or paper (2-layer "
            + "transformer) (default: ${DEFAULT-VALUE})")
    String presetName;

    @Option(names = "--operation", defaultValue = "add", description = "add, sub, mul, div (a·b⁻¹) or square-sum "
            + "(a²+ab+b²) (default: ${DEFAULT-VALUE})")
    String operation;

    @Option(names = "--modulus", defaultValue = "97", description = "the prime p (default: ${DEFAULT-VALUE})")
    int modulus;

    @Option(names = "--train-fraction", description = "fraction of the pairs to train on (default: 0.5)")
    Double trainFraction;

    @Option(names = "--steps", description = "optimizer steps of each run (default: fast 3000, paper 100000)")
    Long steps;

    @Option(names = "--batch-size", description = "examples per step, 0 = full batch (default: fast 0, paper 512)")
    Integer batchSize;

    @Option(names = "--lr", defaultValue = "1e-3", description = "AdamW learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--beta2", defaultValue = "0.98", description = "AdamW β2 (β1 = 0.9) (default: ${DEFAULT-VALUE})")
    double beta2;

    @Option(names = "--weight-decay", defaultValue = "1.0", description = "decoupled weight decay of the run "
            + "(default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--warmup", description = "linear warm-up steps (default: 10)")
    Long warmup;

    @Option(names = "--dim", defaultValue = "32", description = "fast preset: embedding size per token "
            + "(default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--hidden", defaultValue = "256", split = ",", description = "fast preset: hidden widths "
            + "(default: ${DEFAULT-VALUE})")
    int[] hidden;

    @Option(names = "--width", defaultValue = "128", description = "paper preset: model width "
            + "(default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--layers", defaultValue = "2", description = "paper preset: transformer blocks "
            + "(default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "paper preset: attention heads "
            + "(default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--control", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also run the control without weight decay (default: ${DEFAULT-VALUE})")
    boolean control;

    @Option(names = "--eval-points", defaultValue = "60", description = "log-spaced evaluation steps (plus 40 evenly "
            + "spaced) (default: ${DEFAULT-VALUE})")
    int evalPoints;

    @Option(names = "--checkpoint-every", description = "steps between checkpoints, 0 = none (default: fast 1000, "
            + "paper 2000)")
    Long checkpointEvery;

    @Option(names = "--resume", description = "continue both runs from the newest checkpoints in --out")
    boolean resume;

    @Option(names = "--threads", defaultValue = "1", description = "GEMM threads (1 is bit-reproducible) "
            + "(default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the split, the weights and the batches "
            + "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", defaultValue = "out/story-grokking", description = "output folder "
            + "(default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        Preset preset = Preset.of(presetName);
        ModularArithmetic.Operation op;
        try {
            op = ModularArithmetic.Operation.parse(operation);
        } catch (IllegalArgumentException e) {
            throw new UserError("--operation: " + e.getMessage());
        }
        double fraction = trainFraction == null ? preset.trainFraction() : trainFraction;
        long n = steps == null ? preset.steps() : steps;
        long warm = warmup == null ? preset.warmup() : warmup;
        long every = checkpointEvery == null ? preset.checkpointEvery() : checkpointEvery;
        if (n < 1 || warm < 0 || every < 0 || evalPoints < 2 || threads < 1) {
            throw new UserError("--steps must be >= 1, --warmup and --checkpoint-every >= 0, --eval-points >= 2 and "
                    + "--threads >= 1; were " + n + ", " + warm + ", " + every + ", " + evalPoints + ", " + threads);
        }
        if (!(weightDecay > 0) || !(lr > 0) || !(beta2 > 0 && beta2 < 1)) {
            throw new UserError("--weight-decay and --lr must be > 0 and --beta2 in (0, 1); were " + weightDecay
                    + ", " + lr + ", " + beta2);
        }
        ModularArithmetic task;
        try {
            task = ModularArithmetic.of(op, modulus, fraction, seed);
        } catch (IllegalArgumentException e) {
            throw new UserError("--modulus/--train-fraction: " + e.getMessage());
        }
        int batch = batchSize == null ? preset.batch() : batchSize;
        if (batch < 0) {
            throw new UserError("--batch-size must be >= 0 (0 = full batch), was " + batch);
        }
        int stepBatch = batch == 0 ? task.trainCount() : Math.min(batch, task.trainCount());
        ModelDefinition model = model(preset, task);
        OutputDir dir = OutputDir.create(out, resume);
        System.out.printf(Locale.ROOT, "story grokking (%s preset): %s; %s on %d training pairs, %d held out; AdamW "
                + "lr %s betas 0.9/%s, warm-up %d, batch %d, %d steps; weight decay %s vs 0 (control)%n",
                preset.name(), task, model, task.trainCount(), task.validationCount(), lr, beta2, warm, stepBatch, n,
                weightDecay);
        long[] evalAt = GrokkingRun.evalSteps(n, evalPoints, 40);
        Map<String, Object> summary = new LinkedHashMap<>();
        GrokkingRun.Result main = run(task, model, stepBatch, n, warm, weightDecay, evalAt, every, dir, "run");
        summary.putAll(main.summary(preset.name()));
        GrokkingRun.Result ctl = null;
        if (control) {
            ctl = run(task, model, stepBatch, n, warm, 0.0, evalAt, every, dir, "control");
            summary.put("control", ctl.summary(preset.name()));
        }
        summary.put("config", config(preset, task, model, stepBatch, n, warm));
        figure(dir.resolve("grokking.png"), task, preset, main, ctl);
        dir.writeJson("summary.json", summary);
        System.out.printf(Locale.ROOT, "run: train accuracy >= 99%% at step %s (validation then %s), validation >= "
                + "95%% at step %s, final validation %.3f%n", summary.get("step_train_accuracy_99"),
                summary.get("val_accuracy_at_train_99"), summary.get("step_val_accuracy_95"),
                summary.get("final_val_accuracy"));
        if (ctl != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) summary.get("control");
            System.out.printf(Locale.ROOT, "control (no weight decay): train >= 99%% at step %s, validation >= 95%% "
                    + "at step %s, final validation %.3f%n", c.get("step_train_accuracy_99"),
                    c.get("step_val_accuracy_95"), c.get("final_val_accuracy"));
        }
        System.out.println("done: wrote " + dir.path());
        return 0;
    }

    private ModelDefinition model(Preset preset, ModularArithmetic task) {
        try {
            if (preset.name().equals("fast")) {
                return ModelDefinition.embeddingMlp(task.vocabulary(), task.sequenceLength(), dim, hidden,
                        task.classes(), seed);
            }
            return ModelDefinition.transformer(task.vocabulary(), task.sequenceLength(), width, heads, layers,
                    task.classes(), seed);
        } catch (IllegalArgumentException e) {
            throw new UserError("model: " + e.getMessage());
        }
    }

    private GrokkingRun.Result run(ModularArithmetic task, ModelDefinition model, int batch, long n, long warm,
                                   double wd, long[] evalAt, long every, OutputDir dir, String name) {
        Path checkpoints = dir.resolve("checkpoints").resolve(name);
        if (!resume) {
            GrokkingRun.deleteCheckpoints(checkpoints); // a fresh run: an older run's checkpoints must not be resumed
        }
        TrainingPlan plan = TrainingPlan.builder().name("grokking-" + name).model(model).train(task.train())
                .test(task.validation()).optimizer(Optimizer.adamW(lr, 0.9, beta2, 1e-8, wd))
                .schedule(Schedule.constant(lr).withWarmup(warm)).batchSize(batch).evalBatchSize(4096).seed(seed)
                .threadsPerWorker(threads).checkpointDir(checkpoints).resume(resume)
                .keepCheckpoints(2).build();
        String label = name.equals("run") ? "wd " + wd : "control (wd 0)";
        return GrokkingRun.run(plan, n, evalAt, every, dir.resolve(name + ".csv"), label, System.out);
    }

    private Map<String, Object> config(Preset preset, ModularArithmetic task, ModelDefinition model, int batch,
                                       long n, long warm) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("preset", preset.name());
        c.put("operation", task.operation().cliName());
        c.put("modulus", task.modulus());
        c.put("train_fraction", task.trainFraction());
        c.put("train_pairs", task.trainCount());
        c.put("validation_pairs", task.validationCount());
        c.put("model", model.toString());
        c.put("optimizer", "adamw(lr=" + lr + ", betas=0.9/" + beta2 + ", eps=1e-8)");
        c.put("weight_decay", weightDecay);
        c.put("control_weight_decay", control ? 0.0 : null);
        c.put("warmup_steps", warm);
        c.put("batch_size", batch);
        c.put("steps", n);
        c.put("threads", threads);
        c.put("seed", seed);
        return c;
    }

    private static void figure(Path png, ModularArithmetic task, Preset preset, GrokkingRun.Result main,
                               GrokkingRun.Result ctl) {
        List<Series> acc = new ArrayList<>();
        List<Series> norm = new ArrayList<>();
        add(acc, norm, main, "wd on");
        if (ctl != null) {
            add(acc, norm, ctl, "control, wd 0");
        }
        String title = String.format(Locale.ROOT, "Grokking: (a %s b) mod %d, %d%% of pairs for training (%s preset)",
                task.operation().symbol(), task.modulus(), Math.round(100 * task.trainFraction()), preset.name());
        Figures.write(png, title, List.of(
                Panel.of("accuracy (full train / validation sets)", "optimization step", "accuracy", acc).withLogX(),
                Panel.of("weight norm ||w||₂", "optimization step", "L2 norm of all parameters", norm).withLogX()), 2);
    }

    private static void add(List<Series> acc, List<Series> norm, GrokkingRun.Result r, String name) {
        List<GrokkingRun.Point> c = r.curve();
        double[] x = new double[c.size()];
        double[] tr = new double[c.size()];
        double[] va = new double[c.size()];
        double[] w = new double[c.size()];
        for (int i = 0; i < c.size(); i++) {
            x[i] = Math.max(1, c.get(i).step()); // step 0 drawn at 1 on the log axis
            tr[i] = c.get(i).trainAccuracy();
            va[i] = c.get(i).valAccuracy();
            w[i] = c.get(i).weightNorm();
        }
        acc.add(new Series("train (" + name + ")", x, tr));
        acc.add(new Series("validation (" + name + ")", x, va));
        norm.add(new Series(name, x, w));
    }
}
