package dev.descent.sdk;

import dev.descent.engine.kernel.GemmShape;
import dev.descent.engine.kernel.GemmTuner;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of {@link Descent#tuneKernels}: every GEMM shape measured on this machine and the one chosen.
 *
 * @param cpu        the detected CPU and caches
 * @param vectorBits native vector width in bits
 * @param registers  vector registers (inferred from the ISA)
 * @param trials     every measurement, in order
 * @param chosen     the winner
 * @param file       the tuning file written, or null when not saved
 * @param seconds    wall-clock duration of the tuning
 */
public record KernelTuning(String cpu, int vectorBits, int registers, List<Trial> trials, Trial chosen, Path file,
                           double seconds) {
    /**
     * One measured shape.
     *
     * @param tile      {@code <bits>:<rows>x<vectors>}, e.g. {@code 512:8x2}
     * @param kc        depth block
     * @param mc        row block
     * @param nc        column block
     * @param bigGflops GFLOP/s of the best 1024³ NN product (one thread)
     * @param mlpGflops GFLOP/s of the best training step of the default MLP's products (784-256-128-10 at batch 128:
     *                  forwards, weight gradients and input gradients together), NaN when not measured (blocking
     *                  phase)
     */
    public record Trial(String tile, int kc, int mc, int nc, double bigGflops, double mlpGflops) {
    }

    /** The tuning file, if one was written. */
    public Optional<Path> savedTo() {
        return Optional.ofNullable(file);
    }

    static KernelTuning of(GemmTuner.Result r) {
        List<Trial> trials = r.trials().stream().map(KernelTuning::trial).toList();
        return new KernelTuning(r.cpu().describe(), r.vectorBits(), r.registers(), trials, trial(r.best()), r.file(),
                r.seconds());
    }

    private static Trial trial(GemmTuner.Trial t) {
        GemmShape s = t.shape();
        return new Trial(s.tile().name(), s.kc(), s.mc(), s.nc(), t.bigGflops(), t.mlpGflops());
    }
}
