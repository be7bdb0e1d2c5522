package dev.descent.samples.cli;

import dev.descent.samples.Home;
import dev.descent.samples.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code descent monitor}: how to point Prometheus and Grafana at a training run's metrics. */
@Command(name = "monitor", mixinStandardHelpOptions = true,
        description = "Print how to watch a training run live: the train option, a Prometheus scrape config for "
                + "the port, and how to start Prometheus + Grafana with the shipped dashboards.")
public final class MonitorCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "9464", description = "the port given to train --metrics-port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--docker", description = "Prometheus and Grafana run in Docker (grafana/docker-compose.yml)")
    boolean docker;

    @Override
    public Integer call() {
        if (port < 1 || port > 65535) {
            throw new UserError("--port must be between 1 and 65535, was " + port);
        }
        Path grafana = Home.root().resolve("grafana");
        if (!Files.isRegularFile(grafana.resolve("prometheus.yml"))) {
            throw new UserError("cannot find " + grafana.resolve("prometheus.yml")
                    + ": run from a Descent checkout (the ./descent launcher sets -Ddescent.home)");
        }
        String host = docker ? "0.0.0.0" : "127.0.0.1";
        String target = (docker ? "host.docker.internal" : "localhost") + ":" + port;
        System.out.printf(Locale.ROOT, """
                1. Train with metrics on (the server stays on %s; it never binds wider unless told):
                     ./descent train --metrics-port %d%s --metrics-linger 30
                   then open http://127.0.0.1:%d/metrics (Prometheus text), /api/jobs (JSON), /health.

                2. Prometheus: scrape that port every 5 s, keeping Descent's job label:
                     scrape_configs:
                       - job_name: descent
                         honor_labels: true
                         static_configs:
                           - targets: ["%s"]
                   (%s has this block; %s)

                3. Grafana: %s
                   Dashboard: %s (provisioned with datasource uid descent-prometheus).
                   Panels: loss/accuracy per split, learning rate, per-layer gradient norms (vanishing < 1e-6,
                   exploding > 1e2), update ratios, activation memory per backprop strategy, throughput, step time,
                   checkpoints, anomalies, JVM. Metric reference: docs/metrics.md; setup: docs/monitoring.md.
                """, host, port, docker ? " --metrics-host 0.0.0.0" : "", port, target,
                grafana.resolve("prometheus.yml"),
                docker ? "cd " + grafana + " && docker compose up -d starts Prometheus on 127.0.0.1:9090"
                        : "prometheus --config.file=" + grafana.resolve("prometheus.yml")
                                + " after replacing its target with " + target,
                docker ? "http://127.0.0.1:3000 (from the same docker compose; admin/admin)"
                        : "add a Prometheus datasource with uid descent-prometheus and import the dashboard",
                grafana.resolve("dashboards/descent-training.json"));
        return 0;
    }
}
