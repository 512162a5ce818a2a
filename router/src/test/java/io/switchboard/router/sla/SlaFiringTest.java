package io.switchboard.router.sla;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.SlaEvent;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.support.Await;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Conversation;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * SLA warnings and breaches on a real (embedded KRaft) broker and the in-process store, with a
 * first-response target of 2 seconds: once, in time, with two router instances, after downtime,
 * and taken over from an instance that died between claiming and publishing.
 */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-sla-a",
        "switchboard.sla.first-response=PT2S", "switchboard.sla.next-response=PT3S", "switchboard.sla.resolution=PT1H",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR",
        "logging.level.state.change.logger=WARN", "spring.kafka.consumer.properties.session.timeout.ms=6000"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SlaFiringTest {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    MongoTemplate mongo;
    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    io.switchboard.store.InboxStore store;
    @Autowired
    MeterRegistry meters;

    static final List<SlaEvent> seen = new CopyOnWriteArrayList<>();
    /** When the reader got each event (by eventId), on the system clock: what "published in time" means to a consumer. */
    static final Map<String, Instant> receivedAt = new java.util.concurrent.ConcurrentHashMap<>();
    static Thread reader;
    static volatile boolean reading = true;

    @BeforeAll
    static void startReading(@Autowired EmbeddedKafkaBroker broker) {
        reader = new Thread(() -> {
            try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(
                    KafkaTestUtils.consumerProps(broker, "sla-reader-" + UUID.randomUUID(), false),
                    new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
                // every partition assigned at once (the router created the topic at startup): no group join that
                // could delay the first events past the 1 s the timing test allows
                consumer.assign(consumer.partitionsFor(Topics.SLA_EVENTS).stream()
                        .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList());
                consumer.seekToBeginning(consumer.assignment());
                while (reading) {
                    KafkaTestUtils.getRecords(consumer, Duration.ofMillis(200)).forEach(r -> {
                        SlaEvent event = ContractJson.fromBytes(r.value(), SlaEvent.class);
                        receivedAt.putIfAbsent(event.eventId(), Instant.now());
                        seen.add(event);
                    });
                }
            }
        }, "sla-event-reader");
        reader.setDaemon(true);
        reader.start();
    }

    @AfterAll
    static void stopReading() throws InterruptedException {
        reading = false;
        reader.join(5000);
    }

    private static final Duration WAIT = Duration.ofSeconds(20);

    /** A conversation whose customer wrote at {@code firstMessage}, announced like the router does. */
    private String customerWrote(Instant firstMessage) throws Exception {
        String id = "sla-" + UUID.randomUUID();
        Date at = Date.from(firstMessage);
        mongo.insert(new Document("_id", id).append("channel", "telegram").append("account", "default")
                .append("status", "open").append("priority", "normal").append("createdAt", at)
                .append("firstMessageAt", at).append("lastMessageAt", at).append("firstCustomerMessageAt", at)
                .append("lastCustomerMessageAt", at).append("awaitingSince", at), Conversation.COLLECTION);
        announce(id, firstMessage);
        return id;
    }

    private void announce(String id, Instant at) throws Exception {
        ConversationEvent e = new ConversationEvent(1, "message.added:" + id + ":" + at.toEpochMilli(),
                ConversationEvent.MESSAGE_ADDED, id, null, Channel.TELEGRAM, at, Map.of("direction", "inbound"));
        kafka.send(Topics.CONVERSATION_EVENTS, id, ContractJson.toBytes(e)).get();
    }

    private static List<SlaEvent> eventsOf(String conversationId, String type) {
        List<SlaEvent> out = new ArrayList<>();
        for (SlaEvent e : seen) {
            if (e.conversationId().equals(conversationId) && e.type().equals(type)) {
                out.add(e);
            }
        }
        return out;
    }

    /** Waits for the first breach, then a while longer, so a duplicate would have shown up. */
    private List<SlaEvent> breachesSettled(String id) throws InterruptedException {
        Await.until(() -> eventsOf(id, SlaEvent.BREACHED).size(), n -> n >= 1, WAIT);
        Thread.sleep(1500);
        return eventsOf(id, SlaEvent.BREACHED);
    }

    private Document sla(String id) {
        Document c = mongo.findById(id, Document.class, Conversation.COLLECTION);
        return c == null ? null : (Document) c.get("sla");
    }

    private double breachesCounted(MeterRegistry registry, String late) {
        io.micrometer.core.instrument.Counter c = registry.find("switchboard.sla.events")
                .tags("type", "breach", "metric", "firstResponse", "late", late).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void anUnansweredConversationBreachesOnce_withinASecondOfItsDeadline_afterOneWarning() throws Exception {
        double countedBefore = breachesCounted(meters, "false");
        Instant wrote = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        String id = customerWrote(wrote);

        List<SlaEvent> breaches = breachesSettled(id);
        assertThat(breaches).hasSize(1);
        SlaEvent breach = breaches.get(0);
        // measured on the system clock by a consumer, not taken from the event's own firedAt: the breach was
        // readable on the topic less than a second after its deadline, and not before it
        Instant received = receivedAt.get(breach.eventId());
        assertThat(received).isAfterOrEqualTo(wrote.plusSeconds(2));
        assertThat(Duration.between(wrote.plusSeconds(2), received)).as("deadline to consumer").isLessThan(Duration.ofSeconds(1));
        assertThat(breachesCounted(meters, "false") - countedBefore).as("switchboard.sla.events counted the breach once")
                .isEqualTo(1.0);
        assertThat(breach.eventId()).isEqualTo(id + ":firstResponse:1:breach");
        assertThat(breach.metric()).isEqualTo("firstResponse");
        assertThat(breach.policy()).isEqualTo("default");
        assertThat(breach.dueAt()).isEqualTo(wrote.plusSeconds(2));
        assertThat(breach.scheduledFor()).isEqualTo(wrote.plusSeconds(2));
        assertThat(breach.late()).as("fired within 1 s of the deadline (fired %s, due %s)", breach.firedAt(), breach.dueAt())
                .isFalse();
        assertThat(breach.firedAt()).isAfterOrEqualTo(breach.dueAt());
        List<SlaEvent> warnings = eventsOf(id, SlaEvent.WARNING);
        assertThat(warnings).hasSize(1);
        assertThat(warnings.get(0).scheduledFor()).isEqualTo(wrote.plusMillis(1600));

        Document stored = sla(id);
        assertThat(stored.getString("policy")).isEqualTo("default");
        assertThat(((Document) stored.get("firstResponse")).getBoolean("breached")).isTrue();
        assertThat(((Document) stored.get("firstResponse")).getDate("dueAt").toInstant()).isEqualTo(wrote.plusSeconds(2));
        assertThat(((Document) stored.get("resolution")).getDate("dueAt").toInstant()).isEqualTo(wrote.plus(Duration.ofHours(1)));
        assertThat(stored.getDate("nextDueAt").toInstant()).as("the earliest running deadline").isEqualTo(wrote.plusSeconds(2));
    }

    @Test
    void aReplyBeforeTheDeadlineStopsTheClock_metWithItsDurations_andNothingFires() throws Exception {
        Instant wrote = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        String id = customerWrote(wrote);
        Await.until(() -> sla(id), s -> s != null, WAIT);
        Instant replied = wrote.plusMillis(500);
        mongo.updateFirst(org.springframework.data.mongodb.core.query.Query.query(
                        org.springframework.data.mongodb.core.query.Criteria.where("_id").is(id)),
                new org.springframework.data.mongodb.core.query.Update().set("firstResponseAt", Date.from(replied))
                        .set("lastAgentMessageAt", Date.from(replied)).unset("awaitingSince"), Conversation.COLLECTION);
        announce(id, replied);

        Document first = Await.until(() -> (Document) sla(id).get("firstResponse"), f -> f.get("stoppedAt") != null, WAIT);
        assertThat(first.getBoolean("breached")).isFalse();
        assertThat(first.getLong("wallMs")).isEqualTo(500L);
        assertThat(first.getLong("businessMs")).isEqualTo(500L);
        Document outcome = Await.until(() -> mongo.findById(id + ":firstResponse:1", Document.class, "slaOutcomes"),
                o -> o != null, WAIT);
        assertThat(outcome.getBoolean("met")).isTrue();
        // counted once in the hour it stopped in, for the summary; the conversation stays in the live figures
        String hour = "h:" + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH").withZone(java.time.ZoneOffset.UTC)
                .format(outcome.getDate("stoppedAt").toInstant());
        assertThat(outcome.get("rollupHours")).isEqualTo(java.util.List.of(hour));
        Document rollup = mongo.findById(hour, Document.class, io.switchboard.store.SlaRollups.ROLLUPS);
        assertThat(rollup.get("m", Document.class)).containsKey(id + ":firstResponse:1");
        io.switchboard.store.SlaRollups rollups = new io.switchboard.store.SlaRollups(mongo);
        Await.until(() -> rollups.live().stream().filter(e -> e.id().equals(id)).findFirst().orElse(null),
                e -> e != null && "open".equals(e.status()) && e.awaitingSince() == null, WAIT);
        Thread.sleep(2500); // past the 2 s deadline
        assertThat(eventsOf(id, SlaEvent.BREACHED)).isEmpty();
    }

    @Test
    void aDeadlineMissedWhileNoRouterRan_firesOnceFlaggedLate() throws Exception {
        Instant wrote = Instant.now().minus(Duration.ofMinutes(10)).truncatedTo(ChronoUnit.MILLIS);
        String id = customerWrote(wrote);
        List<SlaEvent> breaches = breachesSettled(id);
        assertThat(breaches).hasSize(1);
        assertThat(breaches.get(0).late()).isTrue();
        assertThat(breaches.get(0).dueAt()).isEqualTo(wrote.plusSeconds(2));
        assertThat(eventsOf(id, SlaEvent.WARNING)).hasSize(1);
    }

    @Test
    void aClaimLeftByAnInstanceThatDiedBeforePublishing_isTakenOverAndPublishedOnce() throws Exception {
        Instant wrote = Instant.now().minus(Duration.ofMinutes(5)).truncatedTo(ChronoUnit.MILLIS);
        String id = "sla-" + UUID.randomUUID();
        mongo.insert(new Document("_id", id + ":firstResponse:1:breach").append("state", "claimed")
                .append("owner", "router-that-died").append("claimedAt", Date.from(Instant.now().minus(Duration.ofMinutes(2)))),
                "slaFirings");
        mongo.insert(new Document("_id", id + ":firstResponse:1:warning").append("state", "published")
                .append("owner", "router-that-died"), "slaFirings");
        Date at = Date.from(wrote);
        mongo.insert(new Document("_id", id).append("channel", "telegram").append("account", "default").append("status", "open")
                .append("priority", "normal").append("lastMessageAt", at).append("firstCustomerMessageAt", at)
                .append("awaitingSince", at), Conversation.COLLECTION);
        announce(id, wrote);

        assertThat(breachesSettled(id)).hasSize(1);
        assertThat(eventsOf(id, SlaEvent.WARNING)).as("the warning was published before the crash").isEmpty();
        assertThat(mongo.findById(id + ":firstResponse:1:breach", Document.class, "slaFirings").getString("state"))
                .isEqualTo("published");
    }

    @Test
    void aTelegramMessageStartsTheClocks_andTheSentReplyStopsFirstResponse_endToEnd() throws Exception {
        long chat = 7000 + (System.nanoTime() % 1000);
        String update = io.switchboard.router.support.Fixtures.text("telegram/zammad_private_text.json")
                .replace("\"id\":111111", "\"id\":" + chat);
        io.switchboard.contract.InboundEnvelope envelope = io.switchboard.contract.InboundEnvelope.ofText(
                "telegram:default:update:sla-" + chat, Channel.TELEGRAM, "default", Map.of(), Instant.now(),
                "telegram:default:chat:" + chat, "application/json", update);
        kafka.send(Topics.inbound(Channel.TELEGRAM), envelope.affinityKey(), ContractJson.toBytes(envelope)).get();
        String id = Await.until(() -> mongo.findById("telegram:default:chat:" + chat, Document.class, "threadKeys"),
                d -> d != null, WAIT).getString("conversationId");
        Document first = Await.until(() -> sla(id) == null ? null : (Document) sla(id).get("firstResponse"), f -> f != null, WAIT);
        Instant wrote = Instant.ofEpochSecond(1441645532); // the fixture's message date
        assertThat(first.getDate("startedAt").toInstant()).isEqualTo(wrote);
        assertThat(first.getDate("dueAt").toInstant()).isEqualTo(wrote.plusSeconds(2));

        // the agent's reply went out: the adapter's delivery report stops the clock (late, the fixture is from 2015)
        store.appendMessage(id, new io.switchboard.store.Message("r-" + chat, "out:r-" + chat, "outbound", "message", "telegram",
                null, wrote.plusSeconds(60), "admin", "hello", List.of(), "pending", null, null, null, null, false));
        Instant sent = wrote.plusSeconds(61);
        io.switchboard.contract.DeliveryReport report = new io.switchboard.contract.DeliveryReport(1, "r-" + chat, Channel.TELEGRAM,
                "default", id, io.switchboard.contract.DeliveryReport.Status.SENT, "555", null, 1, sent);
        kafka.send(Topics.DELIVERY_REPORTS, id, ContractJson.toBytes(report)).get();
        Document stopped = Await.until(() -> (Document) sla(id).get("firstResponse"), f -> f.get("stoppedAt") != null, WAIT);
        assertThat(stopped.getDate("stoppedAt").toInstant()).isEqualTo(sent);
        assertThat(stopped.getBoolean("breached")).isTrue();
        assertThat(stopped.getLong("wallSeconds")).isEqualTo(61L);
        Document outcome = Await.until(() -> mongo.findById(id + ":firstResponse:1", Document.class, "slaOutcomes"),
                o -> o != null, WAIT);
        assertThat(outcome.getBoolean("met")).isFalse();
        assertThat(outcome.getString("channel")).isEqualTo("telegram");
    }

    @Test
    @Order(Integer.MAX_VALUE) // last: the second instance's partitions return to the first only after its session timeout
    void twoRouterInstancesSharingTheBrokerAndStoreFireEachBreachOnce() throws Exception {
        try (ConfigurableApplicationContext second = new SpringApplicationBuilder(RouterApplication.class)
                .run("--spring.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
                        "--spring.mongodb.uri=" + InMemoryStore.uri(),
                        "--switchboard.router.instance-id=router-sla-b",
                        "--switchboard.sla.first-response=PT2S", "--switchboard.sla.next-response=PT3S",
                        "--switchboard.sla.resolution=PT1H", "--logging.level.kafka=WARN", "--logging.level.org.apache.kafka=WARN",
                        "--logging.level.de.bwaldvogel=ERROR", "--logging.level.state.change.logger=WARN",
                        // static members do not leave on close: the survivor gets the partitions back after this
                        "--spring.kafka.consumer.properties.session.timeout.ms=6000")) {
            MeterRegistry secondMeters = second.getBean(MeterRegistry.class);
            // Enough conversations that both trackers (3 of the 6 partitions each) handle some, and that the
            // warnings and breaches coming due together take one instance longer than a poll interval to publish,
            // so the other instance's polls claim part of them: each first-response warning and breach is then
            // raced for by two schedulers, and must still come out once.
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                ids.add(customerWrote(Instant.now().truncatedTo(ChronoUnit.MILLIS)));
            }
            Await.until(() -> ids.stream().filter(id -> eventsOf(id, SlaEvent.BREACHED).isEmpty()).count(), n -> n == 0, WAIT);
            Thread.sleep(1500); // time for a duplicate to show
            for (String id : ids) {
                assertThat(eventsOf(id, SlaEvent.BREACHED)).as("breaches of " + id).hasSize(1);
                assertThat(eventsOf(id, SlaEvent.WARNING)).as("warnings of " + id).hasSize(1);
                assertThat(mongo.findById(id + ":firstResponse:1:breach", Document.class, "slaFirings").getString("state"))
                        .isEqualTo("published");
            }
            // both instances fired: the confirmed claims name each of them as the publisher of some
            Map<String, Long> firedBy = new java.util.TreeMap<>();
            for (String id : ids) {
                for (String kind : List.of("warning", "breach")) {
                    Document firing = mongo.findById(id + ":firstResponse:1:" + kind, Document.class, "slaFirings");
                    firedBy.merge(firing.getString("owner"), 1L, Long::sum);
                }
            }
            assertThat(firedBy).as("firings per instance").containsOnlyKeys("router-sla-a", "router-sla-b");
            assertThat(firedBy.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2L * ids.size());
            // and counted the events it published in its own registry: at least those of this test's conversations it
            // owns (a timer an earlier test of this class left in the shared store may add some, and a claim whose lease
            // ran out on a loaded machine is taken over and published, and counted, once more: ADR 0130)
            double countedBySecond = secondMeters.find("switchboard.sla.events").counters().stream()
                    .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
            assertThat(countedBySecond).isGreaterThanOrEqualTo(firedBy.get("router-sla-b").doubleValue());
        }
    }
}
