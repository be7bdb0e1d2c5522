package dev.descent.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The dashboards in grafana/dashboards are well-formed for Grafana's provisioning. */
class DashboardStructureTest {
    static final String DATASOURCE_UID = "descent-prometheus";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern VARIABLE = Pattern.compile("\\$(\\w+)|\\$\\{(\\w+)(?::\\w+)?}");
    private static final Set<String> GRAFANA_BUILTINS = Set.of("__rate_interval", "__interval", "__range",
            "__interval_ms", "__range_s", "__range_ms");

    static List<Path> dashboards() throws IOException {
        try (Stream<Path> files = Files.list(PrometheusTools.repoRoot().resolve("grafana/dashboards"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    /**
     * {@link #dashboards()} plus the cluster dashboards (grafana/cluster/dashboards), which only a cluster run feeds
     * and the single-JVM end-to-end test therefore cannot answer.
     */
    static List<Path> allDashboards() throws IOException {
        List<Path> all = new ArrayList<>(dashboards());
        try (Stream<Path> files = Files.list(PrometheusTools.repoRoot().resolve("grafana/cluster/dashboards"))) {
            all.addAll(files.filter(f -> f.toString().endsWith(".json")).sorted().toList());
        }
        return all;
    }

    /** Every panel, rows' nested panels included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            out.add(p);
            for (JsonNode nested : p.path("panels")) {
                out.add(nested);
            }
        }
        return out;
    }

    @Test
    void shouldProvisionTheDatasourceUidTheDashboardsUse() throws IOException {
        String ds = Files.readString(PrometheusTools.repoRoot().resolve("grafana/provisioning/datasources/prometheus.yml"));
        assertThat(ds).contains("uid: " + DATASOURCE_UID).contains("type: prometheus");
        String provider = Files.readString(PrometheusTools.repoRoot().resolve("grafana/provisioning/dashboards/descent.yml"));
        String compose = Files.readString(PrometheusTools.repoRoot().resolve("grafana/docker-compose.yml"));
        Matcher path = Pattern.compile("path: (\\S+)").matcher(provider);
        assertThat(path.find()).isTrue();
        assertThat(compose).as("compose mounts the dashboards where the provider reads them")
                .contains("./dashboards:" + path.group(1)).contains("./provisioning:/etc/grafana/provisioning");
    }

    @Test
    void shouldHaveWellFormedDashboards() throws IOException {
        List<Path> files = allDashboards();
        assertThat(files).isNotEmpty();
        Set<String> uids = new HashSet<>();
        for (Path file : files) {
            JsonNode d = JSON.readTree(file.toFile());
            String name = file.getFileName().toString();
            assertThat(d.path("uid").asText()).as("%s uid", name).isNotBlank();
            assertThat(uids.add(d.path("uid").asText())).as("%s uid is unique", name).isTrue();
            assertThat(d.path("title").asText()).as("%s title", name).isNotBlank();

            Set<String> variables = new HashSet<>();
            for (JsonNode v : d.path("templating").path("list")) {
                assertThat(v.path("name").asText()).as("%s variable name", name).isNotBlank();
                variables.add(v.path("name").asText());
                if (v.has("datasource")) {
                    assertThat(v.path("datasource").path("uid").asText()).as("%s variable %s datasource", name,
                            v.path("name").asText()).isEqualTo(DATASOURCE_UID);
                }
            }

            Set<Integer> ids = new HashSet<>();
            List<JsonNode> all = panels(d);
            assertThat(all).as("%s panels", name).isNotEmpty();
            for (JsonNode p : all) {
                String title = name + " panel '" + p.path("title").asText() + "'";
                assertThat(p.has("id")).as("%s has an id", title).isTrue();
                assertThat(ids.add(p.path("id").asInt())).as("%s id %d is unique", title, p.path("id").asInt())
                        .isTrue();
                JsonNode g = p.path("gridPos");
                assertThat(g.isObject()).as("%s gridPos", title).isTrue();
                for (String k : List.of("x", "y", "w", "h")) {
                    assertThat(g.path(k).isInt()).as("%s gridPos.%s", title, k).isTrue();
                }
                assertThat(g.path("x").asInt()).as("%s x", title).isBetween(0, 23);
                assertThat(g.path("w").asInt()).as("%s w", title).isBetween(1, 24);
                assertThat(g.path("x").asInt() + g.path("w").asInt()).as("%s fits 24 columns", title)
                        .isLessThanOrEqualTo(24);
                assertThat(g.path("h").asInt()).as("%s h", title).isPositive();
                if ("row".equals(p.path("type").asText())) {
                    continue;
                }
                assertThat(p.path("datasource").path("uid").asText()).as("%s datasource", title)
                        .isEqualTo(DATASOURCE_UID);
                assertThat(p.path("targets").size()).as("%s has queries", title).isPositive();
                for (JsonNode t : p.path("targets")) {
                    assertThat(t.path("datasource").path("uid").asText()).as("%s target datasource", title)
                            .isEqualTo(DATASOURCE_UID);
                    String expr = t.path("expr").asText();
                    assertThat(expr).as("%s expr", title).isNotBlank();
                    Matcher m = VARIABLE.matcher(expr);
                    while (m.find()) {
                        String var = m.group(1) != null ? m.group(1) : m.group(2);
                        assertThat(variables.contains(var) || GRAFANA_BUILTINS.contains(var))
                                .as("%s uses $%s, which is neither a templating variable %s nor a Grafana built-in",
                                        title, var, variables).isTrue();
                    }
                }
            }
            // a datasource reference anywhere else (annotations, nested options) must also be ours
            List<JsonNode> refs = d.findValues("datasource");
            for (JsonNode ref : refs) {
                if (ref.isObject()) {
                    assertThat(ref.path("uid").asText()).as("%s datasource reference %s", name, ref)
                            .isEqualTo(DATASOURCE_UID);
                } else {
                    assertThat(ref.asText()).as("%s datasource reference", name).isEqualTo(DATASOURCE_UID);
                }
            }
        }
    }
}
