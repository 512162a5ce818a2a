package io.switchboard.api.conversations;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.utils.KafkaTestUtils;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reply stored as pending by a process that stopped before the broker acknowledged its command would stay
 * pending for ever: no command exists that an adapter could send and report on. The sweeper marks it failed
 * and announces that; a normal reply leaves nothing for it.
 */
class ReplySweeperTest extends ApiTestBase {

    @Autowired
    ReplySweeper sweeper;
    @Autowired
    EmbeddedKafkaBroker broker;

    @Test
    void aReplyCutOffBeforeItsCommandWasQueuedIsMarkedFailedAndAnnounced_butNotBeforeTheGrace() throws Exception {
        Conversation c = conversation("sweep-1", "telegram", "shop", "7101", NOW.minusSeconds(3600), "where is my order?");

        // a normal reply settles its send: nothing is left for the sweeper
        var accepted = admin("POST", "/api/conversations/" + c.id() + "/messages", "{\"text\":\"on its way\"}");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String answered = json(accepted).get("id").asString();
        assertThat(store.sendsStartedBefore(NOW.plus(Duration.ofDays(1)), 1000))
                .extracting(InboxStore.SendInFlight::messageId).doesNotContain(answered);

        // what Replies has written when the process stops before the command's ack
        String cut = "cut-" + UUID.randomUUID();
        store.sendStarted(c.id(), cut, NOW.minusSeconds(20));
        store.appendMessage(c.id(), new Message(cut, "out:" + cut, Message.OUTBOUND, "message", "telegram", null,
                NOW.minusSeconds(20), "admin", "sorry for the wait", List.of(), "pending", null, null, null, null, false));

        // within the grace the request may still be waiting for the ack
        assertThat(sweeper.sweep(NOW.plus(ReplySweeper.GRACE).minusSeconds(30))).isZero();
        assertThat(store.message(c.id(), cut).orElseThrow().deliveryStatus()).isEqualTo("pending");

        assertThat(sweeper.sweep(NOW.plus(ReplySweeper.GRACE))).isEqualTo(1);
        Message failed = store.message(c.id(), cut).orElseThrow();
        assertThat(failed.deliveryStatus()).isEqualTo("failed");
        assertThat(failed.failureReason()).isEqualTo(Replies.NOT_QUEUED_STOPPED);
        assertThat(store.sendsStartedBefore(NOW.plus(Duration.ofDays(1)), 1000))
                .extracting(InboxStore.SendInFlight::messageId).doesNotContain(cut);
        assertThat(sweeper.sweep(NOW.plus(ReplySweeper.GRACE))).isZero();
        assertThat(store.message(c.id(), answered).orElseThrow().deliveryStatus()).isEqualTo("pending");

        List<ConversationEvent> announced = deliveryEvents(cut);
        assertThat(announced).singleElement().satisfies(e -> {
            assertThat(e.conversationId()).isEqualTo(c.id());
            assertThat(e.data()).containsEntry("deliveryStatus", "failed");
        });

        // had its command reached the broker after all, the channel's report would be the truth
        assertThat(store.updateDelivery(c.id(), cut, "sent", "5501", null)).isTrue();
        assertThat(store.message(c.id(), cut).orElseThrow().failureReason()).isNull();
    }

    @Test
    void aSendCutOffBeforeItsReplyWasStoredIsDroppedQuietly() {
        Conversation c = conversation("sweep-2", "telegram", "shop", "7102", NOW.minusSeconds(3600), "hello");
        String cut = "cut-" + UUID.randomUUID();
        store.sendStarted(c.id(), cut, NOW.minus(Duration.ofHours(1)));

        sweeper.sweep(NOW); // (or the sweeper's own round got there first: it runs every 30 s on the same clock)
        assertThat(store.sendsStartedBefore(NOW.plus(Duration.ofDays(1)), 1000))
                .extracting(InboxStore.SendInFlight::messageId).doesNotContain(cut);
        assertThat(store.message(c.id(), cut)).isEmpty();
        assertThat(deliveryEvents(cut)).isEmpty();
    }

    /** The delivery events about message {@code messageId}, from the start of the topic. */
    private List<ConversationEvent> deliveryEvents(String messageId) {
        List<ConversationEvent> out = new ArrayList<>();
        try (Consumer<String, byte[]> consumer = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "sweeper-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            consumer.assign(consumer.partitionsFor(Topics.CONVERSATION_EVENTS).stream()
                    .map(p -> new org.apache.kafka.common.TopicPartition(p.topic(), p.partition())).toList());
            consumer.seekToBeginning(consumer.assignment());
            // the sweeper waited for the broker's ack before it returned: reading to the end sees it
            var end = consumer.endOffsets(consumer.assignment());
            while (consumer.assignment().stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                KafkaTestUtils.getRecords(consumer, Duration.ofMillis(300)).forEach(r -> {
                    ConversationEvent e = ContractJson.fromBytes(r.value(), ConversationEvent.class);
                    if (ConversationEvent.DELIVERY_UPDATED.equals(e.type()) && messageId.equals(e.messageId())) {
                        out.add(e);
                    }
                });
            }
        }
        return out;
    }
}
