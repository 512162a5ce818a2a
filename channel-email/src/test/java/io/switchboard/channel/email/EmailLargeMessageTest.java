package io.switchboard.channel.email;

import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoDatabase;
import com.mongodb.client.model.Filters;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.PayloadReference;
import io.switchboard.contract.Topics;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.bson.types.Binary;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Mail over max-message-bytes (default 10 MB) with a document store configured (ADR 0102): the bytes
 * go to rawPayloads.*, a reference is published, and \Seen follows; with the store down, nothing is
 * published or flagged until it is back.
 */
@SpringBootTest(classes = EmailAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.email.poll-interval=PT1S",
                "switchboard.email.reconnect-max-delay=PT1S",
                "switchboard.email.payload-store.timeout=PT1S",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.org.mongodb.driver=ERROR"})
@EmbeddedKafka(partitions = 1, topics = "inbox.inbound.email.v1")
class EmailLargeMessageTest {

    static final GreenMail MAIL = new GreenMail(ServerSetup.dynamicPort(ServerSetupTest.SMTP_IMAP));
    static final GreenMailUser SUPPORT;
    static final MemoryBackend BACKEND = new MemoryBackend();
    static final int STORE_PORT = freePort();
    static MongoServer server;

    static {
        MAIL.start();
        SUPPORT = MAIL.setUser("support@localhost", "support", "secret");
        startStore();
    }

    @DynamicPropertySource
    static void props(DynamicPropertyRegistry registry) {
        registry.add("switchboard.email.accounts.default.imap-url",
                () -> "imap://support:secret@127.0.0.1:" + MAIL.getImap().getPort() + "/INBOX");
        // the product's store; the adapter takes it when EMAIL_PAYLOAD_STORE_URI is not set
        registry.add("spring.mongodb.uri", () -> "mongodb://127.0.0.1:" + STORE_PORT + "/switchboard");
    }

    @AfterAll
    static void stop() {
        MAIL.stop();
        server.shutdownNow();
    }

    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    EmailHealthIndicator health;

    @Test
    void aTwelveMegabyteMessageIsStoredThenReferencedThenFlaggedSeen() throws Exception {
        String messageId = "big-" + UUID.randomUUID() + "@example.org";
        MimeMessage big = bigMessage(messageId, "server logs", 9 * 1024 * 1024);
        byte[] delivered = bytes(big);
        assertThat(delivered.length).isGreaterThan(12 * 1024 * 1024);
        try (Consumer<String, byte[]> c = consumer()) {
            SUPPORT.deliver(big);
            InboundEnvelope e = EmailAdapterTest.envelopes(c, x -> messageId.equals(x.externalIds().get("messageId")), 1).get(0);
            assertThat(e.contentType()).isEqualTo(InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF);
            assertThat(e.payloadEncoding()).isEqualTo(InboundEnvelope.ENCODING_UTF8);
            assertThat(e.externalIds()).doesNotContainKey("reducedFrom").containsEntry("folder", "INBOX");
            PayloadReference ref = ContractJson.fromBytes(e.payloadBytes(), PayloadReference.class);
            assertThat(ref.store()).isEqualTo("rawPayloads");
            assertThat(ref.contentType()).isEqualTo("message/rfc822");
            assertThat(ref.size()).isGreaterThan(12 * 1024 * 1024);
            assertThat(ref.id()).isEqualTo(ref.sha256());

            // when the reference is on the broker, the bytes are already complete in the store
            byte[] stored = read(ref.id());
            assertThat(stored).hasSize((int) ref.size());
            assertThat(EmailPayloadStore.sha256(stored)).isEqualTo(ref.sha256());
            MimeMessage back = new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(stored));
            assertThat(back.getSubject()).isEqualTo("server logs");
            assertThat(attachmentNames(back)).containsExactly("server-logs.tar.gz");
            try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + STORE_PORT)) {
                Document file = client.getDatabase("switchboard").getCollection("rawPayloads.files")
                        .find(Filters.eq("_id", ref.id())).first();
                assertThat(file).isNotNull();
                assertThat(file.getInteger("chunkCount")).isEqualTo((int) ((ref.size() + 1024 * 1024 - 1) / (1024 * 1024)));
                assertThat(file.getString("contentType")).isEqualTo("message/rfc822");
            }
            awaitSeen(messageId, true);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> store = (Map<String, Object>) health.health().getDetails().get("payloadStore");
        assertThat(store).containsEntry("configured", true);
        assertThat((Long) store.get("stored")).isPositive();
    }

    @Test
    void whileTheStoreIsDownALargeMessageIsNeitherPublishedNorFlaggedThenGoesThroughWhenItIsBack() throws Exception {
        String messageId = "down-" + UUID.randomUUID() + "@example.org";
        try (Consumer<String, byte[]> c = consumer()) {
            server.shutdownNow();
            try {
                SUPPORT.deliver(bigMessage(messageId, "logs during an outage", 11 * 1024 * 1024));
                // the adapter tries, fails and says so in its health
                long deadline = System.currentTimeMillis() + 30_000;
                while (System.currentTimeMillis() < deadline && !storeError()) {
                    Thread.sleep(100);
                }
                // the whole health in the message: which mailbox state kept the adapter from trying
                assertThat(storeError()).as("payload store error in health: %s", health.health().getDetails()).isTrue();
                // several attempts later: still nothing published, still unread
                assertThat(EmailAdapterTest.envelopes(c, x -> messageId.equals(x.externalIds().get("messageId")), 1, 4_000)).isEmpty();
                assertThat(seen(messageId)).isFalse();
            } finally {
                startStore();
            }
            InboundEnvelope e = EmailAdapterTest.envelopes(c, x -> messageId.equals(x.externalIds().get("messageId")), 1).get(0);
            assertThat(e.contentType()).isEqualTo(InboundEnvelope.CONTENT_TYPE_PAYLOAD_REF);
            PayloadReference ref = ContractJson.fromBytes(e.payloadBytes(), PayloadReference.class);
            assertThat(EmailPayloadStore.sha256(read(ref.id()))).isEqualTo(ref.sha256());
            awaitSeen(messageId, true);
        }
    }

    // ------------------------------------------------------------------ helpers

    static void startStore() {
        server = new MongoServer(BACKEND);
        server.bind("127.0.0.1", STORE_PORT);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    boolean storeError() {
        @SuppressWarnings("unchecked")
        Map<String, Object> store = (Map<String, Object>) health.health().getDetails().get("payloadStore");
        return store != null && store.get("lastError") != null;
    }

    static MimeMessage bigMessage(String messageId, String subject, int attachmentBytes) throws Exception {
        Session session = Session.getInstance(new Properties());
        MimeMessage big = new MimeMessage(session);
        big.setFrom("Big Sender <big@example.org>");
        big.setRecipients(Message.RecipientType.TO, "support@localhost");
        big.setSubject(subject);
        MimeMultipart mixed = new MimeMultipart();
        MimeBodyPart text = new MimeBodyPart();
        text.setText("Logs attached, please look.", "UTF-8");
        MimeBodyPart file = new MimeBodyPart();
        byte[] data = new byte[attachmentBytes];
        new Random(42).nextBytes(data);
        file.setDataHandler(new jakarta.activation.DataHandler(new jakarta.mail.util.ByteArrayDataSource(data, "application/gzip")));
        file.setFileName("server-logs.tar.gz");
        file.setDisposition(Part.ATTACHMENT);
        mixed.addBodyPart(text);
        mixed.addBodyPart(file);
        big.setContent(mixed);
        big.saveChanges();
        big.setHeader("Message-ID", "<" + messageId + ">");
        return big;
    }

    static byte[] bytes(MimeMessage m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.writeTo(out);
        return out.toByteArray();
    }

    static List<String> attachmentNames(MimeMessage m) throws Exception {
        Multipart mp = (Multipart) m.getContent();
        List<String> names = new java.util.ArrayList<>();
        for (int i = 0; i < mp.getCount(); i++) {
            if (mp.getBodyPart(i).getFileName() != null) {
                names.add(mp.getBodyPart(i).getFileName());
            }
        }
        return names;
    }

    static byte[] read(String id) {
        try (MongoClient client = MongoClients.create("mongodb://127.0.0.1:" + STORE_PORT)) {
            MongoDatabase db = client.getDatabase("switchboard");
            Document file = db.getCollection("rawPayloads.files").find(Filters.eq("_id", id)).first();
            assertThat(file).as("rawPayloads.files " + id).isNotNull();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int n = 0; n < file.getInteger("chunkCount"); n++) {
                Document chunk = db.getCollection("rawPayloads.chunks").find(Filters.eq("_id", id + ":" + n)).first();
                assertThat(chunk).as("chunk " + n).isNotNull();
                out.writeBytes(chunk.get("data", Binary.class).getData());
            }
            return out.toByteArray();
        }
    }

    static boolean seen(String messageId) throws Exception {
        try (Store store = Session.getInstance(new Properties()).getStore("imap")) {
            store.connect("127.0.0.1", MAIL.getImap().getPort(), "support", "secret");
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                for (Message m : inbox.getMessages()) {
                    String[] id = m.getHeader("Message-ID");
                    if (id != null && id[0].equals("<" + messageId + ">")) {
                        return m.isSet(Flags.Flag.SEEN);
                    }
                }
                throw new AssertionError("message not in the mailbox");
            } finally {
                inbox.close(false);
            }
        }
    }

    static void awaitSeen(String messageId, boolean expected) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline && seen(messageId) != expected) {
            Thread.sleep(200);
        }
        assertThat(seen(messageId)).isEqualTo(expected);
    }

    Consumer<String, byte[]> consumer() {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        broker.consumeFromAnEmbeddedTopic(c, Topics.inbound(Channel.EMAIL));
        c.seekToEnd(c.assignment());
        c.assignment().forEach(c::position);
        return c;
    }
}
