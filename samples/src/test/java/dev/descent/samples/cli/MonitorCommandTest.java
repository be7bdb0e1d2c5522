package dev.descent.samples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MonitorCommandTest {
    private String saved;

    @BeforeEach
    void pointAtTheCheckout() {
        saved = System.getProperty("descent.home");
        System.setProperty("descent.home", Path.of("..").toAbsolutePath().normalize().toString());
    }

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty("descent.home");
        } else {
            System.setProperty("descent.home", saved);
        }
    }

    @Test
    void shouldPrintTheTrainOptionAScrapeConfigAndTheDashboardForThePort() {
        CliRunner.Run run = CliRunner.run("monitor", "--port", "9555");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("./descent train --metrics-port 9555").contains("localhost:9555")
                .contains("honor_labels: true").contains("descent-training.json").contains("grafana/prometheus.yml");
        CliRunner.Run docker = CliRunner.run("monitor", "--docker");
        assertThat(docker.out()).contains("--metrics-host 0.0.0.0").contains("host.docker.internal:9464")
                .contains("docker compose up -d");
    }

    @Test
    void shouldRejectAPortOutOfRange() {
        CliRunner.Run run = CliRunner.run("monitor", "--port", "70000");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--port must be between 1 and 65535, was 70000");
    }
}
