package io.switchboard.it;

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
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.mongodb.MongoDBContainer;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The pipeline on real Kafka and MongoDB images (where Docker exists; skipped otherwise): the
 * product with its embedded parts switched off by the external addresses, a second router instance
 * in the same consumer group stopped mid-stream, and the broker paused while webhooks arrive.
 * Nothing acknowledged is lost, nothing is duplicated. The in-process tests cover the same paths
 * on the embedded broker and store.
 */
@Testcontainers(disabledWithoutDocker = true)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistributedPipelineIT {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.2");
    @Container
    static final MongoDBContainer MONGO = new MongoDBContainer("mongo:8.0");

    static final String PASSWORD = "it-admin-password";
    static final String SECRET = "it-secret";
    static final JsonMapper JSON = JsonMapper.builder().build();
    static ConfigurableApplicationContext product;
    static ConfigurableApplicationContext secondRouter;
    static String base;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        String mongoUri = MONGO.getReplicaSetUrl("switchboard");
        product = SwitchboardApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + KAFKA.getBootstrapServers(), "--spring.mongodb.uri=" + mongoUri,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD, "--INBOX_INSTANCE_ID=it-1", "--TELEGRAM_BOT_TOKEN=1:it",
                "--TELEGRAM_WEBHOOK_SECRET=" + SECRET, "--TELEGRAM_API_URL=http://127.0.0.1:9",
                "--switchboard.store.retention.audit=P30D");
        secondRouter = new SpringApplicationBuilder(RouterApplication.class).run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + KAFKA.getBootstrapServers(), "--spring.mongodb.uri=" + mongoUri,
                "--INBOX_INSTANCE_ID=it-2");
        base = "http://127.0.0.1:" + product.getEnvironment().getProperty("local.server.port");
    }

    @AfterAll
    static void stop() {
        if (secondRouter != null && secondRouter.isActive()) {
            secondRouter.close();
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
    void aRouterStoppedMidStreamAndABrokerPausedLoseAndDuplicateNothing() throws Exception {
        for (int n = 1; n <= 100; n++) {
            deliver(n);
            if (n == 40) {
                secondRouter.close(); // its partitions move to the remaining router
            }
            if (n == 70) {
                KAFKA.getDockerClient().pauseContainerCmd(KAFKA.getContainerId()).exec();
                Thread.sleep(3000);
                KAFKA.getDockerClient().unpauseContainerCmd(KAFKA.getContainerId()).exec();
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
