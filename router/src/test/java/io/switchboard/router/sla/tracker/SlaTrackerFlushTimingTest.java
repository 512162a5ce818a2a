package io.switchboard.router.sla.tracker;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the tracker decides when it writes a batch, not when it recomputed it: a batch can take longer
 * than the deadline it computed is away. A clock that reads later inside the batch's write
 * ({@code SlaTracker.Writes#flush}) stands for the time that passed, and the scheduler's firing of the
 * breach is stored at that moment, as if it ran in between. Real tracker on the in-process store.
 */
class SlaTrackerFlushTimingTest {

    private static final Instant RECOMPUTED = Instant.parse("2026-03-09T10:00:00Z");
    private static final Instant WRITTEN = RECOMPUTED.plusSeconds(5);
    private static final String CONFIG = """
            {"policies": [{"name": "default", "targets": {"normal": {"firstResponse": "PT1H"}}}]}
            """;

    private MongoClient client;
    private MongoTemplate mongo;
    private SlaTracker tracker;
    private String conversationId;
    /** The scheduler's work between the recompute and the write, run on the write's first clock reading. */
    private Runnable meanwhile = () -> { };

    /** RECOMPUTED, except inside the batch's write, where it is WRITTEN. */
    private final Clock clock = new Clock() {
        @Override
        public Instant instant() {
            boolean inWrite = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE).walk(frames -> frames.anyMatch(
                    f -> f.getDeclaringClass().getName().endsWith("SlaTracker$Writes") && f.getMethodName().equals("flush")));
            if (!inWrite) {
                return RECOMPUTED;
            }
            Runnable once = meanwhile;
            meanwhile = () -> { };
            once.run();
            return WRITTEN;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    };

    @BeforeEach
    void wire() {
        String database = "sla-flush-" + UUID.randomUUID();
        client = MongoClients.create(InMemoryStore.uri().replace("/switchboard-test", "/" + database));
        mongo = new MongoTemplate(client, database);
        mongo.insert(new Document("_id", 1L).append("json", CONFIG).append("savedAt", Date.from(RECOMPUTED)), SlaDocuments.CONFIGS);
        SlaTrackerProperties props = new SlaTrackerProperties(Duration.ofHours(1), Duration.ofHours(2), Duration.ofDays(2), 0.8,
                Duration.ofMillis(200), Duration.ofSeconds(30));
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("clock", clock));
        tracker = new SlaTracker(mongo, new SlaConfigSource(mongo, props), props, beans.getBeanProvider(StoreDurability.class),
                beans.getBeanProvider(Clock.class));
        // waiting for a first response since 59 min 59 s before the recompute: due one second after it
        conversationId = "c-" + UUID.randomUUID();
        Date since = Date.from(RECOMPUTED.minus(Duration.ofHours(1)).plusSeconds(1));
        mongo.insert(new Document("_id", conversationId).append("channel", "telegram").append("account", "default")
                .append("status", "open").append("priority", "normal").append("lastMessageAt", since)
                .append("firstCustomerMessageAt", since).append("awaitingSince", since).append("tags", List.of()),
                Conversation.COLLECTION);
    }

    @AfterEach
    void unwire() {
        client.close();
    }

    private String breachKey() {
        return conversationId + ":firstResponse:1:breach";
    }

    private Document firstResponse() {
        return mongo.findById(conversationId, Document.class, Conversation.COLLECTION).get("sla", Document.class)
                .get("firstResponse", Document.class);
    }

    @Test
    void aTimerDueBeforeTheWriteGoesInTheSecondOfTheWriteWhichTheSchedulerStillReads() {
        tracker.track(conversationId, RECOMPUTED);

        assertThat(firstResponse().getDate("dueAt").toInstant()).isEqualTo(RECOMPUTED.plusSeconds(1));
        assertThat(mongo.findById(breachKey(), Document.class, SlaDocuments.TIMERS)).isNotNull();
        // not in the second it is due (passed by the time it is written), but in the write's own
        Document slot = mongo.findById(WRITTEN.getEpochSecond(), Document.class, SlaDocuments.SLOTS);
        assertThat(slot).isNotNull();
        assertThat(slot.getList("keys", String.class)).contains(breachKey());
        assertThat(mongo.findById(RECOMPUTED.plusSeconds(1).getEpochSecond(), Document.class, SlaDocuments.SLOTS)).isNull();
    }

    @Test
    void aBreachTheSchedulerFiredBetweenTheRecomputeAndTheWriteStaysBreached() {
        meanwhile = () -> mongo.insert(new Document("_id", breachKey()).append("state", SlaScheduler.PUBLISHED), SlaDocuments.FIRINGS);

        tracker.track(conversationId, RECOMPUTED);

        assertThat(mongo.findById(breachKey(), Document.class, SlaDocuments.FIRINGS)).isNotNull();
        assertThat(firstResponse().getBoolean("breached")).isTrue();
    }

    @Test
    void withoutAFiringTheClockIsNotMarkedBreachedByTheTracker() {
        tracker.track(conversationId, RECOMPUTED);

        // the scheduler, not the tracker, decides a breach (it publishes the event): the state waits for it
        assertThat(firstResponse().getBoolean("breached")).isFalse();
    }
}
