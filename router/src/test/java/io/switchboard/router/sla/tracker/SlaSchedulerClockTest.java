package io.switchboard.router.sla.tracker;

import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.SlaEvent;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterProperties;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Conversation;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.bson.Document;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.support.StaticListableBeanFactory;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The scheduler on a clock the test moves: with a first-response target of 10 s the warning fires at
 * exactly 8 s (80%) and the breach at exactly 10 s, each once, and nothing a millisecond earlier.
 * The tracker and scheduler are the real ones on a real store and a real (embedded KRaft) broker; only
 * time is the test's, and the scheduler is polled by the test instead of its own thread, so what fires
 * when is decided by the clock alone (no sleeps, no timing tolerance).
 */
@EmbeddedKafka(partitions = 1, topics = Topics.SLA_EVENTS)
class SlaSchedulerClockTest {

    /** A clock that stands still until the test moves it. */
    static final class TestClock extends Clock {
        private volatile Instant now;

        TestClock(Instant start) {
            this.now = start;
        }

        void set(Instant t) {
            now = t;
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }
    }

    /**
     * Not on a whole second: the scheduler reads timers by the second they fall in, so the moments just before the
     * warning and the breach (7.999 s, 9.999 s) fall in the same second as them and only the exact time keeps them back.
     */
    private static final Instant WROTE = Instant.parse("2026-03-09T10:00:00.300Z");

    private MongoClient client;
    private MongoTemplate mongo;
    private DefaultKafkaProducerFactory<String, byte[]> producers;
    private Consumer<String, byte[]> consumer;
    private final TestClock clock = new TestClock(WROTE);
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private SlaTracker tracker;
    private SlaScheduler scheduler;

    @BeforeEach
    void wire(EmbeddedKafkaBroker broker) {
        String database = "sla-clock-" + UUID.randomUUID();
        client = MongoClients.create(InMemoryStore.uri().replace("/switchboard-test", "/" + database));
        mongo = new MongoTemplate(client, database);
        producers = new DefaultKafkaProducerFactory<>(KafkaTestUtils.producerProps(broker), new StringSerializer(),
                new ByteArraySerializer());
        consumer = new DefaultKafkaConsumerFactory<>(KafkaTestUtils.consumerProps(broker, "clock-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        // assigned rather than subscribed: no group join to wait for, and every event of the topic from its start
        consumer.assign(List.of(new TopicPartition(Topics.SLA_EVENTS, 0)));
        consumer.seekToBeginning(consumer.assignment());
        SlaTrackerProperties props = new SlaTrackerProperties(Duration.ofSeconds(10), Duration.ofMinutes(1), Duration.ofHours(1),
                0.8, Duration.ofMillis(200), Duration.ofSeconds(30));
        StaticListableBeanFactory beans = new StaticListableBeanFactory(Map.of("clock", clock));
        ObjectProvider<Clock> clocks = beans.getBeanProvider(Clock.class);
        ObjectProvider<StoreDurability> durability = beans.getBeanProvider(StoreDurability.class);
        tracker = new SlaTracker(mongo, new SlaConfigSource(mongo, props), props, durability, clocks);
        scheduler = new SlaScheduler(mongo, new KafkaTemplate<>(producers), props,
                new RouterProperties("clock-test", "router-clock", 1, null), meters, durability, clocks);
    }

    @AfterEach
    void unwire() {
        consumer.close();
        producers.destroy();
        client.close();
    }

    /** Moves the clock and runs one scheduler poll, which returns after the broker acknowledged what it fired. */
    private void pollAt(Duration sinceWrote) {
        clock.set(WROTE.plus(sinceWrote));
        scheduler.poll();
    }

    /** The conversation's events on the topic, read until there are {@code expected}, then briefly for any extra. */
    private List<SlaEvent> published(String conversationId, int expected) {
        List<SlaEvent> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        long settle = Long.MAX_VALUE;
        while (System.nanoTime() < Math.min(deadline, settle)) {
            KafkaTestUtils.getRecords(consumer, Duration.ofMillis(200)).forEach(r -> {
                SlaEvent e = ContractJson.fromBytes(r.value(), SlaEvent.class);
                if (e.conversationId().equals(conversationId)) {
                    out.add(e);
                }
            });
            if (out.size() >= expected && settle == Long.MAX_VALUE) {
                settle = System.nanoTime() + Duration.ofMillis(500).toNanos();
            }
        }
        return out;
    }

    /** What the scheduler recorded as fired: the claims it confirmed after the broker's acknowledgement. */
    private List<String> fired(String conversationId) {
        List<String> keys = new ArrayList<>();
        for (String kind : List.of("warning", "breach")) {
            Document firing = mongo.findById(conversationId + ":firstResponse:1:" + kind, Document.class, SlaDocuments.FIRINGS);
            if (firing != null) {
                assertThat(firing.getString("state")).isEqualTo(SlaScheduler.PUBLISHED);
                keys.add(kind);
            }
        }
        return keys;
    }

    private double meter(String type) {
        Counter c = meters.find("switchboard.sla.events").tags("type", type, "metric", "firstResponse", "late", "false").counter();
        return c == null ? 0 : c.count();
    }

    /** A conversation whose customer wrote at {@code at} and waits, seen by the tracker. */
    private void customerWroteAt(String id, java.time.Instant at) {
        Date when = Date.from(at);
        mongo.insert(new Document("_id", id).append("channel", "telegram").append("account", "default").append("status", "open")
                .append("priority", "normal").append("lastMessageAt", when).append("firstCustomerMessageAt", when)
                .append("awaitingSince", when), Conversation.COLLECTION);
        tracker.track(id, at);
    }

    @Test
    void theWarningFiresAt80PercentAndTheBreachAtTheDeadline_eachOnce_neverBefore() {
        String id = "clock-" + UUID.randomUUID();
        customerWroteAt(id, WROTE);
        Document timer = mongo.findById(id + ":firstResponse:1:breach", Document.class, SlaDocuments.TIMERS);
        assertThat(timer.getDate("fireAt").toInstant()).isEqualTo(WROTE.plusSeconds(10));

        pollAt(Duration.ZERO);
        pollAt(Duration.ofMillis(7999));
        assertThat(fired(id)).as("nothing before 80% of the target").isEmpty();
        assertThat(meter("warning")).isZero();

        pollAt(Duration.ofSeconds(8));
        assertThat(fired(id)).containsExactly("warning");
        assertThat(meter("warning")).isEqualTo(1.0);

        pollAt(Duration.ofMillis(8200));
        pollAt(Duration.ofMillis(9999));
        assertThat(fired(id)).as("no early breach").containsExactly("warning");
        assertThat(meter("warning")).as("no second warning").isEqualTo(1.0);
        assertThat(meter("breach")).isZero();
        assertThat(firstResponse(id).getBoolean("breached")).isFalse();

        pollAt(Duration.ofSeconds(10));
        assertThat(fired(id)).containsExactly("warning", "breach");
        assertThat(meter("breach")).as("switchboard.sla.events{type=breach,metric=firstResponse,late=false}").isEqualTo(1.0);
        assertThat(firstResponse(id).getBoolean("breached")).isTrue();

        // later polls, the tracker recomputing meanwhile (a redelivered event), and a full scan: nothing again
        tracker.track(id, WROTE);
        for (int ms = 10_200; ms <= 14_000; ms += 200) {
            pollAt(Duration.ofMillis(ms));
        }
        pollAt(Duration.ofMinutes(3)); // past the slot span: the scheduler scans all timers by fireAt
        assertThat(meter("warning")).isEqualTo(1.0);
        assertThat(meter("breach")).isEqualTo(1.0);

        List<SlaEvent> events = published(id, 2);
        assertThat(events).hasSize(2);
        SlaEvent warning = events.get(0);
        assertThat(warning.type()).isEqualTo(SlaEvent.WARNING);
        assertThat(warning.eventId()).isEqualTo(id + ":firstResponse:1:warning");
        assertThat(warning.scheduledFor()).isEqualTo(WROTE.plusSeconds(8));
        assertThat(warning.firedAt()).isEqualTo(WROTE.plusSeconds(8));
        assertThat(warning.dueAt()).isEqualTo(WROTE.plusSeconds(10));
        assertThat(warning.late()).isFalse();
        SlaEvent breach = events.get(1);
        assertThat(breach.type()).isEqualTo(SlaEvent.BREACHED);
        assertThat(breach.eventId()).isEqualTo(id + ":firstResponse:1:breach");
        assertThat(breach.scheduledFor()).isEqualTo(WROTE.plusSeconds(10));
        assertThat(breach.firedAt()).isEqualTo(WROTE.plusSeconds(10));
        assertThat(breach.late()).isFalse();
    }

    private Document firstResponse(String id) {
        return (Document) mongo.findById(id, Document.class, Conversation.COLLECTION).get("sla", Document.class).get("firstResponse");
    }

    @Test
    void aBreachFiredAfterItsSecondHasPassedIsLate_andCountedSo() {
        String id = "clock-late-" + UUID.randomUUID();
        customerWroteAt(id, WROTE);
        // the first poll comes long after both deadlines (a router that was down)
        pollAt(Duration.ofSeconds(30));
        List<SlaEvent> events = published(id, 2);
        assertThat(events).extracting(SlaEvent::type).containsExactly(SlaEvent.WARNING, SlaEvent.BREACHED);
        assertThat(events).allSatisfy(e -> assertThat(e.late()).isTrue());
        assertThat(meters.find("switchboard.sla.events").tags("type", "breach", "metric", "firstResponse", "late", "true")
                .counter().count()).isEqualTo(1.0);
        assertThat(meter("breach")).isZero();
    }
}
