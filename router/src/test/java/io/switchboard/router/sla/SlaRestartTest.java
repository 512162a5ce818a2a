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
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A router is stopped while a conversation's first-response deadline passes; started again, it
 * publishes the breach once, flagged late. Uses its own database so no other test's router fires it.
 */
@EmbeddedKafka(partitions = 1)
class SlaRestartTest {

    private static String[] args(EmbeddedKafkaBroker broker) {
        return new String[]{"--spring.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
                "--spring.mongodb.uri=" + InMemoryStore.uri().replace("/switchboard-test", "/sla-restart-test"),
                "--switchboard.router.instance-id=router-restart", "--switchboard.sla.first-response=PT3S",
                "--logging.level.kafka=WARN", "--logging.level.org.apache.kafka=WARN", "--logging.level.de.bwaldvogel=ERROR",
                "--logging.level.state.change.logger=WARN"};
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDeadlinePassingWhileTheRouterIsDown_firesOnceAtStartup_flaggedLate(EmbeddedKafkaBroker broker) throws Exception {
        String id = "restart-" + UUID.randomUUID();
        Instant wrote = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (ConfigurableApplicationContext router = new SpringApplicationBuilder(RouterApplication.class).run(args(broker))) {
            MongoTemplate mongo = router.getBean(MongoTemplate.class);
            KafkaTemplate<String, byte[]> kafka = router.getBean(KafkaTemplate.class);
            Date at = Date.from(wrote);
            mongo.insert(new Document("_id", id).append("channel", "telegram").append("account", "default").append("status", "open")
                    .append("priority", "normal").append("lastMessageAt", at).append("firstCustomerMessageAt", at)
                    .append("awaitingSince", at), Conversation.COLLECTION);
            ConversationEvent e = new ConversationEvent(1, "message.added:" + id, ConversationEvent.MESSAGE_ADDED, id, null,
                    Channel.TELEGRAM, wrote, Map.of("direction", "inbound"));
            kafka.send(Topics.CONVERSATION_EVENTS, id, ContractJson.toBytes(e)).get();
            Await.until(() -> mongo.findById(id + ":firstResponse:1:breach", Document.class, "slaTimers"), t -> t != null,
                    Duration.ofSeconds(20));
        }
        // down past the deadline
        long wait = Duration.between(Instant.now(), wrote.plusSeconds(5)).toMillis();
        if (wait > 0) {
            Thread.sleep(wait);
        }
        try (ConfigurableApplicationContext router = new SpringApplicationBuilder(RouterApplication.class).run(args(broker));
             Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(
                     KafkaTestUtils.consumerProps(broker, "restart-reader-" + UUID.randomUUID(), false),
                     new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            consumer.subscribe(List.of(Topics.SLA_EVENTS));
            List<SlaEvent> breaches = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                KafkaTestUtils.getRecords(consumer, Duration.ofMillis(300)).forEach(r -> {
                    SlaEvent ev = ContractJson.fromBytes(r.value(), SlaEvent.class);
                    if (ev.conversationId().equals(id) && ev.type().equals(SlaEvent.BREACHED)) {
                        breaches.add(ev);
                    }
                });
                if (!breaches.isEmpty() && settleUntil == Long.MAX_VALUE) {
                    settleUntil = System.nanoTime() + Duration.ofMillis(1500).toNanos(); // time for a duplicate to show
                }
            }
            assertThat(breaches).hasSize(1);
            assertThat(breaches.get(0).late()).isTrue();
            assertThat(breaches.get(0).dueAt()).isEqualTo(wrote.plusSeconds(3));
            assertThat(breaches.get(0).firedAt()).isAfter(wrote.plusSeconds(4));
        }
    }
}
