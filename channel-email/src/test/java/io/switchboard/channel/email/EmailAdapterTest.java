package io.switchboard.channel.email;

import com.icegreen.greenmail.user.GreenMailUser;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import jakarta.mail.Flags;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** channel-email alone on a real embedded broker against GreenMail, a real IMAP and SMTP server in-process. */
@SpringBootTest(classes = EmailAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.email.accounts.default.from=Support Team <support@localhost>",
                "switchboard.email.poll-interval=PT2S",
                "switchboard.email.send-attempts=2",
                "switchboard.email.max-message-bytes=300000",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN"})
@EmbeddedKafka(partitions = 1, topics = {"inbox.inbound.email.v1", "inbox.outbound.email.v1", "inbox.delivery.reports.v1"})
class EmailAdapterTest {

    static final GreenMail MAIL = new GreenMail(ServerSetup.dynamicPort(ServerSetupTest.SMTP_IMAP));
    static final GreenMailUser SUPPORT;
    static final GreenMailUser ARCHIVE;
    static final List<String> FIXTURES = List.of(
            "attachment_only_text_csv_no_body", "autoreply_apple_vacation_in_reply_to", "autoreply_auto_submitted_ooo",
            "autoreply_exchange_no_auto_submitted_header", "autoreply_x_autoreply_utf8_base64_arabic_chatwoot",
            "bounce_dsn_amazonses", "bounce_dsn_gmail_empty_delivery_status_chatwoot", "bounce_dsn_rfc822_headers_mailsite",
            "bounce_dsn_yandex_ru", "bounce_nondsn_mailru_ru_8bit", "html_only_chatwoot", "koi8r_rfc2047_attachment_filename",
            "malformed_bad_final_boundary", "malformed_empty_date_header_chatwoot",
            "malformed_missing_inner_boundary_no_date_no_from", "malformed_no_closing_boundary_part",
            "multipart_alternative_related_inline_png", "reply_qp_utf8_ru_forwarded_rfc822_encoded_filename",
            "thread_rfc5322_1_hello", "thread_rfc5322_2_reply", "thread_rfc5322_3_reply_to_reply",
            "utf8_base64_html_ru_inline_jpeg_cid", "windows1251_8bit_with_forwarded_utf8_rfc822_ru",
            "windows1251_b_encoded_from_bad_date_year3609");

    static {
        MAIL.start();
        SUPPORT = MAIL.setUser("support@localhost", "support", "secret");
        MAIL.setUser("customer@localhost", "customer", "secret");
        ARCHIVE = MAIL.setUser("archive@localhost", "archive", "secret");
    }

    @DynamicPropertySource
    static void mail(DynamicPropertyRegistry registry) {
        registry.add("switchboard.email.accounts.default.imap-url",
                () -> "imap://support:secret@127.0.0.1:" + MAIL.getImap().getPort() + "/INBOX");
        registry.add("switchboard.email.accounts.default.smtp-url", () -> "smtp://127.0.0.1:" + MAIL.getSmtp().getPort());
        // a second mailbox that moves what it ingested instead of flagging it
        registry.add("switchboard.email.accounts.archive.imap-url",
                () -> "imap://archive:secret@127.0.0.1:" + MAIL.getImap().getPort() + "/INBOX");
        registry.add("switchboard.email.accounts.archive.move-to", () -> "Processed");
    }

    @AfterAll
    static void stop() {
        MAIL.stop();
    }

    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    EmailPoller poller;
    @Autowired
    EmailCursors cursors;
    @Autowired
    KafkaProperties kafkaProperties;
    @Autowired
    EmailHealthIndicator health;

    @Test
    void theMailboxCursorIsReadBackFromKafkaByAFreshAdapter() throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (cursors.get("default/INBOX").isEmpty() && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(cursors.get("default/INBOX")).isPresent();
        // a sync of an earlier test may still be moving the cursor: compare once it holds still
        java.util.Optional<EmailCursors.Cursor> live = java.util.Optional.empty();
        java.util.Optional<EmailCursors.Cursor> readBack = java.util.Optional.empty();
        deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            live = cursors.get("default/INBOX");
            EmailCursors restarted = new EmailCursors(kafka, kafkaProperties);
            restarted.load();
            readBack = restarted.get("default/INBOX");
            if (readBack.equals(live) && live.equals(cursors.get("default/INBOX"))) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(readBack).isPresent().isEqualTo(live);
    }

    @Test
    void everyFixtureInTheMailboxIsPublishedWithItsBytesAndThenFlaggedSeen() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            for (String f : FIXTURES) {
                SUPPORT.deliver(new MimeMessage(Session.getInstance(new Properties()), new ByteArrayInputStream(fixture(f))));
            }
            List<InboundEnvelope> envelopes = envelopes(c, e -> true, FIXTURES.size());
            assertThat(envelopes).hasSize(FIXTURES.size());
            for (InboundEnvelope e : envelopes) {
                assertThat(e.channel()).isEqualTo(Channel.EMAIL);
                assertThat(e.account()).isEqualTo("default");
                assertThat(e.contentType()).isEqualTo("message/rfc822");
                assertThat(e.payloadEncoding()).isEqualTo(InboundEnvelope.ENCODING_BASE64);
                assertThat(e.externalIds()).containsEntry("folder", "INBOX").containsKeys("uid", "uidValidity");
            }
            // the bytes the server holds, unchanged (the server stores lines with CRLF); different threads
            // are different keys, so their envelopes may be read back from the partitions in any order
            List<String> published = new ArrayList<>();
            for (InboundEnvelope e : envelopes) {
                published.add(lf(e.payloadBytes()));
            }
            List<String> delivered = new ArrayList<>();
            for (String f : FIXTURES) {
                delivered.add(lf(fixture(f)));
            }
            assertThat(published).containsExactlyInAnyOrderElementsOf(delivered);
            assertThat(envelopes.stream().map(InboundEnvelope::eventId).distinct()).hasSize(FIXTURES.size());
            InboundEnvelope hello = envelopes.stream()
                    .filter(e -> "1234@local.machine.example".equals(e.externalIds().get("messageId"))).findFirst().orElseThrow();
            // replies of one thread share the Kafka key, so they stay in order
            assertThat(envelopes.stream().filter(e -> e.affinityKey().equals(hello.affinityKey())).count()).isEqualTo(3);
            assertThat(hello.affinityKey()).isEqualTo("email:default:1234@local.machine.example");
            awaitAllSeen(FIXTURES.size());
        }
    }

    @Test
    void nothingIsLostWhileTheAdapterIsDown() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            poller.stop();
            try {
                for (int i = 0; i < 50; i++) {
                    GreenMailUtil.sendTextEmail("support@localhost", "customer" + i + "@example.org",
                            "outage " + run + " #" + i, "message " + i, MAIL.getSmtp().getServerSetup());
                }
                assertThat(MAIL.waitForIncomingEmail(10_000, 50)).isTrue();
                // someone read some of them in webmail meanwhile: they are still ours to ingest
                markSeen(m -> subjectOf(m).startsWith("outage " + run + " #1"));
            } finally {
                poller.start();
            }
            List<InboundEnvelope> got = envelopes(c, e -> new String(e.payloadBytes(), StandardCharsets.UTF_8)
                    .contains("outage " + run + " #"), 50);
            Set<String> subjects = new HashSet<>();
            for (InboundEnvelope e : got) {
                String raw = new String(e.payloadBytes(), StandardCharsets.UTF_8);
                subjects.add(raw.substring(raw.indexOf("outage " + run)).split("\r?\n")[0]);
            }
            assertThat(subjects).hasSize(50);
        }
    }

    @Test
    void aUidValidityChangeResynchronisesTheWholeFolder() throws Exception {
        long realValidity;
        int inFolder;
        try (Store store = imap()) {
            jakarta.mail.UIDFolder inbox = (jakarta.mail.UIDFolder) store.getFolder("INBOX");
            ((Folder) inbox).open(Folder.READ_ONLY);
            realValidity = inbox.getUIDValidity();
            inFolder = ((Folder) inbox).getMessageCount();
            ((Folder) inbox).close(false);
        }
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            poller.stop();
            try {
                // as if the server had renumbered the folder since our last sync
                cursors.save("default/INBOX", new EmailCursors.Cursor(realValidity + 1, Long.MAX_VALUE / 2));
            } finally {
                poller.start();
            }
            List<InboundEnvelope> resynced = envelopes(c, e -> true, inFolder);
            assertThat(resynced).hasSize(inFolder);
            assertThat(resynced).allSatisfy(e -> assertThat(e.externalIds()).containsEntry("uidValidity", String.valueOf(realValidity)));
        }
        long deadline = System.currentTimeMillis() + 10_000;
        while (cursors.get("default/INBOX").map(cur -> cur.uidValidity() != realValidity).orElse(true)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(cursors.get("default/INBOX")).get().satisfies(cur -> assertThat(cur.uidValidity()).isEqualTo(realValidity));
    }

    @Test
    void aMessageOverTheLimitIsPublishedReducedNotDropped() throws Exception {
        Session session = Session.getInstance(new Properties());
        MimeMessage big = new MimeMessage(session);
        big.setFrom("Big Sender <big@example.org>");
        big.setRecipients(Message.RecipientType.TO, "support@localhost");
        big.setSubject("huge logs");
        jakarta.mail.internet.MimeMultipart mixed = new jakarta.mail.internet.MimeMultipart();
        jakarta.mail.internet.MimeBodyPart text = new jakarta.mail.internet.MimeBodyPart();
        text.setText("Logs attached, please look.", "UTF-8");
        jakarta.mail.internet.MimeBodyPart file = new jakarta.mail.internet.MimeBodyPart();
        file.setContent(new byte[400_000], "application/octet-stream");
        file.setFileName("server.log.gz");
        file.setDisposition("attachment");
        mixed.addBodyPart(text);
        mixed.addBodyPart(file);
        big.setContent(mixed);
        big.setHeader("Message-ID", "<big-1@example.org>");
        big.saveChanges();
        big.setHeader("Message-ID", "<big-1@example.org>");
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            SUPPORT.deliver(big);
            InboundEnvelope e = envelopes(c, x -> "big-1@example.org".equals(x.externalIds().get("messageId")), 1).get(0);
            assertThat(Long.parseLong(e.externalIds().get("reducedFrom"))).isGreaterThan(400_000);
            byte[] payload = e.payloadBytes();
            assertThat(payload.length).isLessThan(300_000);
            MimeMessage reduced = new MimeMessage(session, new ByteArrayInputStream(payload));
            assertThat(reduced.getHeader("Message-ID", null)).isEqualTo("<big-1@example.org>");
            assertThat(reduced.getSubject()).isEqualTo("huge logs");
            assertThat(reduced.getHeader("X-Switchboard-Reduced", null)).startsWith(e.externalIds().get("reducedFrom") + " bytes");
            assertThat((String) reduced.getContent()).contains("server.log.gz").contains("Logs attached, please look.");
        }
    }

    @Test
    void mailFromTheSupportAddressItselfIsMarked() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            GreenMailUtil.sendTextEmail("support@localhost", "SUPPORT@localhost", "copy to self", "answered in Thunderbird",
                    MAIL.getSmtp().getServerSetup());
            InboundEnvelope e = envelopes(c, x -> true, 1).get(0);
            assertThat(e.externalIds()).containsEntry("fromSupport", "true");
        }
    }

    @Test
    void aSecondMailboxIsItsOwnAccountAndMovesWhatItIngested() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.EMAIL))) {
            ARCHIVE.deliver(new MimeMessage(Session.getInstance(new Properties()),
                    new ByteArrayInputStream(fixture("thread_rfc5322_2_reply"))));
            InboundEnvelope e = envelopes(c, x -> x.account().equals("archive"), 1).get(0);
            assertThat(e.externalIds()).containsEntry("messageId", "3456@example.net");
            assertThat(e.eventId()).startsWith("email:archive:INBOX:");
        }
        long deadline = System.currentTimeMillis() + 20_000;
        int inInbox = -1;
        int inProcessed = -1;
        while (System.currentTimeMillis() < deadline) {
            try (Store store = Session.getInstance(new Properties()).getStore("imap")) {
                store.connect("127.0.0.1", MAIL.getImap().getPort(), "archive", "secret");
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                inInbox = inbox.getMessageCount();
                inbox.close(false);
                Folder processed = store.getFolder("Processed");
                inProcessed = processed.exists() ? processed.getMessageCount() : 0;
            }
            if (inInbox == 0 && inProcessed == 1) {
                break;
            }
            Thread.sleep(200);
        }
        assertThat(inInbox).isZero();
        assertThat(inProcessed).isEqualTo(1);
    }

    @Test
    void healthShowsEachMailbox() {
        Map<String, Object> details = health.health().getDetails();
        assertThat(details).containsKey("mailboxes");
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> mailboxes = (Map<String, Map<String, Object>>) details.get("mailboxes");
        assertThat(mailboxes).containsKey("default");
        assertThat(mailboxes.get("default")).containsKeys("connected", "lastSyncAt", "pending", "ingested");
        // no document store in this context: large mail goes in reduced form, and health says so
        @SuppressWarnings("unchecked")
        Map<String, Object> payloadStore = (Map<String, Object>) details.get("payloadStore");
        assertThat(payloadStore).containsEntry("configured", false).containsKey("largeMessages");
    }

    @Test
    void anAgentsReplyArrivesThreadedInTheCustomersMailbox() throws Exception {
        String messageId = UUID.randomUUID().toString();
        OutboundCommand command = new OutboundCommand(OutboundCommand.SCHEMA_VERSION, messageId, Channel.EMAIL, "default",
                "conv-1", Map.of("email", "customer@localhost"), "Hello John,\nhere is the answer.\n", "Re: Saying Hello",
                null, List.of("1234@local.machine.example", "3456@example.net"), List.of(), Instant.now(), "agent");
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS)) {
            kafka.send(Topics.outbound(Channel.EMAIL), "conv-1", ContractJson.toBytes(command)).get(10, TimeUnit.SECONDS);
            DeliveryReport report = reports(reports, messageId);
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(report.externalId()).startsWith("sb.").endsWith("@localhost");
            assertThat(EmailIds.answered(report.externalId())).isEqualTo("3456@example.net");

            MimeMessage received = awaitMessage(m -> messageId(m).equals("<" + report.externalId() + ">"));
            assertThat(received.getHeader("In-Reply-To", null)).isEqualTo("<3456@example.net>");
            assertThat(received.getHeader("References", null).replaceAll("\\s+", " "))
                    .isEqualTo("<1234@local.machine.example> <3456@example.net>");
            assertThat(received.getSubject()).isEqualTo("Re: Saying Hello");
            assertThat(received.getFrom()[0].toString()).isEqualTo("Support Team <support@localhost>");
            assertThat(GreenMailUtil.getBody(received).replace("\r\n", "\n").strip()).isEqualTo("Hello John,\nhere is the answer.");
        }
    }

    @Test
    void aReplyWithoutAnAddressFailsWithAReason() throws Exception {
        String messageId = UUID.randomUUID().toString();
        OutboundCommand command = new OutboundCommand(OutboundCommand.SCHEMA_VERSION, messageId, Channel.EMAIL, "default",
                "conv-2", Map.of(), "text", "subject", null, List.of(), List.of(), Instant.now(), "agent");
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS)) {
            kafka.send(Topics.outbound(Channel.EMAIL), "conv-2", ContractJson.toBytes(command)).get(10, TimeUnit.SECONDS);
            DeliveryReport report = reports(reports, messageId);
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
            assertThat(report.failureReason()).isEqualTo("no email address to reply to");
        }
    }

    // ------------------------------------------------------------------ helpers

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = EmailAdapterTest.class.getResourceAsStream("/fixtures/email/" + name + ".eml")) {
            return in.readAllBytes();
        }
    }

    static String lf(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1).replace("\r\n", "\n").stripTrailing();
    }

    Consumer<String, byte[]> consumer(String topic) {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        broker.consumeFromAnEmbeddedTopic(c, topic);
        // only what arrives from now on: earlier tests published to the same topics
        c.seekToEnd(c.assignment());
        c.assignment().forEach(c::position);
        return c;
    }

    static List<InboundEnvelope> envelopes(Consumer<String, byte[]> c, Predicate<InboundEnvelope> which, int count) {
        return envelopes(c, which, count, 60_000);
    }

    static List<InboundEnvelope> envelopes(Consumer<String, byte[]> c, Predicate<InboundEnvelope> which, int count, long waitMillis) {
        List<InboundEnvelope> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + waitMillis;
        while (all.size() < count && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, byte[]> r : KafkaTestUtils.getRecords(c, Duration.ofMillis(300))) {
                InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                if (which.test(e)) {
                    all.add(e);
                }
            }
        }
        return all;
    }

    static DeliveryReport reports(Consumer<String, byte[]> c, String messageId) {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<String, byte[]> r : KafkaTestUtils.getRecords(c, Duration.ofMillis(300))) {
                DeliveryReport report = ContractJson.fromBytes(r.value(), DeliveryReport.class);
                if (report.messageId().equals(messageId)) {
                    return report;
                }
            }
        }
        throw new AssertionError("no delivery report for " + messageId);
    }

    static MimeMessage awaitMessage(Predicate<MimeMessage> which) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            for (MimeMessage m : MAIL.getReceivedMessages()) {
                if (which.test(m)) {
                    return m;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("message not received");
    }

    static String messageId(MimeMessage m) {
        try {
            String id = m.getHeader("Message-ID", null);
            return id == null ? "" : id;
        } catch (Exception e) {
            return "";
        }
    }

    static String subjectOf(Message m) {
        try {
            return m.getSubject() == null ? "" : m.getSubject();
        } catch (Exception e) {
            return "";
        }
    }

    static void markSeen(Predicate<Message> which) throws Exception {
        try (Store store = imap()) {
            Folder inbox = store.getFolder("INBOX");
            inbox.open(Folder.READ_WRITE);
            for (Message m : inbox.getMessages()) {
                if (which.test(m)) {
                    m.setFlag(Flags.Flag.SEEN, true);
                }
            }
            inbox.close(false);
        }
    }

    static void awaitAllSeen(int atLeast) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            try (Store store = imap()) {
                Folder inbox = store.getFolder("INBOX");
                inbox.open(Folder.READ_ONLY);
                int seen = inbox.getMessageCount() - inbox.getUnreadMessageCount();
                inbox.close(false);
                if (seen >= atLeast) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("messages were not flagged \\Seen after ingest");
    }

    static Store imap() throws Exception {
        Properties p = new Properties();
        Store store = Session.getInstance(p).getStore("imap");
        store.connect("127.0.0.1", MAIL.getImap().getPort(), "support", "secret");
        return store;
    }
}
