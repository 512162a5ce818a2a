package io.switchboard.api.conversations;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.switchboard.api.InboxApiApplication;
import io.switchboard.contract.ContractJson;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import org.bson.Document;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * The agents' queue API over HTTP on the inbox-api alone (embedded broker, in-memory store), at a
 * fixed "now". Subclasses share one application context; each uses its own channel accounts and
 * tags so their data do not meet.
 */
@SpringBootTest(classes = {InboxApiApplication.class, ApiTestBase.FixedClock.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}", "INBOX_ADMIN_PASSWORD=admin-secret",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.state.change.logger=WARN",
        // channel accounts as configuration names them (AdminApiTest lists them; no adapter runs here)
        "switchboard.telegram.accounts.shop.bot-token=12345:tg-secret-token",
        "switchboard.telegram.accounts.shop.webhook-secret=tg-hook-secret",
        "switchboard.telegram.accounts.idle.bot-token=",
        "switchboard.email.accounts.support.imap-url=imaps://support:mail-password@imap.example.org/INBOX",
        "switchboard.email.accounts.support.smtp-url=smtps://support:mail-password@smtp.example.org",
        "switchboard.vk.accounts.community.group-id=777",
        "switchboard.vk.accounts.community.access-token=vk-secret-token"})
@EmbeddedKafka(partitions = 1)
abstract class ApiTestBase {

    static final Instant NOW = Instant.parse("2026-05-04T12:00:00Z");
    static MongoServer server;

    @TestConfiguration
    static class FixedClock {
        @Bean
        Clock clock() {
            return Clock.fixed(NOW, ZoneOffset.UTC);
        }
    }

    static synchronized void startStore() {
        if (server == null) {
            server = new MongoServer(new MemoryBackend());
            server.bind("127.0.0.1", 0);
        }
    }

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        startStore();
        registry.add("spring.mongodb.uri", () -> "mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/queue-api-test");
    }

    @LocalServerPort
    int port;
    @Autowired
    MongoTemplate mongo;
    @Autowired
    InboxStore store;

    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> call(String method, String path, String user, String password, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> admin(String method, String path, String body) throws Exception {
        return call(method, path, "admin", "admin-secret", body);
    }

    static JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 299);
        return ContractJson.mapper().readTree(r.body());
    }

    static List<String> ids(JsonNode page) {
        return page.get("items").valueStream().map(i -> i.get("id").asString()).toList();
    }

    void user(String name, String password, String role) throws Exception {
        int s = admin("POST", "/api/admin/users", "{\"username\":\"" + name + "\",\"password\":\"" + password
                + "\",\"roles\":[\"" + role + "\"]}").statusCode();
        assertThat(s).isIn(201, 409);
    }

    /** A conversation of contact {@code contact} on {@code channel}/{@code account}, with one customer message. */
    Conversation conversation(String contact, String channel, String account, String chat, Instant at, String text) {
        Conversation c = store.conversationFor(new InboxStore.ThreadRequest(channel, account, channel + ":" + account + ":chat:" + chat,
                List.of(), contact, "Customer " + contact, null, Map.of("chat_id", chat), at, Duration.ofDays(7)));
        String key = channel + ":" + account + ":" + chat + ":" + at.toEpochMilli();
        Message m = new Message(key, key, Message.INBOUND, "message", channel, key, at, "Customer " + contact, text, List.of(),
                null, null, null, null, null, false);
        store.claimMessageKey(key, c.id(), null);
        store.appendMessage(c.id(), m);
        store.recordCustomerMessage(c.id(), m);
        return store.find(c.id()).orElseThrow();
    }

    /** Stores the SLA clocks as the router's tracker would: the earliest running deadline. */
    void due(String conversationId, Instant nextDueAt) {
        mongo.updateFirst(Query.query(where("_id").is(conversationId)), new Update().set("sla",
                new Document("policy", "default").append("nextDueAt", Date.from(nextDueAt))
                        .append("firstResponse", new Document("cycle", "1").append("dueAt", Date.from(nextDueAt))
                                .append("runningSince", Date.from(nextDueAt.minusSeconds(3600))).append("breached", false))),
                Conversation.COLLECTION);
    }
}
