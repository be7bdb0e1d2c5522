package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * "Same seed, same settings, one thread: bit-identical results run to run" needs every kernel to compute the
 * same bits whichever JIT tier runs it: the switch from the Vector API's Java fallback (interpreter, C1) to C2's
 * intrinsics happens at a timing-dependent moment. reduceLanes(ADD) and lanewise(EXP/TANH) broke this (their
 * fallback and C2 versions differ in the last bits). This test runs {@link TierProbe} in two child JVMs: one
 * with {@code -XX:TieredStopAtLevel=1} (C1 at most: the Java fallback) and one with C2 only, {@code -Xbatch}
 * and a low compile threshold, warmed up until the measured call allocates nothing (only compiled,
 * intrinsified vector code does not allocate), and compares the output bits of every kernel.
 */
class TierDeterminismTest {

    @Test
    void everySimdKernelShouldGiveTheSameBitsInTheFallbackAndInC2() throws Exception {
        Map<String, String[]> fallback = run(List.of("-XX:TieredStopAtLevel=1"), 0);
        Map<String, String[]> c2 = run(List.of("-XX:-TieredCompilation", "-Xbatch", "-XX:CompileThreshold=100"), 20);
        assertThat(c2.keySet()).containsExactlyElementsOf(fallback.keySet());
        assertThat(fallback).hasSizeGreaterThan(40);

        List<String> differing = new ArrayList<>();
        List<String> notCompiled = new ArrayList<>();
        for (Map.Entry<String, String[]> e : fallback.entrySet()) {
            String[] compiled = c2.get(e.getKey());
            if (!compiled[0].equals(e.getValue()[0])) {
                differing.add(e.getKey());
            }
            if (!compiled[1].equals("0")) {
                notCompiled.add(e.getKey() + " (" + compiled[1] + " bytes)");
            }
        }
        assertThat(differing).as("kernels whose output bits depend on the JIT tier").isEmpty();
        // The comparison is only meaningful if the C2 side ran compiled vector code: most kernels must have
        // reached allocation-free code. (A few may still box a vector at a boundary under this unusual JIT
        // setting, with only 100 calls of profile; OpsTest checks allocation under the default settings.)
        assertThat(notCompiled.size()).as("kernels that still allocated in the C2 child: %s", notCompiled)
                .isLessThanOrEqualTo(fallback.size() / 4);
    }

    /** name -> {sha256, bytes allocated by the measured call}. */
    private static Map<String, String[]> run(List<String> jitFlags, int warmUpRounds)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m"));
        cmd.addAll(jitFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TierProbe.class.getName(),
                Integer.toString(warmUpRounds)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("probe JVM " + jitFlags + " did not finish in 120 s");
        }
        String out = new String(stdout, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as("probe JVM %s exit code; output:%n%s", jitFlags, out).isZero();
        Map<String, String[]> result = new LinkedHashMap<>();
        for (String line : out.strip().split("\n")) {
            String[] f = line.trim().split(" ");
            assertThat(f).as("probe line '%s'", line).hasSize(3);
            result.put(f[0], new String[] {f[1], f[2]});
        }
        return result;
    }
}
