package io.switchboard.router.payload;

import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import com.mongodb.client.model.Updates;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.PayloadReference;
import io.switchboard.contract.ReplayRequest;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterApplication;
import io.switchboard.router.replay.ReplayRunner;
import io.switchboard.router.support.Await;
import io.switchboard.router.support.InMemoryStore;
import io.switchboard.store.Attachment;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Email too large for a Kafka record, stored by the adapter in rawPayloads.* and referenced (ADR 0102),
 * through the whole router: resolved before normalizing, checked, dead-lettered when it cannot be trusted,
 * and replayable.
 */
@SpringBootTest(classes = RouterApplication.class, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
        "switchboard.router.instance-id=router-payload-test",
        "switchboard.router.payload-references.attempts=2",
        "switchboard.router.payload-references.backoff=PT0.1S",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.de.bwaldvogel=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.deadletter.router.v1")
class PayloadReferencePipelineTest {

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        registry.add("spring.mongodb.uri", InMemoryStore::uri);
    }

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int CHUNK = 1024 * 1024;

    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    MongoTemplate mongo;
    @Autowired
    InboxStore store;
    @Autowired
    EmbeddedKafkaBroker broker;

    @Test
    void aTwelveMegabyteMailStoredByReferenceIsIngestedWithItsTextSubjectAndAttachment() throws Exception {
        String messageId = "big-" + UUID.randomUUID() + "@customer.example";
        byte[] raw = bigMail(messageId, "Server logs for ticket", 9 * 1024 * 1024);
        assertThat(raw.length).isGreaterThan(12 * 1024 * 1024);
        PayloadReference ref = storeAsTheAdapterDoes(raw);
        publish(referenceEnvelope(messageId, ref));

        Message m = messageOf(messageId);
        assertThat(m.text()).isEqualTo("Logs attached, please look.");
        assertThat(m.attachments()).extracting(Attachment::name).containsExactly("server-logs.tar.gz");
        Attachment file = m.attachments().get(0);
        assertThat(store.file(file.ref())).get().satisfies(f -> assertThat(f.data()).hasSize(9 * 1024 * 1024));
        String conversationId = store.messageKey("email:default:" + messageId).orElseThrow().conversationId();
        assertThat(store.find(conversationId).orElseThrow().subject()).isEqualTo("Server logs for ticket");
    }

    @Test
    void aPayloadWhoseBytesDoNotMatchTheirChecksumIsDeadLetteredAndNothingIsWritten() throws Exception {
        String messageId = "tampered-" + UUID.randomUUID() + "@customer.example";
        PayloadReference ref = storeAsTheAdapterDoes(bigMail(messageId, "tampered", 2 * CHUNK));
        // one chunk changed after the fact (disk fault, a bad copy): same size, other bytes
        byte[] other = new byte[CHUNK];
        Arrays.fill(other, (byte) 'x');
        mongo.getCollection("rawPayloads.chunks").updateOne(Filters.eq("_id", ref.id() + ":1"), Updates.set("data", new Binary(other)));
        try (Consumer<String, byte[]> dlt = deadLetters()) {
            publish(referenceEnvelope(messageId, ref));
            ConsumerRecord<String, byte[]> dead = deadLetter(dlt, messageId);
            assertThat(reason(dead)).contains("sha256").contains(ref.id()).doesNotContain("tampered");
            // the original record, unchanged: small, still the reference
            assertThat(ContractJson.fromBytes(dead.value(), InboundEnvelope.class).contentType())
                    .isEqualTo(InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF);
        }
        assertThat(store.messageKey("email:default:" + messageId)).isEmpty();
    }

    @Test
    void aMissingPayloadIsRetriedThenDeadLetteredWithTheReason() throws Exception {
        String messageId = "missing-" + UUID.randomUUID() + "@customer.example";
        byte[] raw = bigMail(messageId, "never stored", 1000);
        String sha = PayloadReferences.sha256(raw);
        PayloadReference ref = new PayloadReference(PayloadReference.STORE_RAW_PAYLOADS, sha, raw.length, sha, "message/rfc822");
        try (Consumer<String, byte[]> dlt = deadLetters()) {
            publish(referenceEnvelope(messageId, ref));
            assertThat(reason(deadLetter(dlt, messageId))).contains("not in store rawPayloads after 2 attempts");
        }
        assertThat(store.messageKey("email:default:" + messageId)).isEmpty();
    }

    @Test
    void aReplayResolvesReferencesToo() throws Exception {
        String messageId = "replay-" + UUID.randomUUID() + "@customer.example";
        Instant before = Instant.now().minusMillis(1);
        publish(referenceEnvelope(messageId, storeAsTheAdapterDoes(bigMail(messageId, "replay me", 3 * CHUNK))));
        messageOf(messageId);
        Instant after = Instant.now().plusMillis(1);

        String requestId = "replay-" + UUID.randomUUID();
        kafka.send(Topics.CONTROL_REPLAY, requestId, ContractJson.toBytes(new ReplayRequest(ReplayRequest.SCHEMA_VERSION,
                requestId, Channel.EMAIL, before, after, "admin", Instant.now()))).get();
        Document done = Await.until(() -> mongo.findById(requestId, Document.class, ReplayRunner.REPLAYS),
                d -> d != null && "finished".equals(d.getString("state")), WAIT);
        assertThat(((Number) done.get("applied")).longValue()).isEqualTo(1);
        assertThat(((Number) done.get("deadLettered")).longValue()).isZero();
        Message m = messageOf(messageId);
        assertThat(m.text()).isEqualTo("Logs attached, please look.");
        assertThat(m.attachments()).extracting(Attachment::name).containsExactly("server-logs.tar.gz");
    }

    // ------------------------------------------------------------------ helpers

    /** The layout channel-email writes (PayloadReference's documentation): chunks first, then the files document. */
    private PayloadReference storeAsTheAdapterDoes(byte[] raw) {
        String sha = PayloadReferences.sha256(raw);
        int count = (raw.length + CHUNK - 1) / CHUNK;
        ReplaceOptions upsert = new ReplaceOptions().upsert(true);
        for (int n = 0; n < count; n++) {
            String id = sha + ":" + n;
            mongo.getCollection("rawPayloads.chunks").replaceOne(Filters.eq("_id", id), new Document("_id", id)
                    .append("filesId", sha).append("n", n)
                    .append("data", new Binary(Arrays.copyOfRange(raw, n * CHUNK, Math.min(raw.length, (n + 1) * CHUNK)))), upsert);
        }
        mongo.getCollection("rawPayloads.files").replaceOne(Filters.eq("_id", sha), new Document("_id", sha)
                .append("size", (long) raw.length).append("sha256", sha).append("contentType", "message/rfc822")
                .append("chunkSize", CHUNK).append("chunkCount", count).append("createdAt", new Date()), upsert);
        return new PayloadReference(PayloadReference.STORE_RAW_PAYLOADS, sha, raw.length, sha, "message/rfc822");
    }

    private static InboundEnvelope referenceEnvelope(String messageId, PayloadReference ref) {
        return InboundEnvelope.ofText("email:default:INBOX:1:" + UUID.randomUUID(), Channel.EMAIL, "default",
                Map.of("folder", "INBOX", "messageId", messageId), Instant.now(), "email:default:" + messageId,
                InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF, ContractJson.toJson(ref));
    }

    private void publish(InboundEnvelope e) throws Exception {
        kafka.send(Topics.inbound(e.channel()), e.affinityKey(), ContractJson.toBytes(e)).get();
    }

    private static byte[] bigMail(String messageId, String subject, int attachmentBytes) throws Exception {
        Session session = Session.getInstance(new Properties());
        MimeMessage mail = new MimeMessage(session);
        mail.setFrom("Big Customer <big@customer.example>");
        mail.setRecipients(jakarta.mail.Message.RecipientType.TO, "support@support.example");
        mail.setSubject(subject);
        mail.setSentDate(new Date());
        MimeMultipart mixed = new MimeMultipart();
        MimeBodyPart text = new MimeBodyPart();
        text.setText("Logs attached, please look.", "UTF-8");
        MimeBodyPart file = new MimeBodyPart();
        byte[] data = new byte[attachmentBytes];
        new Random(7).nextBytes(data);
        file.setDataHandler(new jakarta.activation.DataHandler(new jakarta.mail.util.ByteArrayDataSource(data, "application/gzip")));
        file.setFileName("server-logs.tar.gz");
        file.setDisposition(Part.ATTACHMENT);
        mixed.addBodyPart(text);
        mixed.addBodyPart(file);
        mail.setContent(mixed);
        mail.saveChanges();
        mail.setHeader("Message-ID", "<" + messageId + ">");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        mail.writeTo(out);
        return out.toByteArray();
    }

    private Message messageOf(String messageId) {
        return Await.until(() -> store.messageKey("email:default:" + messageId)
                .flatMap(k -> store.transcript(k.conversationId()))
                .map(Transcript::messages).orElse(List.of()).stream()
                .filter(m -> messageId.equals(m.externalId())).findFirst().orElse(null), m -> m != null, WAIT);
    }

    private Consumer<String, byte[]> deadLetters() {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "dlt-reader-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        broker.consumeFromAnEmbeddedTopic(c, Topics.ROUTER_DEAD_LETTER);
        return c;
    }

    private static ConsumerRecord<String, byte[]> deadLetter(Consumer<String, byte[]> dlt, String messageId) {
        List<ConsumerRecord<String, byte[]>> dead = new ArrayList<>();
        return Await.until(() -> {
            KafkaTestUtils.getRecords(dlt, Duration.ofMillis(500)).forEach(dead::add);
            return dead.stream().filter(r -> new String(r.value(), StandardCharsets.UTF_8).contains(messageId)).findFirst().orElse(null);
        }, r -> r != null, WAIT);
    }

    private static String reason(ConsumerRecord<String, byte[]> r) {
        return new String(r.headers().lastHeader(Topics.HEADER_DLT_REASON).value(), StandardCharsets.UTF_8);
    }
}
