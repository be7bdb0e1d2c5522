package dev.descent.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The scripts a new user runs: the test totals line, and a plain ./mvnw finding a JDK 25. */
class ScriptsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void shouldTotalTheTestsOfEveryModuleInOneLine(@TempDir Path checkout) throws Exception {
        report(checkout, "engine", "A", 10, 0, 0, 1);
        report(checkout, "engine", "B", 5, 1, 0, 0);
        report(checkout, "samples", "C", 7, 0, 2, 0);
        String out = run(Map.of(), "bash", ROOT.resolve("scripts/test-totals.sh").toString(), checkout.toString());
        assertThat(out.strip()).isEqualTo("tests: 22 run, 1 failed, 2 errors, 1 skipped (engine 15, samples 7)");
    }

    @Test
    void shouldLetAPlainMvnwFindAJdk25WhenTheDefaultJavaIsOlder() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_HOME", "");
        env.put("MAVEN_OPTS", "");
        env.put("DESCENT_JDK_SELECTED", "");
        env.put("PATH", "/usr/bin:/bin");
        String out = run(env, ROOT.resolve("mvnw").toString(), "-v");
        assertThat(out).containsPattern("Java version: (2[5-9]|[3-9][0-9])");
    }

    private static void report(Path checkout, String module, String name, int tests, int failures, int errors,
                               int skipped) throws Exception {
        Path dir = Files.createDirectories(checkout.resolve(module).resolve("target/surefire-reports"));
        Files.writeString(dir.resolve("TEST-" + name + ".xml"), String.format("<?xml version=\"1.0\"?>%n"
                + "<testsuite xmlns:xsi=\"x\" name=\"%s\" time=\"0.1\" tests=\"%d\" errors=\"%d\" skipped=\"%d\" "
                + "failures=\"%d\">%n</testsuite>%n", name, tests, errors, skipped, failures));
    }

    private static String run(Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(cmd)).directory(ROOT.toFile()).redirectErrorStream(true);
        env.forEach((k, v) -> {
            if (v.isEmpty()) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(out).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
