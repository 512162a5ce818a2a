package io.switchboard.it;

import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import io.switchboard.SwitchboardApplication;
import io.switchboard.router.RouterApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import io.switchboard.store.StoreFeatures;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.IndexInfo;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.mongodb.MongoDBContainer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pipeline on real Kafka and MongoDB images (where Docker exists; skipped otherwise): the
 * product with its embedded parts switched off by the external addresses, a second router instance
 * in its own JVM (same consumer group) killed with SIGKILL mid-stream (no clean close, no offset
 * commit, no LeaveGroup), and the broker container stopped and started again while webhooks arrive
 * (same data, same port). Nothing acknowledged is lost, nothing is duplicated. The in-process tests
 * cover the same paths on the embedded broker and store (StandaloneCrashRecoveryTest kills a whole
 * product the same way).
 */
@Testcontainers(disabledWithoutDocker = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistributedPipelineIT {

    /** Fixed, so that a restarted broker container is found where its clients (and its advertised listener) expect it. */
    static final int KAFKA_PORT = freePort();
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.2")
            .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPortBindings(
                    new PortBinding(Ports.Binding.bindPort(KAFKA_PORT), new ExposedPort(9092))));
    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:8.0");

    static final String PASSWORD = "it-admin-password";
    static final String SECRET = "it-secret";
    static final JsonMapper JSON = JsonMapper.builder().build();
    /** A dead member's partitions move after this (static membership keeps them until then). */
    static final String SESSION_TIMEOUT = "--spring.kafka.consumer.properties.session.timeout.ms=10000";
    static ConfigurableApplicationContext product;
    static Process secondRouter;
    static String base;
    final HttpClient http = HttpClient.newHttpClient();

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void start() throws Exception {
        String mongoUri = MONGO.getReplicaSetUrl("switchboard");
        product = SwitchboardApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + KAFKA.getBootstrapServers(), "--spring.mongodb.uri=" + mongoUri,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD, "--INBOX_INSTANCE_ID=it-1", "--TELEGRAM_BOT_TOKEN=1:it",
                "--TELEGRAM_WEBHOOK_SECRET=" + SECRET, "--TELEGRAM_API_URL=http://127.0.0.1:9",
                "--switchboard.store.retention.audit=P30D", SESSION_TIMEOUT);
        base = "http://127.0.0.1:" + product.getEnvironment().getProperty("local.server.port");
        // the second router in a JVM of its own (this test's class path), so that it can be killed like a crashed pod
        int routerPort = freePort();
        secondRouter = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
                "-cp", System.getProperty("java.class.path"), RouterApplication.class.getName(),
                "--server.port=" + routerPort, "--spring.kafka.bootstrap-servers=" + KAFKA.getBootstrapServers(),
                "--spring.mongodb.uri=" + mongoUri, "--INBOX_INSTANCE_ID=it-2", SESSION_TIMEOUT,
                "--logging.level.org.apache.kafka=WARN")
                .redirectErrorStream(true).redirectOutput(Path.of("target", "it-second-router.log").toFile()).start();
        // ready = its listeners hold partitions (the kafka health component), so it takes part in the stream
        HttpClient client = HttpClient.newHttpClient();
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            assertThat(secondRouter.isAlive()).as("second router process").isTrue();
            try {
                HttpResponse<String> health = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + routerPort
                        + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString());
                if (health.statusCode() == 200) {
                    break;
                }
            } catch (IOException notYet) {
                // still starting
            }
            assertThat(System.currentTimeMillis()).as("second router ready").isLessThan(deadline);
            Thread.sleep(500);
        }
    }

    @AfterAll
    static void stop() {
        if (secondRouter != null) {
            secondRouter.destroyForcibly();
        }
        if (product != null) {
            product.close();
        }
    }

    int post(int n) throws Exception {
        String update = "{\"update_id\":" + n + ",\"message\":{\"message_id\":" + n + ",\"date\":1741794405,"
                + "\"chat\":{\"id\":" + (500 + n % 20) + ",\"type\":\"private\"},\"from\":{\"id\":" + (500 + n % 20)
                + ",\"first_name\":\"IT\"},\"text\":\"it message " + n + "\"}}";
        HttpRequest r = HttpRequest.newBuilder(URI.create(base + "/webhooks/telegram/default"))
                .header("Content-Type", "application/json").header("X-Telegram-Bot-Api-Secret-Token", SECRET)
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(update)).build();
        return http.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    /** While the broker is down, an update is not acknowledged (Telegram will post it again: {@link #deliver}). */
    void deliverWhileDown(int n) throws Exception {
        assertThat(post(n)).as("no 200 without the broker").isNotEqualTo(200);
    }

    /** Posts like Telegram does: until the answer is 200. */
    void deliver(int n) throws Exception {
        for (int attempt = 0; attempt < 60; attempt++) {
            if (post(n) == 200) {
                return;
            }
            Thread.sleep(1000);
        }
        throw new AssertionError("update " + n + " was never accepted");
    }

    JsonNode api(String path) throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Basic "
                + Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8))).build();
        return JSON.readTree(http.send(r, HttpResponse.BodyHandlers.ofString()).body());
    }

    List<String> allTexts() throws Exception {
        List<String> texts = new ArrayList<>();
        String cursor = null;
        do {
            JsonNode page = api("/api/conversations?limit=200" + (cursor == null ? "" : "&cursor=" + cursor));
            for (JsonNode item : page.path("items")) {
                for (JsonNode m : api("/api/conversations/" + item.path("id").asString()).path("messages")) {
                    texts.add(m.path("text").asString());
                }
            }
            cursor = page.path("nextCursor").isNull() ? null : page.path("nextCursor").asString(null);
        } while (cursor != null);
        return texts;
    }

    @Test
    @Order(1)
    void aRouterKilledMidStreamAndABrokerRestartedLoseAndDuplicateNothing() throws Exception {
        for (int n = 1; n <= 100; n++) {
            deliver(n);
            if (n == 40) {
                // SIGKILL: whatever batch it was in is neither committed nor left; its partitions move to the
                // remaining router after the session timeout and the uncommitted records are processed again
                secondRouter.destroyForcibly();
                assertThat(secondRouter.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            if (n == 70) {
                // a real restart: the broker process stops (SIGTERM, then SIGKILL after 10 s) and starts again
                // on the same log (the container's file system) and the same port; webhooks meanwhile are
                // refused (Telegram retries them) and the consumers reconnect
                KAFKA.getDockerClient().stopContainerCmd(KAFKA.getContainerId()).withTimeout(10).exec();
                deliverWhileDown(n + 1);
                KAFKA.getDockerClient().startContainerCmd(KAFKA.getContainerId()).exec();
            }
        }
        long deadline = System.currentTimeMillis() + 120_000;
        List<String> texts = allTexts();
        while (new HashSet<>(texts).size() < 100 && System.currentTimeMillis() < deadline) {
            Thread.sleep(500);
            texts = allTexts();
        }
        Set<String> expected = new HashSet<>();
        for (int n = 1; n <= 100; n++) {
            expected.add("it message " + n);
        }
        assertThat(new HashSet<>(texts)).isEqualTo(expected);
        assertThat(texts).hasSize(100);
    }

    /**
     * What only real MongoDB has, used where it helps: the queue's q= through the text index (the
     * embedded store scans by substring), and TTL indexes for data given a retention period (the
     * embedded store deletes it with a scheduled cleanup). Runs after the pipeline test, on its data:
     * 20 chats, each previewing its last message ("it message 81" .. "it message 100").
     */
    @Test
    @Order(2)
    void onRealMongoDbTheSearchUsesTheTextIndexAndRetentionUsesTtlIndexes() throws Exception {
        StoreFeatures features = product.getBean(StoreFeatures.class);
        assertThat(features.realMongo()).isTrue();
        assertThat(features.textSearch()).isTrue();
        assertThat(features.ttlIndexes()).isTrue();
        MongoTemplate mongo = product.getBean(MongoTemplate.class);
        assertThat(mongo.indexOps("conversations").getIndexInfo()).extracting(IndexInfo::getName).contains("conversation_text_v2");
        assertThat(mongo.indexOps("audit").getIndexInfo()).anySatisfy(i -> {
            assertThat(i.getName()).isEqualTo("ttl_at");
            assertThat(i.getExpireAfter()).contains(Duration.ofDays(30));
        });

        // a phrase of one preview finds that conversation only; whole words, any case
        JsonNode found = api("/api/conversations?q=Message%2097");
        assertThat(found.path("items")).hasSize(1);
        assertThat(found.path("items").get(0).path("preview").asString()).isEqualTo("it message 97");
        // "message 9" is no phrase of any preview in words (97 is one word): nothing, where a substring scan finds 10
        assertThat(api("/api/conversations?q=message%209").path("items")).isEmpty();
        assertThat(api("/api/conversations?q=nosuchword").path("items")).isEmpty();
    }
}
