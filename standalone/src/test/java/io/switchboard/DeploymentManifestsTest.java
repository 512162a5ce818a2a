package io.switchboard;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.core.KafkaTemplate;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Kubernetes manifests and the Grafana dashboard in deploy/ stay consistent with the product: the
 * manifests are read as files; the dashboard's queries are checked against what a running product
 * (standalone, every service in this JVM) exposes on {@code /actuator/prometheus} after traffic that
 * makes every kind of metric appear, and the topics that product created against the one partition
 * setting and the shared topic configs.
 */
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

    static JsonNode manifest(List<JsonNode> docs, String kind, String name) {
        return docs.stream().filter(d -> d.path("kind").asString().equals(kind) && d.path("metadata").path("name").asString().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in deploy/k8s/switchboard.yaml"));
    }

    static JsonNode env(JsonNode container, String name) {
        for (JsonNode e : container.path("env")) {
            if (e.path("name").asString().equals(name)) {
                return e;
            }
        }
        return null;
    }

    @Test
    void everyServiceHasProbesOnActuatorAndTheRouterIsADeploymentWithNoMoreReplicasThanPartitions() throws Exception {
        List<JsonNode> docs = manifests();
        JsonNode config = manifest(docs, "ConfigMap", "switchboard-config").path("data");
        int partitions = config.path("SWITCHBOARD_TOPICS_PARTITIONS").asInt();
        assertThat(partitions).as("the one partition setting, shared by adapters and router").isPositive();
        List<String> workloads = new ArrayList<>();
        for (JsonNode d : docs) {
            String kind = d.path("kind").asString();
            if (!kind.equals("Deployment") && !kind.equals("StatefulSet")) {
                continue;
            }
            String name = d.path("metadata").path("name").asString();
            workloads.add(name);
            assertThat(kind).as(name + ": every service is a Deployment (instance ids come from the pod name)").isEqualTo("Deployment");
            JsonNode container = d.path("spec").path("template").path("spec").path("containers").get(0);
            assertThat(container.path("readinessProbe").path("httpGet").path("path").asString()).as(name)
                    .isEqualTo("/actuator/health/readiness");
            assertThat(container.path("livenessProbe").path("httpGet").path("path").asString()).as(name)
                    .isEqualTo("/actuator/health/liveness");
            JsonNode instanceId = env(container, "INBOX_INSTANCE_ID");
            assertThat(instanceId).as(name + " INBOX_INSTANCE_ID").isNotNull();
            assertThat(instanceId.path("valueFrom").path("fieldRef").path("fieldPath").asString()).as(name)
                    .isEqualTo("metadata.name");
        }
        assertThat(workloads).containsAll(DockerComposeTest.deployableModules());

        JsonNode router = manifest(docs, "Deployment", "router").path("spec");
        assertThat(router.path("replicas").asInt()).isBetween(1, partitions);
        // a rollout never runs more routers than partitions either (the surplus one would only idle)
        assertThat(router.path("strategy").path("rollingUpdate").path("maxSurge").asInt(-1)).isZero();
        // a pod replaced by a new one (new name, new static member) frees its partitions after this timeout
        assertThat(config.path("SPRING_KAFKA_CONSUMER_PROPERTIES_SESSION_TIMEOUT_MS").asInt()).isBetween(6000, 30000);
    }

    /** inbox-api keeps sessions in memory: its Service sends a client to one pod; adapters reach it on the Service's port. */
    @Test
    void inboxApiHasSessionAffinityAndItsPublicUrlIsTheServicePort() throws Exception {
        List<JsonNode> docs = manifests();
        JsonNode service = manifest(docs, "Service", "inbox-api").path("spec");
        assertThat(service.path("sessionAffinity").asString()).isEqualTo("ClientIP");
        assertThat(service.path("sessionAffinityConfig").path("clientIP").path("timeoutSeconds").asInt()).isPositive();
        int port = service.path("ports").get(0).path("port").asInt();

        JsonNode api = manifest(docs, "Deployment", "inbox-api");
        assertThat(api.path("spec").path("replicas").asInt()).isGreaterThan(1);
        JsonNode publicUrl = env(api.path("spec").path("template").path("spec").path("containers").get(0), "INBOX_PUBLIC_URL");
        assertThat(publicUrl).isNotNull();
        java.net.URI url = java.net.URI.create(publicUrl.path("value").asString());
        assertThat(url.getHost()).isEqualTo("inbox-api");
        assertThat(url.getPort() == -1 ? 80 : url.getPort()).as("INBOX_PUBLIC_URL's port is the Service's").isEqualTo(port);
        // the ingress (browsers) is sticky too: a cookie per client, so agents behind one NAT spread over the pods
        JsonNode ingress = manifest(docs, "Ingress", "inbox-api").path("metadata").path("annotations");
        assertThat(ingress.path("nginx.ingress.kubernetes.io/affinity").asString()).isEqualTo("cookie");
    }

    // ---- the dashboard against a running product ----

    /** PromQL words that are functions, keywords or aggregations, not metric names. */
    static final Set<String> PROMQL = Set.of("sum", "avg", "min", "max", "count", "rate", "irate", "increase", "by", "without",
            "histogram_quantile", "topk", "bottomk", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
            "delta", "deriv", "abs", "clamp_min", "clamp_max", "vector", "scalar", "time", "offset", "bool", "label_replace");

    /** A panel's query: the metric names it reads and the labels it groups or filters by. */
    record Query(String expr, Set<String> metrics, Set<String> labels) {
    }

    static List<Query> dashboardQueries() throws Exception {
        JsonNode dashboard = JsonMapper.builder().build().readTree(Files.readString(Path.of("..", "deploy", "grafana",
                "switchboard-dashboard.json")));
        List<Query> queries = new ArrayList<>();
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(panels::add);
        for (int i = 0; i < panels.size(); i++) {
            panels.get(i).path("panels").forEach(panels::add); // panels inside collapsed rows
            for (JsonNode target : panels.get(i).path("targets")) {
                String expr = target.path("expr").asString("");
                if (!expr.isBlank()) {
                    queries.add(parse(expr));
                }
            }
        }
        return queries;
    }

    static Query parse(String expr) {
        Set<String> labels = new TreeSet<>();
        Matcher grouping = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)").matcher(expr);
        while (grouping.find()) {
            for (String l : grouping.group(1).split(",")) {
                if (!l.isBlank()) {
                    labels.add(l.trim());
                }
            }
        }
        Matcher matchers = Pattern.compile("\\{([^}]*)}").matcher(expr);
        while (matchers.find()) {
            Matcher label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)").matcher(matchers.group(1));
            while (label.find()) {
                labels.add(label.group(1));
            }
        }
        String bare = expr.replaceAll("\\b(?:by|without)\\s*\\([^)]*\\)", " ").replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ").replaceAll("\"[^\"]*\"", " ");
        Set<String> metrics = new TreeSet<>();
        Matcher word = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*").matcher(bare);
        while (word.find()) {
            if (!PROMQL.contains(word.group())) {
                metrics.add(word.group());
            }
        }
        return new Query(expr, metrics, labels);
    }

    @Test
    void queriesAreParsedIntoMetricNamesAndLabels() {
        Query q = parse("histogram_quantile(0.99, sum by (le, uri) (rate(http_server_requests_seconds_bucket{uri=~\"/webhooks/.*\"}[5m])))");
        assertThat(q.metrics()).containsExactly("http_server_requests_seconds_bucket");
        assertThat(q.labels()).containsExactlyInAnyOrder("le", "uri");
    }

    static final int PARTITIONS = 3;
    static final String PASSWORD = "manifests-admin-password";
    static final String SECRET = "manifests-telegram-secret";
    static ConfigurableApplicationContext product;
    static FakeTelegramApi telegram;
    static Http http;

    /** Started by the first test that needs it: this JVM's standalone product, partitions set to 3, SLA targets of a second. */
    static synchronized void startProduct() throws Exception {
        if (product != null) {
            return;
        }
        telegram = new FakeTelegramApi();
        Path data = Files.createTempDirectory("switchboard-manifests-test");
        data.toFile().deleteOnExit();
        product = SwitchboardApplication.application().run("--server.port=0", "--INBOX_DATA_DIR=" + data,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD, "--INBOX_INSTANCE_ID=manifests", "--TELEGRAM_BOT_TOKEN=42:manifests-token",
                "--TELEGRAM_WEBHOOK_SECRET=" + SECRET, "--TELEGRAM_API_URL=" + telegram.url(),
                "--switchboard.topics.partitions=" + PARTITIONS,
                // clocks that warn and breach within seconds, so the SLA counter exists
                "--SLA_FIRST_RESPONSE=PT2S", "--SLA_NEXT_RESPONSE=PT2S", "--SLA_RESOLUTION=PT4S");
        http = new Http("http://127.0.0.1:" + product.getEnvironment().getProperty("local.server.port"), "admin", PASSWORD);
        http.await(() -> http.up(), up -> up, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stopProduct() {
        if (product != null) {
            product.close();
        }
        if (telegram != null) {
            telegram.close();
        }
    }

    static String update(int id, String body) {
        return "{\"update_id\":" + id + "," + body + "}";
    }

    static String message(int id, long chat, String text) {
        return update(id, "\"message\":{\"message_id\":" + id + ",\"date\":" + Instant.now().getEpochSecond()
                + ",\"chat\":{\"id\":" + chat + ",\"type\":\"private\"},\"from\":{\"id\":" + chat + ",\"first_name\":\"Dash\"},"
                + "\"text\":\"" + text + "\"}");
    }

    HttpResponse<String> webhook(String body) throws Exception {
        return http.send("POST", "/webhooks/telegram/default", body, false, "X-Telegram-Bot-Api-Secret-Token", SECRET);
    }

    /** Series of /actuator/prometheus by metric name, each with its labels. */
    static Map<String, List<Map<String, String>>> scrape() throws Exception {
        HttpResponse<String> r = http.send("GET", "/actuator/prometheus", null, true);
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, List<Map<String, String>>> series = new TreeMap<>();
        Pattern label = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
        for (String line : r.body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                Matcher m = label.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
                while (m.find()) {
                    labels.put(m.group(1), m.group(2));
                }
            }
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(labels);
        }
        return series;
    }

    /** What the dashboard reads that the product does not expose: missing metrics, and labels none of its series has. */
    static List<String> gaps(Map<String, List<Map<String, String>>> exposed) throws Exception {
        List<String> gaps = new ArrayList<>();
        for (Query q : dashboardQueries()) {
            for (String metric : q.metrics()) {
                if (!exposed.containsKey(metric)) {
                    gaps.add(metric + " (in " + q.expr() + ")");
                    continue;
                }
                for (String l : q.labels()) {
                    boolean onSome = q.metrics().stream().anyMatch(m -> exposed.getOrDefault(m, List.of()).stream()
                            .anyMatch(s -> s.containsKey(l)));
                    if (!onSome) {
                        Set<String> present = new TreeSet<>();
                        exposed.get(metric).forEach(series -> present.addAll(series.keySet()));
                        gaps.add("label " + l + " of " + metric + " (it has " + present + "; in " + q.expr() + ")");
                    }
                }
            }
        }
        return gaps;
    }

    /**
     * Drives what makes each kind of metric appear (a customer message, an agent's reply delivered, an
     * ignored update, an undecodable record dead-lettered, a publish the broker refuses, SLA clocks that
     * run out), then requires every metric name and label the dashboard queries on /actuator/prometheus.
     */
    @Test
    void everyMetricTheDashboardQueriesIsExposedByARunningProduct() throws Exception {
        startProduct();
        assertThat(webhook(message(1, 8101, "dashboard: hello")).statusCode()).isEqualTo(200);
        // a callback query is acknowledged and counted as ignored by the router
        assertThat(webhook(update(2, "\"callback_query\":{\"id\":\"7\",\"from\":{\"id\":8101,\"first_name\":\"Dash\"},\"data\":\"x\"}"))
                .statusCode()).isEqualTo(200);
        JsonNode conversation = http.await(() -> http.api("GET", "/api/conversations?channel=telegram", null).path("items"),
                items -> items.size() > 0, Duration.ofSeconds(30)).get(0);
        // an agent's reply goes out through the (fake) Bot API and its delivery report comes back
        http.api("POST", "/api/conversations/" + conversation.path("id").asString() + "/messages", "{\"text\":\"on it\"}");

        @SuppressWarnings("unchecked")
        KafkaTemplate<String, byte[]> kafka = product.getBean("kafkaTemplate", KafkaTemplate.class);
        // a record no normalizer can read: the router dead-letters it
        kafka.send(Topics.inbound(Channel.TELEGRAM), "telegram:default:chat:8199", "not an envelope".getBytes()).get(10, TimeUnit.SECONDS);
        // a record over the inbound topics' 16 MiB: the producer refuses it, the ingest failure counter counts it
        InboundEnvelope huge = InboundEnvelope.ofText("telegram:default:update:3", Channel.TELEGRAM, "default", Map.of(),
                Instant.now(), "telegram:default:chat:8102", "application/json", "x".repeat(17 * 1024 * 1024));
        try {
            kafka.send(Topics.inbound(Channel.TELEGRAM), huge.affinityKey(), ContractJson.toBytes(huge)).get(10, TimeUnit.SECONDS);
        } catch (Exception expected) {
            // RecordTooLargeException
        }

        // what this work added, by its labels: the adapter's ingest counters, and the consumer lag of the router,
        // of the adapter's outbound sender and of inbox-api's live feed
        Map<String, List<Map<String, String>>> exposed = http.await(DeploymentManifestsTest::scrape,
                m -> m.containsKey("switchboard_ingest_failures_total") && m.getOrDefault("kafka_consumer_fetch_manager_records_lag_max",
                        List.of()).stream().map(l -> l.getOrDefault("client_id", "")).filter(id -> id.contains("inbox-api-live")
                        || id.contains("switchboard-channel-telegram") || id.contains("switchboard-router")).map(id ->
                        id.contains("inbox-api-live") ? 1 : id.contains("telegram") ? 2 : 3).distinct().count() == 3,
                Duration.ofSeconds(45));
        assertThat(exposed.get("switchboard_ingest_published_total"))
                .anySatisfy(s -> assertThat(s).containsEntry("channel", "telegram").containsEntry("account", "default"));
        assertThat(exposed.get("switchboard_ingest_failures_total"))
                .anySatisfy(s -> assertThat(s).containsEntry("channel", "telegram").containsEntry("reason", "RecordTooLargeException"));
        assertThat(exposed.get("kafka_consumer_fetch_manager_records_lag_max")).extracting(s -> s.get("client_id"))
                .anySatisfy(id -> assertThat(id).contains("switchboard-router"))
                .anySatisfy(id -> assertThat(id).contains("switchboard-channel-telegram"))
                .anySatisfy(id -> assertThat(id).contains("inbox-api-live"));

        // then everything the dashboard reads
        List<String> gaps = http.await(() -> gaps(scrape()), List::isEmpty, Duration.ofSeconds(45));
        assertThat(gaps).isEmpty();
    }

    /** Whoever declared them (router, adapters), the product's topics have the one partition count and the shared configs. */
    @Test
    void theTopicsAStartedProductCreatedHaveTheConfiguredPartitionsAndTheSharedConfigs() throws Exception {
        startProduct();
        try (AdminClient admin = AdminClient.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                product.getEnvironment().getProperty("spring.kafka.bootstrap-servers")))) {
            Set<String> names = new TreeSet<>(admin.listTopics().names().get(10, TimeUnit.SECONDS));
            List<String> keyed = new ArrayList<>();
            for (Channel c : Channel.values()) {
                keyed.add(Topics.inbound(c));
                keyed.add(Topics.outbound(c));
            }
            keyed.addAll(List.of(Topics.DELIVERY_REPORTS, Topics.CONVERSATION_EVENTS, Topics.SLA_EVENTS));
            assertThat(names).containsAll(keyed).contains(Topics.ROUTER_DEAD_LETTER, Topics.CONTROL_REPLAY);
            Map<String, TopicDescription> topics = admin.describeTopics(names).allTopicNames().get(10, TimeUnit.SECONDS);
            for (String t : keyed) {
                assertThat(topics.get(t).partitions()).as(t).hasSize(PARTITIONS);
            }
            assertThat(topics.get(Topics.ROUTER_DEAD_LETTER).partitions()).hasSize(1);
            assertThat(topics.get(Topics.CONTROL_REPLAY).partitions()).hasSize(1);

            List<ConfigResource> resources = new ArrayList<>();
            for (String t : keyed) {
                resources.add(new ConfigResource(ConfigResource.Type.TOPIC, t));
            }
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, Topics.ROUTER_DEAD_LETTER));
            Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get(10, TimeUnit.SECONDS);
            for (Map.Entry<ConfigResource, Config> e : configs.entrySet()) {
                String topic = e.getKey().name();
                String expected = topic.startsWith("inbox.inbound.") || topic.equals(Topics.ROUTER_DEAD_LETTER) ? "16777216" : null;
                if (expected != null) {
                    assertThat(e.getValue().get("max.message.bytes").value()).as(topic).isEqualTo(expected);
                } else {
                    assertThat(e.getValue().get("max.message.bytes").source()).as(topic + " keeps the broker's limit")
                            .isNotEqualTo(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
                }
            }
        }
    }
}
