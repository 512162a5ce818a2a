package io.switchboard.api.sla;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import org.bson.Document;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;

/**
 * Not a test: times {@code GET /api/sla/summary}'s computation on the embedded store (mongo-java-server,
 * memory backend) with 100,000 conversations and 150,000 stopped clocks. Run after {@code test-compile}:
 * {@code java -cp inbox-api/target/test-classes:inbox-api/target/classes:<test classpath> io.switchboard.api.sla.SlaSummaryBenchmark [conversations]}.
 */
public final class SlaSummaryBenchmark {

    public static void main(String[] args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        MongoServer server = new MongoServer(new MemoryBackend());
        server.bind("127.0.0.1", 0);
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + server.getLocalAddress().getPort())) {
            MongoTemplate mongo = new MongoTemplate(client, "bench");
            Instant now = Instant.parse("2026-03-10T12:00:00Z");
            Random r = new Random(42);
            String[] channels = {"email", "telegram", "vk", "facebook", "phone", "webform"};
            String[] statuses = {"open", "pending", "snoozed", "resolved", "resolved", "resolved"};
            long t0 = System.nanoTime();
            List<Document> conversations = new ArrayList<>();
            List<Document> outcomes = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Instant first = now.minusSeconds(r.nextInt(30 * 24 * 3600));
                String status = statuses[r.nextInt(statuses.length)];
                String channel = channels[r.nextInt(channels.length)];
                conversations.add(new Document("_id", "c" + i).append("channel", channel).append("status", status)
                        .append("assignee", r.nextBoolean() ? null : "agent" + r.nextInt(20)).append("lastMessageAt", Date.from(first))
                        .append("firstCustomerMessageAt", Date.from(first)).append("createdAt", Date.from(first))
                        .append("awaitingSince", r.nextInt(3) == 0 ? Date.from(first) : null)
                        .append("sla", new Document("policy", "default").append("nextDueAt",
                                status.equals("resolved") ? null : Date.from(now.plusSeconds(r.nextInt(7200) - 3600)))));
                for (String metric : i % 2 == 0 ? new String[]{"firstResponse", "resolution", "nextResponse"} : new String[]{"firstResponse"}) {
                    long wall = r.nextInt(48 * 3600);
                    outcomes.add(new Document("_id", "c" + i + ":" + metric + ":1").append("metric", metric).append("channel", channel)
                            .append("stoppedAt", Date.from(first.plusSeconds(wall))).append("wallSeconds", wall)
                            .append("businessSeconds", wall / 3).append("breached", wall > 3600).append("priority", "normal"));
                }
                if (conversations.size() == 1000) {
                    mongo.getCollection("conversations").insertMany(conversations);
                    conversations.clear();
                }
                if (outcomes.size() >= 1000) {
                    mongo.getCollection("slaOutcomes").insertMany(outcomes);
                    outcomes.clear();
                }
            }
            if (!conversations.isEmpty()) {
                mongo.getCollection("conversations").insertMany(conversations);
            }
            if (!outcomes.isEmpty()) {
                mongo.getCollection("slaOutcomes").insertMany(outcomes);
            }
            new io.switchboard.store.SlaRollups(mongo).rebuild(now);
            System.out.printf("seeded %d conversations in %d ms%n", n, Duration.ofNanos(System.nanoTime() - t0).toMillis());
            for (int run = 0; run < 3; run++) {
                long s = System.nanoTime();
                mongo.count(new org.springframework.data.mongodb.core.query.Query(org.springframework.data.mongodb.core.query.Criteria
                        .where("status").ne("resolved").and("lastMessageAt").ne(null)), "conversations");
                long a = System.nanoTime();
                mongo.find(new org.springframework.data.mongodb.core.query.Query(org.springframework.data.mongodb.core.query.Criteria
                        .where("status").ne("resolved")), Document.class, "conversations").size();
                long b = System.nanoTime();
                mongo.find(new org.springframework.data.mongodb.core.query.Query(org.springframework.data.mongodb.core.query.Criteria
                        .where("stoppedAt").gte(Date.from(now.minus(Duration.ofDays(7))))), Document.class, "slaOutcomes").size();
                long c = System.nanoTime();
                System.out.printf("count %d ms, find unresolved %d ms, find outcomes 7d %d ms%n", (a - s) / 1_000_000, (b - a) / 1_000_000,
                        (c - b) / 1_000_000);
            }
            StaticListableBeanFactory beans = new StaticListableBeanFactory();
            beans.addBean("clock", Clock.fixed(now, java.time.ZoneOffset.UTC));
            SlaSummaryController controller = new SlaSummaryController(mongo, beans.getBeanProvider(Clock.class),
                    new io.switchboard.api.security.Visibility(mongo));
            for (String[] q : new String[][]{{"2026-03-03T00:00:00Z", "2026-03-10T00:00:00Z", null, null},
                    {"2026-03-03T00:00:00Z", "2026-03-10T00:00:00Z", "telegram", "channel"}}) {
                for (int run = 0; run < 5; run++) {
                    long s = System.nanoTime();
                    controller.summary(q[0], q[1], q[2], q[3], null, null);
                    System.out.printf("summary channel=%s groupBy=%s run %d: %d ms%n", q[2], q[3], run,
                            Duration.ofNanos(System.nanoTime() - s).toMillis());
                }
            }
        } finally {
            server.shutdownNow();
        }
    }

    private SlaSummaryBenchmark() {
    }
}
