package io.switchboard;

import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The Kubernetes manifests and the Grafana dashboard in deploy/ stay consistent with the product. */
class DeploymentManifestsTest {

    static List<JsonNode> manifests() throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        for (String doc : Files.readString(Path.of("..", "deploy", "k8s", "switchboard.yaml")).split("(?m)^---\\s*$")) {
            if (!doc.isBlank()) {
                JsonNode node = new YAMLMapper().readTree(doc);
                if (node != null && node.has("kind")) {
                    docs.add(node);
                }
            }
        }
        return docs;
    }

    @Test
    void everyServiceHasProbesOnActuatorAndTheRouterHasNoMoreReplicasThanPartitions() throws Exception {
        List<JsonNode> docs = manifests();
        int partitions = docs.stream().filter(d -> d.path("kind").asString().equals("ConfigMap")).findFirst().orElseThrow()
                .path("data").path("SWITCHBOARD_ROUTER_PARTITIONS").asInt();
        List<String> workloads = new ArrayList<>();
        for (JsonNode d : docs) {
            String kind = d.path("kind").asString();
            if (!kind.equals("Deployment") && !kind.equals("StatefulSet")) {
                continue;
            }
            String name = d.path("metadata").path("name").asString();
            workloads.add(name);
            JsonNode container = d.path("spec").path("template").path("spec").path("containers").get(0);
            assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).as(name)
                    .isEqualTo("/actuator/health/readiness");
            assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).as(name)
                    .isEqualTo("/actuator/health/liveness");
            if (name.equals("router")) {
                assertThat(d.path("spec").path("replicas").asInt()).isBetween(1, partitions);
            }
        }
        assertThat(workloads).containsAll(DockerComposeTest.deployableModules());
    }

    @Test
    void theDashboardQueriesMetricsTheProductPublishes() throws Exception {
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(Path.of("..", "deploy", "grafana",
                "switchboard-dashboard.json")));
        String queries = dashboard.path("panels").toString();
        assertThat(queries).contains("switchboard_router_messages_total", "switchboard_router_deadletters_total",
                "kafka_consumer_fetch_manager_records_lag_max", "switchboard_router_delivery_total");
        // the router tags switchboard.sla.events with type, metric and late (SlaScheduler): group by those, not others
        assertThat(queries).contains("sum by (metric, type) (increase(switchboard_sla_events_total[1h]))");
    }
}
