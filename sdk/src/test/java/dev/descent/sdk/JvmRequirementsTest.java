package dev.descent.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class JvmRequirementsTest {
    /** Started in a child JVM without the flags: Descent.start must throw, the JVM must not die. */
    public static final class StartWithoutFlags {
        public static void main(String[] args) {
            System.out.println("kernels: " + Descent.kernels());
            try (DescentEngine engine = Descent.start(new DescentConfig().workers(1).systemName("noflags"))) {
                System.out.println("STARTED " + engine);
            } catch (DescentException e) {
                System.out.println("REFUSED " + e.getMessage());
            }
            System.out.println("JVM-ALIVE");
        }
    }

    @Test
    void shouldRefuseToStartWithoutTheAgronaExportAndKeepTheHostJvmAlive() throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), StartWithoutFlags.class.getName())
                .redirectErrorStream(true).start();
        String out = readAll(p);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("REFUSED").contains(JvmRequirements.EXPORT_FLAG).contains("JVM-ALIVE")
                .doesNotContain("STARTED");
        // no Vector API module either: the kernels say they are the slow fallback, and why
        assertThat(out).contains("backend=scalar").contains(JvmRequirements.VECTOR_FLAG);
    }

    @Test
    void shouldFindNothingMissingInTheTestJvmWhichHasTheFlags() {
        assertThat(JvmRequirements.missingRequired(Object.class.getModule(),
                org.agrona.concurrent.UnsafeBuffer.class.getModule())).isEmpty();
        assertThat(Descent.kernels().slowPathWarning()).isEmpty();
        assertThat(JvmRequirements.kernelWarning("scalar")).contains("SCALAR");
    }

    private static String readAll(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
