package io.switchboard.api.sla;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.switchboard.api.InboxApiApplication;
import io.switchboard.contract.ContractJson;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.data.mongodb.core.MongoTemplate;
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
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The SLA parts of the agents' API on a small data set whose figures were worked out by hand,
 * at a fixed "now" of 2026-03-10T12:00:00Z.
 */
@SpringBootTest(classes = {InboxApiApplication.class, SlaApiTest.FixedClock.class},
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}", "INBOX_ADMIN_PASSWORD=admin-secret",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.state.change.logger=WARN"})
@EmbeddedKafka(partitions = 1)
class SlaApiTest {

    static final Instant NOW = Instant.parse("2026-03-10T12:00:00Z");
    static MongoServer server;

    @TestConfiguration
    static class FixedClock {
        @Bean
        Clock clock() {
            return Clock.fixed(NOW, ZoneOffset.UTC);
        }
    }

    @BeforeAll
    static void startStore() {
        if (server == null) {
            server = new MongoServer(new MemoryBackend());
            server.bind("127.0.0.1", 0);
        }
    }

    @AfterAll
    static void stopStore() {
        // the context may be reused by a later class in this JVM: the server dies with the JVM
    }

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        startStore();
        registry.add("spring.mongodb.uri", () -> "mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/sla-api-test");
    }

    @LocalServerPort
    int port;
    @Autowired
    MongoTemplate mongo;

    final HttpClient http = HttpClient.newHttpClient();

    static Date at(String instant) {
        return Date.from(Instant.parse(instant));
    }

    HttpResponse<String> call(String method, String path, String user, String password, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ContractJson.mapper().readTree(r.body());
    }

    JsonNode admin(String method, String path, String body) throws Exception {
        return json(call(method, path, "admin", "admin-secret", body));
    }

    private void outcome(String id, String metric, String channel, String stoppedAt, long wall, boolean breached) {
        mongo.insert(new Document("_id", id).append("metric", metric).append("channel", channel).append("priority", "normal")
                .append("policy", "default").append("stoppedAt", at(stoppedAt)).append("wallSeconds", wall)
                .append("businessSeconds", wall / 2).append("breached", breached).append("met", !breached), "slaOutcomes");
    }

    private Document conversation(String id, String channel, String status, String assignee, String firstAt, String awaiting,
                                  String nextDue) {
        Document d = new Document("_id", id).append("channel", channel).append("account", "default").append("status", status)
                .append("priority", "normal").append("assignee", assignee).append("contactId", "k-" + id).append("unreachable", false)
                .append("createdAt", at(firstAt)).append("firstCustomerMessageAt", at(firstAt)).append("lastMessageAt", at(firstAt))
                .append("awaitingSince", awaiting == null ? null : at(awaiting));
        if (nextDue != null) {
            d.append("sla", new Document("policy", "default").append("nextDueAt", at(nextDue))
                    .append("firstResponse", new Document("cycle", "1").append("dueAt", at(nextDue)).append("runningSince", at(firstAt))
                            .append("breached", false))
                    .append("resolution", new Document("cycle", "1").append("dueAt", null).append("runningSince", null)
                            .append("elapsedMs", 1000L).append("breached", false)));
        }
        mongo.insert(d, "conversations");
        return d;
    }

    private void seed() throws Exception {
        if (mongo.count(new org.springframework.data.mongodb.core.query.Query(), "slaOutcomes") > 0) {
            return;
        }
        outcome("o1", "firstResponse", "telegram", "2026-03-09T01:00:00Z", 60, false);
        outcome("o2", "firstResponse", "telegram", "2026-03-09T02:30:00Z", 120, false);
        outcome("o3", "firstResponse", "telegram", "2026-03-09T02:45:00Z", 300, true);
        outcome("o4", "firstResponse", "telegram", "2026-03-09T23:59:59Z", 600, true);
        outcome("o5", "firstResponse", "email", "2026-03-09T10:00:00Z", 30, false);
        outcome("o6", "resolution", "telegram", "2026-03-09T12:00:00Z", 3600, false);
        outcome("o7", "firstResponse", "telegram", "2026-03-08T12:00:00Z", 9999, true); // before the range
        conversation("A", "telegram", "open", null, "2026-03-10T11:00:00Z", "2026-03-10T11:00:00Z", "2026-03-10T12:10:00Z");
        conversation("B", "telegram", "open", "alice", "2026-03-09T09:00:00Z", "2026-03-10T09:00:00Z", "2026-03-10T11:00:00Z");
        conversation("C", "email", "pending", null, "2026-03-10T11:30:00Z", null, null);
        conversation("D", "telegram", "resolved", null, "2026-03-10T08:00:00Z", "2026-03-10T08:00:00Z", "2026-03-10T08:30:00Z");
        conversation("E", "email", "open", "bob", "2026-03-01T10:00:00Z", "2026-03-10T11:50:00Z", "2026-03-10T14:00:00Z");
        // stored behind the router's back: counted into the rollups the summary reads by the admin rebuild
        JsonNode rebuilt = admin("POST", "/api/admin/sla/rebuild", null);
        assertThat(rebuilt.get("outcomes").asLong()).isEqualTo(7);
        assertThat(rebuilt.get("unresolvedConversations").asLong()).isEqualTo(4);
    }

    @Test
    void theSummaryMatchesTheFiguresWorkedOutByHand() throws Exception {
        seed();
        JsonNode s = admin("GET", "/api/sla/summary?from=2026-03-09T00:00:00Z&to=2026-03-10T00:00:00Z", null);
        JsonNode first = s.get("firstResponse");
        // wall seconds 30, 60, 120, 300, 600: nearest-rank p50 = 3rd = 120, p90 = 5th = 600, mean 222
        assertThat(first.get("count").asLong()).isEqualTo(5);
        assertThat(first.get("met").asLong()).isEqualTo(3);
        assertThat(first.get("breached").asLong()).isEqualTo(2);
        assertThat(first.get("breachRate").asDouble()).isEqualTo(0.4);
        assertThat(first.get("p50").asLong()).isEqualTo(120);
        assertThat(first.get("p90").asLong()).isEqualTo(600);
        assertThat(first.get("average").asDouble()).isEqualTo(222.0);
        assertThat(first.get("businessP50").asLong()).isEqualTo(60);
        assertThat(s.get("resolution").get("count").asLong()).isEqualTo(1);
        assertThat(s.get("resolution").get("p90").asLong()).isEqualTo(3600);
        assertThat(s.get("nextResponse").get("count").asLong()).isZero();
        assertThat(s.get("nextResponse").get("p50").isNull()).isTrue();
        // one day: one bucket with all 5 first responses
        assertThat(s.get("series")).hasSize(1);
        assertThat(s.get("series").get(0).get("firstResponse").get("breached").asLong()).isEqualTo(2);

        JsonNode live = s.get("live");
        assertThat(live.get("open").asLong()).isEqualTo(3);         // A, B, E
        assertThat(live.get("pending").asLong()).isEqualTo(1);      // C
        assertThat(live.get("unassigned").asLong()).isEqualTo(2);   // A, C (D is resolved)
        assertThat(live.get("waiting").asLong()).isEqualTo(3);      // A, B, E
        assertThat(live.get("atRisk").asLong()).isEqualTo(1);       // A, due 12:10 within 30 minutes
        assertThat(live.get("breachedNow").asLong()).isEqualTo(1);  // B, due 11:00
        assertThat(live.get("waitingOldestFirst").findValuesAsString("id")).containsExactly("B", "A", "E");
        assertThat(s.get("backlogByAge").findValuesAsString("bucket")).containsExactly("<1h", "1h-4h", "4h-1d", "1d-3d", ">=3d");
        assertThat(s.get("backlogByAge").findValues("count")).extracting(JsonNode::asLong).containsExactly(1L, 1L, 0L, 1L, 1L);
    }

    @Test
    void theSummaryFiltersByChannel_andBreaksDownByGroup() throws Exception {
        seed();
        JsonNode s = admin("GET", "/api/sla/summary?from=2026-03-09T00:00:00Z&to=2026-03-10T00:00:00Z&channel=telegram&groupBy=channel", null);
        JsonNode first = s.get("firstResponse");
        // 60, 120, 300, 600: p50 = 2nd = 120, p90 = 4th = 600, mean 270
        assertThat(first.get("count").asLong()).isEqualTo(4);
        assertThat(first.get("p50").asLong()).isEqualTo(120);
        assertThat(first.get("average").asDouble()).isEqualTo(270.0);
        assertThat(s.get("live").get("open").asLong()).isEqualTo(2);
        assertThat(s.get("live").get("unassigned").asLong()).isEqualTo(1);
        assertThat(s.get("groups")).hasSize(1);
        assertThat(s.get("groups").get(0).get("key").asString()).isEqualTo("telegram");
        assertThat(s.get("groups").get(0).get("firstResponse").get("breached").asLong()).isEqualTo(2);

        JsonNode all = admin("GET", "/api/sla/summary?from=2026-03-09T00:00:00Z&to=2026-03-10T00:00:00Z&groupBy=channel", null);
        assertThat(all.get("groups").findValuesAsString("key")).containsExactly("email", "telegram");
        assertThat(call("GET", "/api/sla/summary?from=yesterday", "admin", "admin-secret", null).statusCode()).isEqualTo(400);
    }

    @Test
    void conversationsShowTheStoredClocks_andTheQueueSortsByDeadline() throws Exception {
        seed();
        JsonNode a = admin("GET", "/api/conversations/A", null).get("sla");
        assertThat(a.get("policy").asString()).isEqualTo("default");
        assertThat(a.get("firstResponse").get("dueAt").asString()).isEqualTo("2026-03-10T12:10:00Z");
        assertThat(a.get("firstResponse").get("breached").asBoolean()).isFalse();
        assertThat(a.get("resolution").get("dueAt").isNull()).as("paused").isTrue();
        JsonNode b = admin("GET", "/api/conversations/B", null).get("sla");
        assertThat(b.get("firstResponse").get("breached").asBoolean()).as("past its running deadline").isTrue();

        JsonNode queue = admin("GET", "/api/conversations?sort=due&status=open,pending", null);
        // running deadlines first, soonest first; then the pending C, which has no running clock
        assertThat(queue.get("items").valueStream().map(i -> i.get("id").asString()).toList()).containsExactly("B", "A", "E", "C");
        JsonNode page = admin("GET", "/api/conversations?sort=due&status=open&limit=2", null);
        assertThat(page.get("items").valueStream().map(i -> i.get("id").asString()).toList()).containsExactly("B", "A");
        JsonNode rest = admin("GET", "/api/conversations?sort=due&status=open&limit=2&cursor=" + page.get("nextCursor").asString(), null);
        assertThat(rest.get("items").valueStream().map(i -> i.get("id").asString()).toList()).containsExactly("E");
    }

    static final String EXAMPLE = """
            {"calendars": [{"name": "office", "timezone": "Europe/Moscow",
                            "week": {"MONDAY": [["09:00", "13:00"], ["14:00", "18:00"]], "SATURDAY": [["22:00", "02:00"]]},
                            "holidays": ["2026-12-31"], "workingDays": ["2026-12-27"]}],
             "policies": [{"name": "vip-email", "calendar": "office",
                           "conditions": {"channels": ["email"], "priorities": ["urgent", "high"]},
                           "targets": {"urgent": {"firstResponse": "PT15M", "nextResponse": "PT30M", "resolution": "PT4H"},
                                       "high":   {"firstResponse": "PT1H",  "nextResponse": "PT2H",  "resolution": "P1D"}}},
                          {"name": "default", "calendar": null,
                           "targets": {"normal": {"firstResponse": "PT1H", "nextResponse": "PT2H", "resolution": "P2D"}}}]}
            """;

    @Test
    void adminsReadAndReplaceTheConfiguration_invalidOnesAreRefusedWithTheReason_agentsAreNotAllowed() throws Exception {
        JsonNode before = admin("GET", "/api/admin/sla", null);
        if (before.get("version").asLong() == 0) {
            assertThat(before.get("policies").get(0).get("name").asString()).isEqualTo("default");
            assertThat(before.get("policies").get(0).get("targets").get("normal").get("firstResponse").asString()).isEqualTo("PT1H");
        }
        JsonNode saved = admin("PUT", "/api/admin/sla", EXAMPLE);
        long version = saved.get("version").asLong();
        assertThat(version).isGreaterThan(before.get("version").asLong());
        JsonNode after = admin("GET", "/api/admin/sla", null);
        assertThat(after.get("version").asLong()).isEqualTo(version);
        assertThat(after.get("calendars").get(0).get("timezone").asString()).isEqualTo("Europe/Moscow");
        assertThat(after.get("policies").findValuesAsString("name")).containsExactly("vip-email", "default");

        HttpResponse<String> bad = call("PUT", "/api/admin/sla", "admin", "admin-secret",
                EXAMPLE.replace("\"calendar\": \"office\"", "\"calendar\": \"shop\""));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("unknown calendar 'shop'");
        HttpResponse<String> conditionsLast = call("PUT", "/api/admin/sla", "admin", "admin-secret",
                "{\"policies\": [{\"name\": \"only\", \"conditions\": {\"channels\": [\"vk\"]}, \"targets\": {\"normal\": {\"firstResponse\": \"PT1H\"}}}]}");
        assertThat(conditionsLast.statusCode()).isEqualTo(400);
        assertThat(conditionsLast.body()).contains("last policy must have no conditions");
        assertThat(call("PUT", "/api/admin/sla", "admin", "admin-secret", EXAMPLE.replace("PT15M", "15 minutes")).body())
                .contains("ISO-8601");
        assertThat(admin("GET", "/api/admin/sla", null).get("version").asLong()).as("nothing invalid stored").isEqualTo(version);

        assertThat(call("POST", "/api/admin/users", "admin", "admin-secret",
                "{\"username\":\"agent-sla\",\"password\":\"agent-secret\",\"roles\":[\"agent\"]}").statusCode()).isEqualTo(201);
        assertThat(call("GET", "/api/admin/sla", "agent-sla", "agent-secret", null).statusCode()).isEqualTo(403);
        assertThat(call("PUT", "/api/admin/sla", "agent-sla", "agent-secret", EXAMPLE).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/api/sla/summary", "agent-sla", "agent-secret", null).statusCode()).isEqualTo(200);
        assertThat(call("POST", "/api/admin/sla/rebuild", "agent-sla", "agent-secret", null).statusCode()).isEqualTo(403);
    }
}
