package dev.descent.engine.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class KernelsSelectionTest {

    @Test
    void shouldPickSimdWhenTheVectorModuleIsPresent() {
        // surefire starts the test JVM with --add-modules jdk.incubator.vector
        assertThat(Kernels.vectorModulePresent()).isTrue();
        assertThat(Kernels.backend().name()).isEqualTo("simd");
        assertThat(Kernels.select("scalar").name()).isEqualTo("scalar");
    }

    @Test
    void shouldRejectAnUnknownBackendName() {
        assertThatThrownBy(() -> Kernels.select("cuda"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("cuda").hasMessageContaining("simd, scalar or auto");
    }

    /** An embedding service may not pass --add-modules: the engine must still work, on scalar, and say so. */
    @Test
    void shouldFallBackToScalarAndSaySoWhenTheVectorModuleIsAbsent() throws Exception {
        Result auto = runWithoutVectorModule("auto");
        assertThat(auto.exitCode).as(auto.output).isZero();
        assertThat(auto.output).contains("backend=scalar").contains("gemm=ok")
                .contains("Vector API module (jdk.incubator.vector) is not present")
                .contains("SCALAR kernels");
        assertThat(auto.output.split("is not present", -1)).as("logged exactly once").hasSize(2);

        Result simd = runWithoutVectorModule("simd");
        assertThat(simd.output).contains("the simd kernels need the Vector API")
                .contains("--add-modules jdk.incubator.vector");
        assertThat(simd.exitCode).isNotZero();
    }

    private record Result(int exitCode, String output) {
    }

    private static Result runWithoutVectorModule(String backend) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = List.of(java.toString(),
                "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
                "--enable-native-access=ALL-UNNAMED",
                "-D" + Kernels.BACKEND_PROP_NAME + "=" + backend,
                "-cp", System.getProperty("java.class.path"),
                FallbackProbe.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            throw new AssertionError("probe JVM did not finish in 60 s");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void shouldConfineVectorApiImportsToTheSimdPackage() throws IOException {
        Path main = Path.of("src/main/java");
        try (Stream<Path> files = Files.walk(main)) {
            List<String> offenders = files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.toString().replace('\\', '/').contains("dev/descent/engine/kernel/simd/"))
                    .filter(f -> {
                        try {
                            return Files.readString(f).contains("jdk.incubator.vector");
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    })
                    .map(Path::toString).toList();
            assertThat(offenders).as("only kernel/simd may use the Vector API")
                    .allSatisfy(f -> assertThat(f).endsWith("Kernels.java"));
        }
    }
}
