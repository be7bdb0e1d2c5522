package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped alerting rules (grafana/alerts/descent-alerts.yml) are valid ({@code promtool check rules}) and fire
 * exactly when they should on synthetic series ({@code promtool test rules descent-alerts.test.yml}: vanishing,
 * exploding by level and by growth, non-finite loss, and the cases that must stay quiet). The same rules against a
 * real run: samples' GradientAlertsEndToEndTest.
 */
class AlertRulesTest {
    @Test
    void shouldPassPromtoolCheckAndTheRuleUnitTests() throws Exception {
        Path promtool = PrometheusTools.promtool();
        Path dir = PrometheusTools.repoRoot().resolve("grafana/alerts");
        assertThat(Files.readString(PrometheusTools.repoRoot().resolve("grafana/prometheus.yml")))
                .as("prometheus.yml loads the rules").contains("alerts/descent-alerts.yml");
        String check = run(dir, promtool.toString(), "check", "rules", "descent-alerts.yml");
        assertThat(check).contains("SUCCESS: 3 rules found");
        String test = run(dir, promtool.toString(), "test", "rules", "descent-alerts.test.yml");
        assertThat(test).contains("SUCCESS");
    }

    private static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", String.join(" ", command)).isTrue();
        assertThat(p.exitValue()).as("%s said:\n%s", String.join(" ", command), out).isZero();
        return out;
    }
}
