package io.switchboard;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import tools.jackson.databind.JsonNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml (the distributed form) has a service for every deployable module, configured by environment only. */
class DockerComposeTest {

    static JsonNode compose() throws Exception {
        Path file = Path.of("..", "docker-compose.yml");
        assertThat(file).exists();
        return new YAMLMapper().readTree(Files.readString(file));
    }

    /** router, inbox-api and channel-*: every module with its own Spring Boot main class. */
    static Set<String> deployableModules() {
        Set<String> modules = new TreeSet<>();
        for (JavaClass c : new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.switchboard")) {
            if (!c.isAnnotatedWith(SpringBootApplication.class)) {
                continue;
            }
            String p = c.getPackageName();
            if (p.startsWith("io.switchboard.channel.")) {
                modules.add("channel-" + p.substring("io.switchboard.channel.".length()).split("\\.")[0]);
            } else if (p.startsWith("io.switchboard.router")) {
                modules.add("router");
            } else if (p.startsWith("io.switchboard.api")) {
                modules.add("inbox-api");
            }
        }
        return modules;
    }

    @Test
    void everyModuleWithAMainClassHasAServiceBuiltFromIt() throws Exception {
        JsonNode services = compose().path("services");
        Set<String> modules = deployableModules();
        assertThat(modules).contains("router", "inbox-api", "channel-telegram");
        for (String module : modules) {
            JsonNode service = services.path(module);
            assertThat(service.isObject()).as("service " + module).isTrue();
            assertThat(service.path("image").asString()).as(module + " image").startsWith("switchboard/" + module + ":");
            JsonNode env = service.path("environment");
            assertThat(env.path("SPRING_KAFKA_BOOTSTRAP_SERVERS").asString()).as(module).isEqualTo("kafka:9092");
            assertThat(service.has("volumes")).as(module + " is configured by environment only, no mounted files").isFalse();
            assertThat(service.path("healthcheck").path("test").toString()).as(module).contains("/actuator/health");
        }
    }

    /** Services that keep or read documents: the router and inbox-api (the store), channel-email (mail over 10 MB). */
    static final Set<String> MONGO_USERS = Set.of("router", "inbox-api", "channel-email");

    /** "Each adapter runs alone against Kafka": only the store's users depend on MongoDB or are given its address. */
    @Test
    void onlyTheRouterInboxApiAndTheEmailPayloadStoreUseMongo_everyOtherAdapterNeedsKafkaOnly() throws Exception {
        JsonNode services = compose().path("services");
        for (String name : services.propertyNames()) {
            JsonNode service = services.path(name);
            String image = service.path("image").asString();
            if (!image.startsWith("switchboard/")) {
                continue;
            }
            String module = image.substring("switchboard/".length(), image.indexOf(':'));
            boolean usesMongo = MONGO_USERS.contains(module);
            assertThat(service.path("depends_on").has("mongo")).as(name + " depends on mongo").isEqualTo(usesMongo);
            assertThat(service.path("environment").has("SPRING_MONGODB_URI")).as(name + " has SPRING_MONGODB_URI").isEqualTo(usesMongo);
            assertThat(service.path("depends_on").has("kafka")).as(name).isTrue();
            if (usesMongo) {
                assertThat(service.path("environment").path("SPRING_MONGODB_URI").asString()).as(name).startsWith("mongodb://mongo:27017/");
            }
        }
        assertThat(services.path("channel-email").path("environment").path("EMAIL_PAYLOAD_STORE_URI").asString())
                .contains("mongodb://mongo:27017/");
    }

    /**
     * Health checks work in the eclipse-temurin JRE image, which has bash but neither wget nor curl; and
     * every service creates its topics with the partitions of ONE setting.
     */
    @Test
    void healthChecksNeedNoWgetOrCurl_andEveryServiceReadsTheOnePartitionSetting() throws Exception {
        JsonNode services = compose().path("services");
        Set<String> partitionSettings = new TreeSet<>();
        for (String name : services.propertyNames()) {
            JsonNode service = services.path(name);
            if (!service.path("image").asString().startsWith("switchboard/")) {
                continue;
            }
            JsonNode test = service.path("healthcheck").path("test");
            assertThat(test.isArray()).as(name).isTrue();
            assertThat(test.get(0).asString()).as(name + ": exec form, no /bin/sh needed").isEqualTo("CMD");
            assertThat(test.get(1).asString()).as(name).isEqualTo("bash");
            assertThat(test.toString()).as(name).contains("/dev/tcp/127.0.0.1/8080", "GET /actuator/health", " 200 ")
                    .doesNotContain("wget", "curl");
            partitionSettings.add(service.path("environment").path("SWITCHBOARD_TOPICS_PARTITIONS").asString());
        }
        assertThat(partitionSettings).containsExactly("${SWITCHBOARD_TOPICS_PARTITIONS:-6}");
        assertThat(Files.readString(Path.of("..", ".env.example"))).contains("SWITCHBOARD_TOPICS_PARTITIONS=");
    }

    /** The health check's shell line, run by bash here against a stand-in server: 200 passes, 503 fails. */
    @Test
    void theHealthCheckCommandPassesOnlyOn200() throws Exception {
        JsonNode test = compose().path("services").path("router").path("healthcheck").path("test");
        String script = test.get(3).asString();
        for (int status : new int[]{200, 503}) {
            try (java.net.ServerSocket server = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                Thread answer = new Thread(() -> {
                    try (java.net.Socket s = server.accept()) {
                        // the whole request first, as a server does (the check writes it, then reads)
                        StringBuilder request = new StringBuilder();
                        int c;
                        while (!request.toString().endsWith("\r\n\r\n") && (c = s.getInputStream().read()) >= 0) {
                            request.append((char) c);
                        }
                        s.getOutputStream().write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\n\r\n"
                                + "{\"status\":\"" + (status == 200 ? "UP" : "DOWN") + "\",\"components\":{\"ping\":{\"status\":\"UP\"}}}")
                                .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    } catch (java.io.IOException ignored) {
                        // the check closed first
                    }
                });
                answer.start();
                Process p = new ProcessBuilder("bash", "-c", script.replace("127.0.0.1/8080", "127.0.0.1/" + server.getLocalPort()))
                        .redirectErrorStream(true).start();
                assertThat(p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
                if (status == 200) {
                    assertThat(p.exitValue()).as("exit code with 200").isZero();
                } else {
                    assertThat(p.exitValue()).as("exit code with " + status).isNotZero();
                }
                answer.join(5000);
            }
        }
    }

    @Test
    void realKafkaInKraftModeAndMongoAsAReplicaSet_andTwoRouters() throws Exception {
        JsonNode services = compose().path("services");
        assertThat(services.path("kafka").path("image").asString()).startsWith("apache/kafka:");
        assertThat(services.path("kafka").path("environment").path("KAFKA_PROCESS_ROLES").asString()).isEqualTo("broker,controller");
        assertThat(services.path("mongo").path("image").asString()).startsWith("mongo:");
        assertThat(services.path("mongo").path("command").toString()).contains("--replSet");
        List<String> routers = services.propertyNames().stream()
                .filter(n -> services.path(n).path("image").asString().startsWith("switchboard/router:")).toList();
        assertThat(routers).hasSizeGreaterThanOrEqualTo(2);
        assertThat(routers.stream().map(r -> services.path(r).path("environment").path("INBOX_INSTANCE_ID").asString()).distinct())
                .as("each router instance has its own static group membership id").hasSize(routers.size());
    }

    /** docker-compose.kafka-cluster.yml: three KRaft brokers, topics replicated 3 times, writes need 2 in-sync replicas. */
    @Test
    void theKafkaClusterOverrideRunsThreeBrokersWithReplicationThreeAndMinInsyncTwo() throws Exception {
        Path file = Path.of("..", "docker-compose.kafka-cluster.yml");
        assertThat(file).exists();
        JsonNode cluster = new YAMLMapper().readTree(Files.readString(file)).path("services");
        List<String> brokers = List.of("kafka", "kafka-2", "kafka-3");
        Set<String> nodeIds = new TreeSet<>();
        Set<String> clusterIds = new TreeSet<>();
        for (String broker : brokers) {
            JsonNode env = cluster.path(broker).path("environment");
            assertThat(env.isObject()).as(broker).isTrue();
            nodeIds.add(env.path("KAFKA_NODE_ID").asString());
            clusterIds.add(env.path("CLUSTER_ID").asString());
            assertThat(env.path("KAFKA_PROCESS_ROLES").asString()).as(broker).isEqualTo("broker,controller");
            assertThat(env.path("KAFKA_CONTROLLER_QUORUM_VOTERS").asString()).as(broker)
                    .isEqualTo("1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093");
            assertThat(env.path("KAFKA_ADVERTISED_LISTENERS").asString()).as(broker).isEqualTo("PLAINTEXT://" + broker + ":9092");
            assertThat(env.path("KAFKA_DEFAULT_REPLICATION_FACTOR").asInt()).as(broker).isEqualTo(3);
            assertThat(env.path("KAFKA_MIN_INSYNC_REPLICAS").asInt()).as(broker).isEqualTo(2);
            assertThat(env.path("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR").asInt()).as(broker).isEqualTo(3);
            assertThat(env.path("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR").asInt()).as(broker).isEqualTo(2);
            assertThat(env.path("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE").asString()).as(broker).isEqualTo("false");
        }
        assertThat(nodeIds).containsExactly("1", "2", "3");
        assertThat(clusterIds).as("one cluster id shared by the three nodes").hasSize(1);
        for (String broker : List.of("kafka-2", "kafka-3")) {
            assertThat(cluster.path(broker).path("image").asString()).startsWith("apache/kafka:");
            assertThat(cluster.path(broker).path("volumes").toString()).as(broker + " keeps its log on its own volume").contains(broker + "-data:");
            assertThat(cluster.path(broker).path("healthcheck").isObject()).as(broker).isTrue();
        }
        // every service of the base file bootstraps from all three brokers
        for (String module : deployableModules()) {
            JsonNode services = compose().path("services");
            List<String> instances = services.propertyNames().stream()
                    .filter(n -> services.path(n).path("image").asString().startsWith("switchboard/" + module + ":")).toList();
            for (String service : instances) {
                assertThat(cluster.path(service).path("environment").path("SPRING_KAFKA_BOOTSTRAP_SERVERS").asString()).as(service)
                        .isEqualTo("kafka:9092,kafka-2:9092,kafka-3:9092");
            }
        }
    }
}
