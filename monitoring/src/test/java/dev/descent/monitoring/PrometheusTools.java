package dev.descent.monitoring;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Finds the Prometheus binaries that scripts/fetch-prometheus.sh unpacks into {@code <repo>/.tools/prometheus}
 * (or {@code $DESCENT_PROMETHEUS_HOME/usr/bin}). When they are absent the test is skipped with a clear
 * message, unless {@code CI=true}: then it fails, since CI must run it.
 */
final class PrometheusTools {
    private PrometheusTools() {
    }

    /** The repository root (tests run in the monitoring module folder). */
    static Path repoRoot() {
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("grafana")) && Files.isRegularFile(p.resolve("monitoring/pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (with grafana/ and monitoring/) above " + here);
    }

    static Path prometheus() {
        return binary("prometheus");
    }

    static Path promtool() {
        return binary("promtool");
    }

    private static Path binary(String name) {
        String home = System.getenv("DESCENT_PROMETHEUS_HOME");
        Path dir = home != null && !home.isBlank() ? Paths.get(home) : repoRoot().resolve(".tools/prometheus");
        Path bin = dir.resolve("usr/bin").resolve(name);
        boolean present = Files.isExecutable(bin);
        String message = name + " not found at " + bin + ": run scripts/fetch-prometheus.sh (scripts/test.sh does)";
        if (!present && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(message + " — CI=true, so this test must not be skipped");
        }
        assumeTrue(present, message);
        return bin;
    }
}
