package dev.descent.samples.cli;

import dev.descent.samples.OutputDir;
import dev.descent.sdk.Descent;
import dev.descent.sdk.KernelTuning;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent tune}: picks the SIMD GEMM's register tile and cache blocking for this CPU by measuring them. */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Measures the GEMM kernel shapes (register tiles x cache blockings) on this machine, one "
                + "thread, in about --seconds, and stores the fastest in ~/.descent/tuning/gemm-<cpu>.properties "
                + "(-Ddescent.tuning.dir=... elsewhere). Later runs use it; delete the file to return to the "
                + "built-in choice. `bench gemm` shows which shape runs.",
            "Tune on a quiet machine: other load makes the figures noisy (each is the best of many products)."})
public final class TuneCommand implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "40", description = "time budget (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--no-save", description = "measure and print only; do not write the tuning file")
    boolean noSave;

    @Option(names = "--out", defaultValue = "out/tune", description = "output folder for summary.json (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() {
        if (!(seconds > 0) || seconds > 600) {
            throw new IllegalArgumentException("--seconds must be in (0, 600], was " + seconds);
        }
        OutputDir outDir = OutputDir.create(out, true);
        System.out.println("CPU: " + Descent.kernels().cpu());
        System.out.println("running now: " + Descent.kernels().gemmShape());
        KernelTuning t = Descent.tuneKernels(seconds, !noSave, line -> System.out.println("  " + line));
        KernelTuning.Trial c = t.chosen();
        System.out.printf(Locale.ROOT, "chosen: %s kc=%d mc=%d nc=%d, %.1f GFLOP/s (1024^3 NN, best product; "
                        + "%d-bit vectors, %d registers, %.0f s)%n", c.tile(), c.kc(), c.mc(), c.nc(), c.bigGflops(),
                t.vectorBits(), t.registers(), t.seconds());
        System.out.println(t.savedTo().map(p -> "saved to " + p + " (used by JVMs started from now on)")
                .orElse("not saved (--no-save)"));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("cpu", t.cpu());
        summary.put("vector_bits", t.vectorBits());
        summary.put("registers", t.registers());
        summary.put("chosen", trial(c));
        List<Map<String, Object>> trials = new ArrayList<>();
        for (KernelTuning.Trial tr : t.trials()) {
            trials.add(trial(tr));
        }
        summary.put("trials", trials);
        summary.put("file", t.savedTo().map(Path::toString).orElse(null));
        summary.put("seconds", t.seconds());
        System.out.println("wrote " + outDir.writeJson("summary.json", summary));
        return 0;
    }

    private static Map<String, Object> trial(KernelTuning.Trial t) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tile", t.tile());
        m.put("kc", t.kc());
        m.put("mc", t.mc());
        m.put("nc", t.nc());
        m.put("gflops_1024", t.bigGflops());
        m.put("gflops_mlp", Double.isNaN(t.mlpGflops()) ? null : t.mlpGflops());
        return m;
    }
}
