package dev.descent.engine.actor;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-step actor handlers allocate nothing but the messages they send. */
class HandlerAllocationTest {

    /**
     * Runs {@link HandlerAllocationProbe} in a child JVM (a fresh JIT profile, and the probe switched on only there:
     * it is a compile-time constant of the engine, off in every other test).
     */
    @Test
    void shouldAllocateNothingPerStepButTheMessages() throws Exception {
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED", "--enable-native-access=ALL-UNNAMED",
                "-D" + HandlerProbe.ENABLED_PROP_NAME + "=true",
                "-cp", System.getProperty("java.class.path"), HandlerAllocationProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).contains("checked 3 configurations").doesNotContain("ALLOCATES")
                .contains("sync-1: messages", "sync-2: messages", "async-1: messages");
    }

    @Test
    void shouldKeepTheProbeOffUnlessAsked() {
        assertThat(HandlerProbe.ENABLED).isFalse();
    }
}
