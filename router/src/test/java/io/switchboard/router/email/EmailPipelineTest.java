package io.switchboard.router.email;

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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Email through the whole router (embedded KRaft broker, in-process store): threading, bounces, auto-replies. */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-email-test",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
class EmailPipelineTest {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    private static final Duration WAIT = Duration.ofSeconds(20);

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    InboxStore store;

    private void publish(String raw) throws Exception {
        publish(raw.getBytes(StandardCharsets.UTF_8));
    }

    private void publish(byte[] raw) throws Exception {
        InboundEnvelope e = InboundEnvelope.ofBytes("email:default:" + UUID.randomUUID(), Channel.EMAIL, "default",
                Map.of(), Instant.now(), "email:default:test", "message/rfc822", raw);
        kafka.send(Topics.inbound(Channel.EMAIL), e.affinityKey(), ContractJson.toBytes(e)).get();
    }

    private Conversation conversationOf(String messageId) {
        return Await.until(() -> store.messageKey("email:default:" + messageId).flatMap(k -> store.find(k.conversationId()))
                .orElse(null), c -> c != null, WAIT);
    }

    private List<Message> messages(String conversationId) {
        return store.transcript(conversationId).map(Transcript::messages).orElse(List.of());
    }

    private static String mail(String from, String messageId, String inReplyTo, String references, String subject, String body) {
        return "From: " + from + "\r\nTo: support@support.example\r\nSubject: " + subject + "\r\n"
                + "Date: Mon, 3 Feb 2025 10:00:00 +0000\r\nMessage-ID: <" + messageId + ">\r\n"
                + (inReplyTo == null ? "" : "In-Reply-To: <" + inReplyTo + ">\r\n")
                + (references == null ? "" : "References: " + references + "\r\n")
                + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n";
    }

    @Test
    void aThreadOfThreeIsOneConversation_evenWhenOnlyReferencesMatch() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String first = "t1-" + run + "@customer.example";
        String second = "t2-" + run + "@customer.example";
        String third = "t3-" + run + "@customer.example";
        publish(mail("Customer <Customer-" + run + "@Customer.example>", first, null, null, "VM does not boot", "My VM does not boot."));
        Conversation c = conversationOf(first);
        publish(mail("customer-" + run + "@customer.example", second, first, "<" + first + ">", "Re: VM does not boot",
                "Still broken.\n\nOn Mon, 3 Feb 2025 at 10:00, Customer <customer@customer.example> wrote:\n> My VM does not boot."));
        assertThat(conversationOf(second).id()).isEqualTo(c.id());
        // Outlook-style: In-Reply-To names a message we never saw; only References leads to the thread
        publish(mail("customer-" + run + "@customer.example", third, "unknown-" + run + "@elsewhere.example",
                "<" + first + ">\r\n <unknown-" + run + "@elsewhere.example>", "RE: VM does not boot", "Any news?"));
        assertThat(conversationOf(third).id()).isEqualTo(c.id());

        List<Message> messages = Await.until(() -> messages(c.id()), ms -> ms.size() == 3, WAIT);
        assertThat(messages).extracting(Message::text).containsExactly("My VM does not boot.", "Still broken.", "Any news?");
        assertThat(messages).extracting(Message::externalId).containsExactly(first, second, third);
        Conversation after = store.find(c.id()).orElseThrow();
        assertThat(after.channel()).isEqualTo("email");
        assertThat(after.subject()).isEqualTo("VM does not boot");
        assertThat(after.replyAddress()).containsEntry("email", "customer-" + run + "@customer.example");
        assertThat(after.firstCustomerMessageAt()).isNotNull();
        assertThat(store.conversationByThreadKey("email:default:" + third)).contains(c.id());
    }

    @Test
    void aBounceMarksTheMatchingReplyFailedWithItsDiagnostic() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String question = "q-" + run + "@customer.example";
        publish(mail("kijitora-" + run + "@example.jp", question, null, null, "Nyaaaan", "Hello?"));
        Conversation c = conversationOf(question);
        String replyId = "reply-" + run;
        store.appendMessage(c.id(), new Message(replyId, "out:" + replyId, "outbound", "message", "email", null, Instant.now(),
                "admin", "Here is the answer", List.of(), "pending", null, null, null, null, false));
        // what EmailSender reports: our Message-ID as the external id
        String ours = "sb." + replyId + "." + EmailNormalizer.replyToken(question) + "@support.example";
        send(new DeliveryReport(1, replyId, Channel.EMAIL, "default", c.id(), DeliveryReport.Status.SENT, ours, null, 1,
                Instant.parse("2025-02-03T10:05:00Z")));
        Await.until(() -> store.message(c.id(), replyId).map(Message::deliveryStatus).orElse(""), "sent"::equals, WAIT);

        String bounce = new String(Fixtures.bytes("email/bounce_dsn_yandex_ru.eml"), StandardCharsets.UTF_8)
                .replace("<446281417885946@web20h.yandex.ru>", "<" + ours + ">");
        publish(bounce);

        Message failed = Await.until(() -> store.message(c.id(), replyId).orElseThrow(),
                m -> "failed".equals(m.deliveryStatus()), WAIT);
        assertThat(failed.failureReason()).isEqualTo("550 5.1.1 <kijitora@example.jp>... User Unknown");
        // the bounce itself is not a customer message
        assertThat(messages(c.id())).hasSize(2);
    }

    @Test
    void aReplyNamingOnlyOurMessageIdFindsTheConversationThroughItsToken() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String question = "tok-q-" + run + "@customer.example";
        publish(mail("tok-" + run + "@customer.example", question, null, null, "Quota", "Please raise my quota."));
        Conversation c = conversationOf(question);
        String ours = "sb.r-" + run + "." + EmailNormalizer.replyToken(question) + "@support.example";
        // the customer's client answers our reply naming only our id (no References)
        String answer = "tok-a-" + run + "@customer.example";
        publish(mail("tok-" + run + "@customer.example", answer, ours, null, "Re: Quota", "Thanks!"));
        assertThat(conversationOf(answer).id()).isEqualTo(c.id());
        // our own reply coming back through the mailbox is not a customer message
        String echo = "From: support@support.example\r\nTo: tok-" + run + "@customer.example\r\nSubject: Re: Quota\r\n"
                + "Message-ID: <" + ours + ">\r\nIn-Reply-To: <" + question + ">\r\n\r\nDone.\r\n";
        publish(echo);
        List<Message> messages = Await.until(() -> messages(c.id()), ms -> ms.size() == 3, WAIT);
        assertThat(messages).extracting(Message::direction).containsExactly("inbound", "inbound", "outbound");
        assertThat(store.find(c.id()).orElseThrow().firstCustomerMessageAt()).isNotNull();
    }

    @Test
    void anAutoReplyIsStoredButStartsNoClock() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String id = "ooo-" + run + "@neko.example.org";
        String raw = new String(Fixtures.bytes("email/autoreply_auto_submitted_ooo.eml"), StandardCharsets.UTF_8)
                .replace("<200503142138.j3QNaaaa222222@neko.example.org>", "<" + id + ">")
                .replace("kijitora@example.net", "kijitora-" + run + "@example.net");
        publish(raw);
        Conversation c = conversationOf(id);
        Message m = Await.until(() -> messages(c.id()), ms -> !ms.isEmpty(), WAIT).get(0);
        assertThat(m.automatic()).isTrue();
        assertThat(m.text()).startsWith("I am currently away");
        Conversation after = store.find(c.id()).orElseThrow();
        assertThat(after.firstCustomerMessageAt()).isNull();
        assertThat(after.awaitingSince()).isNull();
        assertThat(after.lastMessageAt()).isNotNull();
    }

    private void send(DeliveryReport r) throws Exception {
        kafka.send(Topics.DELIVERY_REPORTS, r.conversationId(), ContractJson.toBytes(r)).get();
    }
}
