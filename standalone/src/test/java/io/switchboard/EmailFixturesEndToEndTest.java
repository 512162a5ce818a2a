package io.switchboard;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.internet.MimeMessage;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 4's "done when", through the whole product: every email fixture of fixtures/email (SOURCES.md there)
 * is appended, byte for byte, to a GreenMail mailbox over IMAP, the standalone product fetches it by IDLE,
 * and the agents' API shows, per fixture, its text, sender, subject and attachment names. The three thread
 * fixtures end in one conversation; auto-replies are stored but start no first-response clock; a bounce
 * puts its diagnostic on the reply it reports on, and a bounce of mail we never sent is ignored and counted.
 *
 * <p>Fixtures are appended one at a time and each is matched to the one message that appears after it,
 * so a fixture without a Message-ID (four of them) is identified as surely as the others.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmailFixturesEndToEndTest {

    static final String PASSWORD = "fixtures-admin-password";
    static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    static Path data;
    static GreenMail mail;
    static ConfigurableApplicationContext app;
    static Http http;

    /** What the agents must see for one customer-message fixture. {@code email}: the sender's address on the contact. */
    record Expected(String fixture, String text, boolean textIsPrefix, String author, String email, String subject,
                    List<String> attachments, boolean automatic) {
        static Expected of(String fixture, String text, String author, String email, String subject, List<String> attachments) {
            return new Expected(fixture, text, false, author, email, subject, attachments, false);
        }

        Expected startingWith() {
            return new Expected(fixture, text, true, author, email, subject, attachments, automatic);
        }

        Expected auto() {
            return new Expected(fixture, text, textIsPrefix, author, email, subject, attachments, true);
        }
    }

    static final String UNKNOWN = "unknown-sender@switchboard.invalid";

    /** Every customer-message fixture, apart from the thread of three (its own test) and the bounces. */
    static final List<Expected> FIXTURES = List.of(
            Expected.of("attachment_only_text_csv_no_body", null, "alice@test.com", "alice@test.com", "Test", List.of("test.csv")),
            Expected.of("html_only_chatwoot", "This is html only mail", "tejaswini@ex.com", "tejaswini@ex.com",
                    "test html only mail", List.of()),
            // no From, no Date, no Message-ID; a KOI8-R RFC 2047 word in an unquoted name= parameter
            Expected.of("koi8r_rfc2047_attachment_filename", null, "Unknown sender", UNKNOWN, "A simple subject",
                    List.of("Список.doc")),
            Expected.of("malformed_bad_final_boundary", "A text section", "James Hillyerd", "james@makita.skynet", "Attachment",
                    List.of("foo_9E5D72.zip")),
            Expected.of("malformed_empty_date_header_chatwoot", "text only mail", "testemail@gmail.com", "testemail@gmail.com",
                    "test text only mail", List.of()),
            Expected.of("malformed_missing_inner_boundary_no_date_no_from", "Foo\n\nAAA", "Unknown sender", UNKNOWN, null, List.of()),
            Expected.of("malformed_no_closing_boundary_part", "Hello,", "Unknown sender", UNKNOWN, null, List.of()),
            Expected.of("multipart_alternative_related_inline_png", "Test of text section", "James Hillyerd",
                    "james@makita.skynet", "MIME test 1", List.of("favicon.png")),
            // UTF-8 quoted-printable, an empty reply around a forwarded message with a broken encoded file name
            Expected.of("reply_qp_utf8_ru_forwarded_rfc822_encoded_filename",
                    "Forwarded message: статус\n\nНовый заказ №28922 http://group.company.ru/ru/order/28922/process/\nСоздал:\n"
                            + "Клиент Ковчег (Гусев Дмитрий)", "i.kor@company.ru", "i.kor@company.ru", "статус",
                    List.of("Contract 25 04 2020.docx")).startingWith(),
            // UTF-8 base64 HTML with an RFC 2047 UTF-8 subject and display name
            Expected.of("utf8_base64_html_ru_inline_jpeg_cid",
                    "Здравствуйте!\n\nЕсли у Вас уже есть почтовые ящики, куда приходят письма", "Яндекс", "hello@yandex.ru",
                    "Соберите всю почту в этот ящик", List.of("collector.jpg")).startingWith(),
            // windows-1251 8bit body
            Expected.of("windows1251_8bit_with_forwarded_utf8_rfc822_ru", "SCR\n\n/\nS19\n07FEB\nwat", "Каукин Владимир",
                    "k1@yandex.ru", "S19 IZM A7-342", List.of("Message01.eml")),
            // windows-1251 RFC 2047 display name, date in the year 3609
            Expected.of("windows1251_b_encoded_from_bad_date_year3609",
                    "Filter2: This message has been scanned for viruses and\ndangerous content by MailScanner, and is\n"
                            + "believed to be clean.", "Атиковa", "yusuf75thu@auracom.net", "[0]: XXXXXXX XXXXX XXXXX !", List.of()),
            Expected.of("autoreply_apple_vacation_in_reply_to", "I'm only sleeping.", "kijitora@apple.example.com",
                    "kijitora@apple.example.com", "Auto reply: Nyaan", List.of()).auto(),
            Expected.of("autoreply_auto_submitted_ooo", "I am currently away returning to the office on May 5th.",
                    "kijitora@example.net", "kijitora@example.net", "Away until May 5", List.of()).startingWith().auto(),
            Expected.of("autoreply_exchange_no_auto_submitted_header",
                    "I'm out of the office Friday. For pressing news matters, Nyaan.", "Neko, Nyaan", "nekonyaan@example.org",
                    "Automatic reply: Nyaan", List.of()).auto(),
            Expected.of("autoreply_x_autoreply_utf8_base64_arabic_chatwoot", "أنظروا، أنا أحتاجها فقط لتقوم بالتدقيق في مقالتي الشخصية",
                    "متجر سوق نت", "example@gmail.com", "أهلين عميلنا الكريم", List.of()).auto());

    /** Bounce fixture, the Message-ID of the original it reports on, the diagnostic agents must see. */
    static final List<List<String>> BOUNCES = List.of(
            List.of("bounce_dsn_amazonses", "xxxxx@email.amazonses.com",
                    "5.1.1 Amazon SES did not send the message to this address because it is on the suppression list"),
            List.of("bounce_dsn_gmail_empty_delivery_status_chatwoot",
                    "conversation/93775311-9416-4428-964b-862001f8a8b2/messages/27855337@gmail.com",
                    "550 5.1.1 The email account that you tried to reach does not exist."),
            List.of("bounce_dsn_rfc822_headers_mailsite", "004801d1fc84$01c934ac$b247f0b7$@infospacemail.com",
                    "4.2.2 (Persistent transient failure - mailbox: mailbox full)"),
            List.of("bounce_dsn_yandex_ru", "446281417885946@web20h.yandex.ru", "550 5.1.1 <kijitora@example.jp>... User Unknown"),
            List.of("bounce_nondsn_mailru_ru_8bit", "8F3CE2D8-D60E-48C3-B9AF-BED628EE2CA5@mail.example.ru",
                    "550 5.1.1 <kijitora@example.jp>... User Unknown"));

    /** Part of the warning agents see on a broken message (meta.warnings); sound fixtures have none. */
    static final Map<String, String> WARNINGS = Map.of(
            "koi8r_rfc2047_attachment_filename", "no sender address",
            "malformed_bad_final_boundary", "closing boundary",
            "malformed_empty_date_header_chatwoot", "no Date",
            "malformed_missing_inner_boundary_no_date_no_from", "unreadable",
            "malformed_no_closing_boundary_part", "closing boundary",
            "utf8_base64_html_ru_inline_jpeg_cid", "no Date",
            "windows1251_b_encoded_from_bad_date_year3609", "Date in the future (3609)");

    /** Conversation ids of the auto-replies (test 2), checked for their SLA clock in test 3. */
    static final Map<String, String> autoReplyConversations = new LinkedHashMap<>();
    /** A conversation started by an ordinary customer mail: its clock must run, or "no clock" would prove nothing. */
    static String ordinaryConversation;

    @BeforeAll
    static void start() throws Exception {
        mail = new GreenMail(ServerSetup.dynamicPort(ServerSetupTest.SMTP_IMAP));
        mail.start();
        mail.setUser("support@localhost", "support", "secret");
        app = SwitchboardApplication.application().run("--server.port=0", "--INBOX_DATA_DIR=" + data,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD, "--INBOX_INSTANCE_ID=fixtures",
                "--EMAIL_IMAP_URL=imap://support:secret@127.0.0.1:" + mail.getImap().getPort() + "/INBOX",
                "--EMAIL_SMTP_URL=smtp://127.0.0.1:" + mail.getSmtp().getPort(),
                "--EMAIL_FROM=Support <support@localhost>",
                "--switchboard.email.poll-interval=PT2S", "--switchboard.email.unhealthy-after=PT5S");
        http = new Http("http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port"), "admin", PASSWORD);
        http.await(() -> http.up(), up -> up, Duration.ofSeconds(60));
        // the mailbox is connected and its first sync done before anything is appended (first run takes unread mail only)
        http.await(() -> Http.JSON.readTree(http.send("GET", "/actuator/health", null, true).body())
                        .path("components").path("emailAdapter").path("details").path("mailboxes").path("default"),
                box -> box.path("connected").asBoolean() && !box.path("lastSyncAt").isNull(), WAIT);
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        if (mail != null) {
            mail.stop();
        }
    }

    @Test
    @Order(0)
    void everyFixtureFileIsCoveredHere() throws Exception {
        List<String> covered = new ArrayList<>(List.of("thread_rfc5322_1_hello", "thread_rfc5322_2_reply", "thread_rfc5322_3_reply_to_reply"));
        FIXTURES.forEach(e -> covered.add(e.fixture()));
        BOUNCES.forEach(b -> covered.add(b.get(0)));
        try (var files = java.nio.file.Files.list(Path.of("../inbox-contract/src/test/resources/fixtures/email"))) {
            assertThat(files.map(f -> f.getFileName().toString().replace(".eml", "")).toList())
                    .containsExactlyInAnyOrderElementsOf(covered);
        }
    }

    @Test
    @Order(1)
    void theThreadOfThreeIsOneConversation_withEachMessagesTextAndSender() throws Exception {
        JsonNode hello = appendAndAwaitOne("thread_rfc5322_1_hello");
        JsonNode reply = appendAndAwaitOne("thread_rfc5322_2_reply");
        JsonNode replyToReply = appendAndAwaitOne("thread_rfc5322_3_reply_to_reply");
        String id = hello.path("conversation").asString();
        assertThat(reply.path("conversation").asString()).isEqualTo(id);
        assertThat(replyToReply.path("conversation").asString()).isEqualTo(id);

        JsonNode conversation = http.api("GET", "/api/conversations/" + id, null);
        assertThat(conversation.path("subject").asString()).isEqualTo("Saying Hello");
        assertThat(conversation.path("channel").asString()).isEqualTo("email");
        assertThat(contactEmails(conversation)).containsExactly("jdoe@machine.example");
        List<JsonNode> messages = StreamSupport.stream(conversation.path("messages").spliterator(), false).toList();
        assertThat(messages).extracting(m -> m.path("externalId").asString())
                .containsExactly("1234@local.machine.example", "3456@example.net", "abcd.1234@local.machine.tld");
        assertThat(messages).extracting(m -> m.path("text").asString()).containsExactly(
                "This is a message just to say hello.\nSo, \"Hello\".", "This is a reply to your hello.", "This is a reply to your reply.");
        // the API names the author of each message; the address of a later participant is on their own contact
        assertThat(messages).extracting(m -> m.path("author").asString()).containsExactly("John Doe", "Mary Smith", "John Doe");
        assertThat(messages).allSatisfy(m -> {
            assertThat(m.path("direction").asString()).isEqualTo("inbound");
            assertThat(m.path("attachments")).isEmpty();
        });
        ordinaryConversation = id;
    }

    @Test
    @Order(2)
    void everyOtherCustomerFixtureShowsItsTextSenderSubjectAndAttachmentNames() throws Exception {
        SoftAssertions softly = new SoftAssertions();
        for (Expected e : FIXTURES) {
            JsonNode found = appendAndAwaitOne(e.fixture());
            JsonNode m = found.path("message");
            JsonNode conversation = http.api("GET", "/api/conversations/" + found.path("conversation").asString(), null);
            String text = m.path("text").isNull() ? null : m.path("text").asString();
            if (e.textIsPrefix()) {
                softly.assertThat(text).as(e.fixture() + " text").startsWith(e.text());
            } else {
                softly.assertThat(text).as(e.fixture() + " text").isEqualTo(e.text());
            }
            softly.assertThat(m.path("author").asString()).as(e.fixture() + " sender name").isEqualTo(e.author());
            softly.assertThat(contactEmails(conversation)).as(e.fixture() + " sender address").containsExactly(e.email());
            // a mail without Subject shows its preview in the subject's place, never a made-up subject
            softly.assertThat(conversation.path("subject").asString()).as(e.fixture() + " subject")
                    .isEqualTo(e.subject() != null ? e.subject() : conversation.path("preview").asString());
            softly.assertThat(StreamSupport.stream(m.path("attachments").spliterator(), false).map(a -> a.path("name").asString()).toList())
                    .as(e.fixture() + " attachment names").containsExactlyElementsOf(e.attachments());
            softly.assertThat(m.path("automatic").asBoolean()).as(e.fixture() + " automatic").isEqualTo(e.automatic());
            softly.assertThat(m.path("direction").asString()).as(e.fixture() + " direction").isEqualTo("inbound");
            if (WARNINGS.containsKey(e.fixture())) {
                softly.assertThat(m.path("meta").path("warnings").asString()).as(e.fixture() + " warning")
                        .contains(WARNINGS.get(e.fixture())).doesNotContain("@");
            } else {
                softly.assertThat(m.path("meta").path("warnings").isMissingNode()).as(e.fixture() + " no warning").isTrue();
            }
            if (e.automatic()) {
                autoReplyConversations.put(e.fixture(), found.path("conversation").asString());
            }
        }
        softly.assertAll();
    }

    @Test
    @Order(3)
    void autoRepliesAreStoredButStartNoFirstResponseClock() throws Exception {
        assertThat(autoReplyConversations).hasSize(4);
        // an ordinary conversation gets its due time from the SLA tracker: the tracker is running and has caught up
        String control = ordinaryConversation != null ? ordinaryConversation
                : appendAndAwaitOne("html_only_chatwoot").path("conversation").asString();
        http.await(() -> http.api("GET", "/api/conversations/" + control, null).path("sla").path("firstResponse"),
                clock -> !clock.path("dueAt").isNull(), WAIT);
        Thread.sleep(1000); // events of later conversations had time too
        for (Map.Entry<String, String> e : autoReplyConversations.entrySet()) {
            JsonNode c = http.api("GET", "/api/conversations/" + e.getValue(), null);
            assertThat(c.path("sla").path("firstResponse").path("dueAt").isNull()).as(e.getKey() + " first-response due").isTrue();
            assertThat(c.path("sla").path("firstResponse").path("breached").asBoolean()).as(e.getKey()).isFalse();
            assertThat(c.path("messages")).as(e.getKey()).hasSize(1);
        }
    }

    @Test
    @Order(4)
    void aBounceMarksTheReplyItReportsOnFailedWithItsDiagnostic_andOneForMailNotOursIsCounted() throws Exception {
        // a customer writes, an agent answers once per bounce fixture; each reply leaves through GreenMail's SMTP
        byte[] question = ("From: Bounce Test <bounce-test@customer.example>\r\nTo: support@localhost\r\n"
                + "Subject: please answer\r\nMessage-ID: <bounce-question@customer.example>\r\n"
                + "Date: Mon, 2 Feb 2026 10:00:00 +0000\r\n\r\nWhere is my order?\r\n").getBytes(StandardCharsets.US_ASCII);
        String id = appendAndAwaitOne("a question answered five times", question).path("conversation").asString();
        Map<String, String> replyOf = new LinkedHashMap<>();
        for (List<String> b : BOUNCES) {
            HttpResponse<String> r = http.send("POST", "/api/conversations/" + id + "/messages",
                    "{\"text\":\"answer to be bounced: " + b.get(0) + "\"}", true);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            replyOf.put(b.get(0), Http.JSON.readTree(r.body()).path("id").asString());
        }
        JsonNode sent = http.await(() -> http.api("GET", "/api/conversations/" + id, null),
                c -> replyOf.values().stream().allMatch(rid -> "sent".equals(message(c, rid).path("deliveryStatus").asString())), WAIT);

        // first the bounces exactly as they are: they report on mail this inbox never sent
        double ignoredBefore = ignoredReceipts();
        for (List<String> b : BOUNCES) {
            append(fixture(b.get(0)));
        }
        http.await(this::ignoredReceipts, n -> n >= ignoredBefore + BOUNCES.size(), WAIT);
        JsonNode untouched = http.api("GET", "/api/conversations/" + id, null);
        assertThat(replyOf.values()).allSatisfy(rid -> assertThat(message(untouched, rid).path("deliveryStatus").asString()).isEqualTo("sent"));

        // then each bounce about one of our replies: the original's Message-ID in it becomes that reply's
        for (List<String> b : BOUNCES) {
            String ours = message(sent, replyOf.get(b.get(0))).path("externalId").asString();
            assertThat(ours).as("our Message-ID").startsWith("sb.").contains("@localhost");
            // ISO-8859-1 maps bytes one to one: the 8bit bodies stay as they were
            String raw = new String(fixture(b.get(0)), StandardCharsets.ISO_8859_1);
            assertThat(raw).contains(b.get(1));
            append(raw.replace(b.get(1), ours).getBytes(StandardCharsets.ISO_8859_1));
            JsonNode failed = http.await(() -> message(http.api("GET", "/api/conversations/" + id, null), replyOf.get(b.get(0))),
                    m -> "failed".equals(m.path("deliveryStatus").asString()), WAIT);
            assertThat(failed.path("failureReason").asString()).as(b.get(0)).startsWith(b.get(2));
        }
        // a bounce is no customer message: the conversation holds the question and the five replies only
        assertThat(http.api("GET", "/api/conversations/" + id, null).path("messages")).hasSize(1 + BOUNCES.size());
    }

    @Test
    @Order(5)
    void aMailServerGoneLongerThanTheThresholdPutsTheChannelOutOfServiceButNotTheProduct() throws Exception {
        mail.stop();
        JsonNode health = http.await(() -> Http.JSON.readTree(http.send("GET", "/actuator/health", null, true).body()),
                h -> "OUT_OF_SERVICE".equals(h.path("components").path("emailAdapter").path("status").asString()), WAIT);
        JsonNode box = health.path("components").path("emailAdapter").path("details").path("mailboxes").path("default");
        assertThat(box.path("state").asString()).isEqualTo("out-of-service");
        assertThat(box.path("errorType").asString()).isNotBlank();
        assertThat(box.toString()).doesNotContain("support@localhost").doesNotContain("secret");
        // agents keep the API and the other channels: the product as a whole stays UP (standalone's status order)
        assertThat(health.path("status").asString()).isEqualTo("UP");
        assertThat(http.up()).isTrue();
    }

    // ---------------------------------------------------------------- helpers

    static byte[] fixture(String name) throws Exception {
        try (InputStream in = EmailFixturesEndToEndTest.class.getResourceAsStream("/fixtures/email/" + name + ".eml")) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    /** IMAP APPEND, as a mail client or a delivery agent would put the message in the mailbox: the bytes unchanged. */
    static void append(byte[] raw) throws Exception {
        Session session = Session.getInstance(new Properties());
        Store store = session.getStore("imap");
        store.connect("127.0.0.1", mail.getImap().getPort(), "support", "secret");
        try {
            Folder inbox = store.getFolder("INBOX");
            inbox.appendMessages(new Message[]{new MimeMessage(session, new ByteArrayInputStream(raw))});
        } finally {
            store.close();
        }
    }

    JsonNode appendAndAwaitOne(String fixture) throws Exception {
        return appendAndAwaitOne(fixture, fixture(fixture));
    }

    /** Appends one message and returns {conversation, message} of the one inbound message that appears after it. */
    JsonNode appendAndAwaitOne(String what, byte[] raw) throws Exception {
        Set<String> before = inboundMessages().keySet();
        append(raw);
        Map<String, JsonNode> after = http.await(() -> {
            Map<String, JsonNode> now = inboundMessages();
            now.keySet().removeAll(before);
            return now;
        }, now -> !now.isEmpty(), WAIT);
        Thread.sleep(300);
        Map<String, JsonNode> settled = inboundMessages();
        settled.keySet().removeAll(before);
        assertThat(settled.keySet()).as("messages that appeared after appending " + what).isEqualTo(after.keySet()).hasSize(1);
        return settled.values().iterator().next();
    }

    /** Every inbound email message the agents' API shows, by message id, with its conversation id. */
    Map<String, JsonNode> inboundMessages() throws Exception {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        String cursor = null;
        do {
            JsonNode page = http.api("GET", "/api/conversations?channel=email&limit=100"
                    + (cursor == null ? "" : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)), null);
            for (JsonNode item : page.path("items")) {
                String cid = item.path("id").asString();
                for (JsonNode m : http.api("GET", "/api/conversations/" + cid, null).path("messages")) {
                    if ("inbound".equals(m.path("direction").asString())) {
                        out.put(m.path("id").asString(), Http.JSON.createObjectNode().put("conversation", cid).set("message", m));
                    }
                }
            }
            cursor = page.path("nextCursor").isNull() || page.path("nextCursor").isMissingNode() ? null : page.path("nextCursor").asString();
        } while (cursor != null);
        return new java.util.HashMap<>(out);
    }

    static List<String> contactEmails(JsonNode conversation) throws Exception {
        JsonNode contact = http.api("GET", "/api/contacts/" + conversation.path("contact").path("id").asString(), null);
        List<String> emails = new ArrayList<>();
        for (JsonNode i : contact.path("identities")) {
            if ("email".equals(i.path("type").asString())) {
                emails.add(i.path("value").asString());
            }
        }
        return emails;
    }

    static JsonNode message(JsonNode conversation, String messageId) {
        for (JsonNode m : conversation.path("messages")) {
            if (m.path("id").asString().equals(messageId)) {
                return m;
            }
        }
        return Http.JSON.missingNode();
    }

    /** switchboard.router.ignored for email receipts that match no message of ours (0 before the first). */
    double ignoredReceipts() throws Exception {
        HttpResponse<String> r = http.send("GET", "/actuator/metrics/switchboard.router.ignored?tag=channel:email&tag="
                + URLEncoder.encode("reason:receipt for a message not sent from here", StandardCharsets.UTF_8), null, true); // admins
        if (r.statusCode() == 404) {
            return 0;
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.JSON.readTree(r.body()).path("measurements").get(0).path("value").asDouble();
    }
}
