package io.switchboard.router.ingest;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.support.Await;
import io.switchboard.router.support.Fixtures;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VK and Messenger events through the router on the embedded broker and store (same context as
 * RouterPipelineTest): retries and redeliveries add nothing, echoes of our sends are matched,
 * Messenger watermarks move earlier replies to delivered and read.
 */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-test",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
class SocialPipelineTest {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    InboxStore store;

    private static final Duration WAIT = Duration.ofSeconds(20);

    private void publish(InboundEnvelope e) throws Exception {
        kafka.send(Topics.inbound(e.channel()), e.affinityKey(), ContractJson.toBytes(e)).get();
    }

    private void send(DeliveryReport r) throws Exception {
        kafka.send(Topics.DELIVERY_REPORTS, r.conversationId(), ContractJson.toBytes(r)).get();
    }

    private static InboundEnvelope vk(String json, String eventId, String peer) {
        return InboundEnvelope.ofText(eventId, Channel.VK, "default", Map.of(), Instant.now(), "vk:default:peer:" + peer,
                "application/json", json);
    }

    private static InboundEnvelope facebook(String json, String eventId, String psid) {
        return InboundEnvelope.ofText(eventId, Channel.FACEBOOK, "default", Map.of(), Instant.now(),
                "facebook:default:111111:" + psid, "application/json", json);
    }

    private static String vkMessage(long peer, long id, String text) {
        return Fixtures.text("vk/vknet_message_new_v5103_client_info.json")
                .replace("123456789", String.valueOf(peer)).replace("\"id\": 985", "\"id\": " + id).replace("\"text\": \"f\"", "\"text\": \"" + text + "\"");
    }

    private static String fbMessage(String psid, String mid, long timestamp, String text) {
        return Fixtures.text("messenger/fbhs_page_message_text.json").replace("USER_ID", psid)
                .replace("mid.1457764197618:41d102a3e1ae206a38", mid).replace("1457764197627", String.valueOf(timestamp))
                .replace("hello, world!", text);
    }

    private Conversation conversation(String threadKey) {
        return Await.until(() -> store.conversationByThreadKey(threadKey).flatMap(store::find)
                .filter(c -> c.lastMessageAt() != null).orElse(null), c -> c != null, WAIT);
    }

    private List<Message> messages(String conversationId) {
        return store.transcript(conversationId).map(Transcript::messages).orElse(List.of());
    }

    private void reply(Conversation c, String messageId, Instant at) {
        store.appendMessage(c.id(), new Message(messageId, "out:" + messageId, "outbound", "message", c.channel(), null, at,
                "admin", "answer " + messageId, List.of(), "pending", null, null, null, null, false));
    }

    @Test
    void aVkRetryOfTheSameEventAddsNothing_andAnAdminReplyTypedInVkIsRecordedOnce() throws Exception {
        String json = vkMessage(7001, 11, "my disk is full");
        publish(vk(json, "vk:default:event:e1", "7001"));
        publish(vk(json, "vk:default:event:e1", "7001")); // VK retried the callback (same event_id)
        publish(vk(json, "vk:default:event:e1-replay", "7001")); // the raw event replayed later
        Conversation c = conversation("vk:default:peer:7001");
        assertThat(c.channel()).isEqualTo("vk");
        assertThat(c.replyAddress()).containsEntry("peer_id", "7001");

        // our reply goes out and VK echoes it back (message_reply with the same id): nothing new
        reply(c, "vk-reply-1", Instant.parse("2025-01-01T10:00:00Z"));
        send(new DeliveryReport(1, "vk-reply-1", Channel.VK, "default", c.id(), DeliveryReport.Status.SENT, "12", null, 1,
                Instant.parse("2025-01-01T10:00:01Z")));
        Await.until(() -> store.messageKey("vk:default:7001:12"), k -> k.isPresent(), WAIT);
        String echo = Fixtures.text("vk/vknet_message_reply_admin_author.json").replace("\"peer_id\": 123", "\"peer_id\": 7001")
                .replace("\"id\": 830", "\"id\": 12");
        publish(vk(echo, "vk:default:event:e2", "7001"));
        // an admin typed a reply in VK itself: it joins the conversation as outbound, once
        String typed = echo.replace("\"id\": 12", "\"id\": 13").replace("\"text\": \"test\"", "\"text\": \"typed in vk\"");
        publish(vk(typed, "vk:default:event:e3", "7001"));
        publish(vk(typed, "vk:default:event:e3", "7001"));
        publish(vk(vkMessage(7001, 14, "thanks"), "vk:default:event:e4", "7001"));

        Await.until(() -> messages(c.id()).size(), n -> n >= 4, WAIT);
        Await.until(() -> messages(c.id()).stream().anyMatch(m -> "thanks".equals(m.text())), x -> x, WAIT);
        List<Message> messages = messages(c.id());
        assertThat(messages).extracting(Message::text)
                .containsExactly("my disk is full", "answer vk-reply-1", "typed in vk", "thanks");
        assertThat(messages.get(1).deliveryStatus()).isEqualTo("sent");
        assertThat(messages.get(2).direction()).isEqualTo("outbound");
    }

    @Test
    void aFacebookRedeliveryAddsNothing_andEchoesOfOurSendsAreMatchedByMid() throws Exception {
        String json = fbMessage("PSID_1", "m_in_1", 1730000000000L, "cannot log in");
        publish(facebook(json, "facebook:default:message:m_in_1", "PSID_1"));
        publish(facebook(json, "facebook:default:message:m_in_1", "PSID_1")); // Facebook delivered the batch again
        Conversation c = conversation("facebook:default:111111:PSID_1");
        assertThat(c.replyAddress()).containsEntry("psid", "PSID_1");

        reply(c, "fb-reply-1", Instant.parse("2025-01-01T10:00:00Z"));
        send(new DeliveryReport(1, "fb-reply-1", Channel.FACEBOOK, "default", c.id(), DeliveryReport.Status.SENT, "m_out_1", null, 1,
                Instant.parse("2025-01-01T10:00:01Z")));
        Await.until(() -> store.messageKey("facebook:default:m_out_1"), k -> k.isPresent(), WAIT);
        String echo = Fixtures.text("messenger/authored_batch_two_entries_with_echo.json")
                .replace("1000000001", "111111").replace("2000000002", "PSID_1").replace("m_shared_0002", "m_out_1");
        // the batch also repeats the first message's mid m_shared_0001 as a new message from the customer
        publish(facebook(echo, "facebook:default:batch", "PSID_1"));
        publish(facebook(fbMessage("PSID_1", "m_in_2", 1730000500000L, "still cannot"), "facebook:default:message:m_in_2", "PSID_1"));

        Await.until(() -> messages(c.id()).stream().anyMatch(m -> "still cannot".equals(m.text())), x -> x, WAIT);
        assertThat(messages(c.id())).extracting(Message::text)
                .containsExactly("cannot log in", "answer fb-reply-1", "Hello, is anyone there?", "still cannot");
    }

    @Test
    void messengerWatermarksMoveEverythingSentUpToThemToDeliveredThenRead() throws Exception {
        publish(facebook(fbMessage("PSID_2", "m_in_w", 1730000000000L, "hello"), "facebook:default:message:m_in_w", "PSID_2"));
        Conversation c = conversation("facebook:default:111111:PSID_2");
        Instant t1 = Instant.parse("2025-02-01T10:00:00Z");
        Instant t2 = Instant.parse("2025-02-01T10:05:00Z");
        Instant t3 = Instant.parse("2025-02-01T10:10:00Z");
        reply(c, "w1", t1);
        reply(c, "w2", t2);
        reply(c, "w3", t3);
        reply(c, "w-pending", t1); // never accepted by Facebook: no receipt can apply to it
        for (String id : List.of("w1", "w2", "w3")) {
            send(new DeliveryReport(1, id, Channel.FACEBOOK, "default", c.id(), DeliveryReport.Status.SENT, "m_" + id, null, 1, t3));
        }
        Await.until(() -> messages(c.id()).stream().filter(m -> "sent".equals(m.deliveryStatus())).count(), n -> n == 3, WAIT);

        String delivery = Fixtures.text("messenger/fbhs_page_delivery.json").replace("USER_ID", "PSID_2")
                .replace("mid.1458668856218:ed81099e15d3f4f233", "m_unknown").replace("1458668856253", String.valueOf(t2.toEpochMilli()));
        publish(facebook(delivery, "facebook:default:delivery:PSID_2:1", "PSID_2"));
        Await.until(() -> store.message(c.id(), "w2").orElseThrow().deliveryStatus(), "delivered"::equals, WAIT);
        assertThat(store.message(c.id(), "w1").orElseThrow().deliveryStatus()).isEqualTo("delivered");
        assertThat(store.message(c.id(), "w3").orElseThrow().deliveryStatus()).isEqualTo("sent");

        String read = Fixtures.text("messenger/fbdocs_messaging_event_read.json").replace("<PSID>", "PSID_2").replace("<PAGE_ID>", "111111")
                .replace("1458668856253", String.valueOf(t1.toEpochMilli()));
        publish(facebook(read, "facebook:default:read:PSID_2:1", "PSID_2"));
        Await.until(() -> store.message(c.id(), "w1").orElseThrow().deliveryStatus(), "read"::equals, WAIT);
        assertThat(store.message(c.id(), "w2").orElseThrow().deliveryStatus()).isEqualTo("delivered");
        assertThat(store.message(c.id(), "w-pending").orElseThrow().deliveryStatus()).isEqualTo("pending");

        // a delivery naming a mid moves that message whatever its time
        String byMid = Fixtures.text("messenger/fbhs_page_delivery.json").replace("USER_ID", "PSID_2")
                .replace("mid.1458668856218:ed81099e15d3f4f233", "m_w3").replace("1458668856253", String.valueOf(t1.toEpochMilli()));
        publish(facebook(byMid, "facebook:default:delivery:PSID_2:2", "PSID_2"));
        Await.until(() -> store.message(c.id(), "w3").orElseThrow().deliveryStatus(), "delivered"::equals, WAIT);
    }

    @Test
    void vkMessageDenyMakesTheConversationUnreachable() throws Exception {
        publish(vk(vkMessage(7002, 1, "hi"), "vk:default:event:d1", "7002"));
        Conversation c = conversation("vk:default:peer:7002");
        publish(vk(Fixtures.text("vk/vknet_message_deny.json").replace("123", "7002"), "vk:default:event:d2", "7002"));
        Await.until(() -> store.find(c.id()).orElseThrow().unreachable(), x -> x, WAIT);
        publish(vk(Fixtures.text("vk/vknet_message_allow.json").replace("\"user_id\": 123", "\"user_id\": 7002"), "vk:default:event:d3", "7002"));
        Await.until(() -> store.find(c.id()).orElseThrow().unreachable(), x -> !x, WAIT);
    }
}
