package io.switchboard;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.Environment;
import tools.jackson.databind.JsonNode;

import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Criteria;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;

import java.io.InputStream;
import java.time.Instant;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The standalone product in this JVM, on its real embedded broker and store under a temporary
 * INBOX_DATA_DIR, driven only through its HTTP surface (INTERFACE.md).
 */
class StandaloneEndToEndTest {

    static final String PASSWORD = "e2e-admin-password";
    static final String SECRET = "e2e-telegram-secret";

    @TempDir
    static Path data;
    static FakeTelegramApi telegram;
    static com.icegreen.greenmail.util.GreenMail mail;
    static com.icegreen.greenmail.user.GreenMailUser support;
    static ConfigurableApplicationContext app;
    static Http http;

    @BeforeAll
    static void start() throws Exception {
        telegram = new FakeTelegramApi();
        mail = new com.icegreen.greenmail.util.GreenMail(com.icegreen.greenmail.util.ServerSetupTest.IMAP.dynamicPort());
        mail.start();
        support = mail.setUser("support@localhost", "support", "secret");
        app = SwitchboardApplication.application().run(
                "--server.port=0",
                "--INBOX_DATA_DIR=" + data,
                "--INBOX_ADMIN_PASSWORD=" + PASSWORD,
                "--INBOX_INSTANCE_ID=e2e",
                "--TELEGRAM_BOT_TOKEN=42:e2e-token",
                "--TELEGRAM_WEBHOOK_SECRET=" + SECRET,
                "--TELEGRAM_API_URL=" + telegram.url(),
                "--PHONE_WEBHOOK_TOKEN=e2e-phone-token",
                "--EMAIL_IMAP_URL=imap://support:secret@127.0.0.1:" + mail.getImap().getPort() + "/INBOX",
                "--switchboard.email.poll-interval=PT1S");
        Environment env = app.getEnvironment();
        http = new Http("http://127.0.0.1:" + env.getProperty("local.server.port"), "admin", PASSWORD);
        http.await(() -> http.up(), up -> up, Duration.ofSeconds(60));
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.close();
        }
        if (telegram != null) {
            telegram.close();
        }
        if (mail != null) {
            mail.stop();
        }
    }

    static String fixture(String path) throws Exception {
        try (InputStream in = StandaloneEndToEndTest.class.getResourceAsStream("/fixtures/" + path)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    void update(long chat, String text) throws Exception {
        String update = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":" + chat)
                .replace("Hello, I need your Help", text);
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200);
    }

    HttpResponse<String> webhook(String secret, String body) throws Exception {
        return http.send("POST", "/webhooks/telegram/default", body, false, "X-Telegram-Bot-Api-Secret-Token", secret);
    }

    JsonNode conversationWith(String text) throws Exception {
        return http.await(() -> {
            for (JsonNode item : http.api("GET", "/api/conversations", null).path("items")) {
                JsonNode detail = http.api("GET", "/api/conversations/" + item.path("id").asString(), null);
                for (JsonNode m : detail.path("messages")) {
                    if (m.path("text").asString().equals(text)) {
                        return detail;
                    }
                }
            }
            return null;
        }, c -> c != null, Duration.ofSeconds(15));
    }

    /**
     * A customer's photo: the message lists the largest size (pixel area; here in the middle of the
     * array, with a heavier small size last), channel-telegram fetches that same file from the stored
     * update after the webhook's 200, and agents download it under the attachment's ref.
     */
    @Test
    void aTelegramPhotoIsListedByItsLargestSize_fetchedAfterTheAnswer_andServedUnderThatRef() throws Exception {
        byte[] photo = "e2e-photo-bytes: the largest size".getBytes(StandardCharsets.US_ASCII);
        telegram.files.put("e2e-photo-big", photo);
        telegram.files.put("e2e-photo-heavy", "the wrong size".getBytes(StandardCharsets.US_ASCII));
        String update = "{\"update_id\":88001,\"message\":{\"message_id\":88001,\"date\":1741794405,"
                + "\"chat\":{\"id\":7121,\"type\":\"private\"},\"from\":{\"id\":7121,\"first_name\":\"Photo\"},"
                + "\"caption\":\"e2e: a photo of the error\",\"photo\":["
                + "{\"file_id\":\"e2e-photo-small\",\"file_unique_id\":\"a\",\"width\":90,\"height\":90,\"file_size\":1000},"
                + "{\"file_id\":\"e2e-photo-big\",\"file_unique_id\":\"b\",\"width\":1280,\"height\":960,\"file_size\":" + photo.length + "},"
                + "{\"file_id\":\"e2e-photo-heavy\",\"file_unique_id\":\"c\",\"width\":320,\"height\":240,\"file_size\":150000}]}}";
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200);

        JsonNode attachment = conversationWith("e2e: a photo of the error").path("messages").get(0).path("attachments").get(0);
        assertThat(attachment.path("ref").asString()).isEqualTo("e2e-photo-big");
        assertThat(attachment.path("kind").asString()).isEqualTo("photo");
        assertThat(attachment.path("contentType").asString()).isEqualTo("image/jpeg");
        HttpResponse<String> file = http.await(() -> http.send("GET", "/api/files/e2e-photo-big", null, true),
                r -> r.statusCode() == 200, Duration.ofSeconds(20));
        assertThat(file.body()).isEqualTo(new String(photo, StandardCharsets.US_ASCII));
        assertThat(file.headers().firstValue("Content-Type")).hasValue("image/jpeg");
        assertThat(telegram.calls).noneSatisfy(c -> assertThat(c.body()).contains("e2e-photo-heavy"));
    }

    @Test
    void aTelegramUpdateReachesTheAgentsApi_onceOnly_andAReplyGoesOutAndEndsSent() throws Exception {
        String update = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7001")
                .replace("Hello, I need your Help", "e2e: my server is down");
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200);
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200); // Telegram retries

        JsonNode conversation = conversationWith("e2e: my server is down");
        assertThat(conversation.path("channel").asString()).isEqualTo("telegram");
        assertThat(conversation.path("contact").path("displayName").asString()).isEqualTo("Test Firstname Test Lastname");
        JsonNode message = conversation.path("messages").get(0);
        assertThat(message.path("direction").asString()).isEqualTo("inbound");
        assertThat(message.path("externalId").asString()).isEqualTo("5");
        assertThat(message.path("sentAt").asString()).isEqualTo("2015-09-07T17:05:32Z");
        assertThat(conversation.path("sla").path("firstResponse").has("dueAt")).isTrue();

        String id = conversation.path("id").asString();
        HttpResponse<String> reply = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: we are on it\"}", true);
        assertThat(reply.statusCode()).isEqualTo(202);

        // the SLA tracker stops the clock from the delivery's domain event, a moment after the reply shows sent
        JsonNode sent = http.await(() -> http.api("GET", "/api/conversations/" + id, null),
                c -> StreamSupport.stream(c.path("messages").spliterator(), false)
                        .anyMatch(m -> "sent".equals(m.path("deliveryStatus").asString()))
                        && !c.path("sla").path("firstResponse").path("stoppedAt").isNull(), Duration.ofSeconds(15));
        assertThat(sent.path("messages")).hasSize(2); // the retried update added nothing
        assertThat(telegram.calls).anySatisfy(call -> {
            assertThat(call.path()).isEqualTo("/bot42:e2e-token/sendMessage");
            assertThat(call.body()).contains("\"chat_id\":\"7001\"").contains("e2e: we are on it");
        });
        assertThat(sent.path("sla").path("firstResponse").path("stoppedAt").isNull()).isFalse();
    }

    @Test
    void aReplyToOneOfTheCustomersMessagesQuotesItInTelegram_andAForeignMessageIdIsRefused() throws Exception {
        update(7011, "e2e: which plan am I on?");
        JsonNode conversation = conversationWith("e2e: which plan am I on?");
        String id = conversation.path("id").asString();
        String asked = conversation.path("messages").get(0).path("id").asString();

        HttpResponse<String> wrong = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: hm\",\"replyTo\":\"no-such-message\"}", true);
        assertThat(wrong.statusCode()).isEqualTo(400);
        assertThat(wrong.body()).contains("replyTo");

        HttpResponse<String> reply = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: the business plan\",\"replyTo\":\"" + asked + "\"}", true);
        assertThat(reply.statusCode()).isEqualTo(202);
        http.await(() -> telegram.calls.stream().filter(call -> call.body().contains("e2e: the business plan")).findFirst(),
                java.util.Optional::isPresent, Duration.ofSeconds(15)).ifPresent(call -> {
                    assertThat(call.body()).contains("\"chat_id\":\"7011\"");
                    // the fixture's message_id is 5: Telegram shows the reply as quoting that message
                    assertThat(call.body()).contains("reply_parameters").containsPattern("\"message_id\":\\s*5\\b");
                });
    }

    @Test
    void aMailTooLargeForKafkaIsStoredInTheEmbeddedStoreAndReachesTheAgentsApi() throws Exception {
        jakarta.mail.Session session = jakarta.mail.Session.getInstance(new java.util.Properties());
        jakarta.mail.internet.MimeMessage big = new jakarta.mail.internet.MimeMessage(session);
        big.setFrom("Big Customer <big@customer.example>");
        big.setRecipients(jakarta.mail.Message.RecipientType.TO, "support@localhost");
        big.setSubject("e2e: huge logs");
        jakarta.mail.internet.MimeMultipart mixed = new jakarta.mail.internet.MimeMultipart();
        jakarta.mail.internet.MimeBodyPart text = new jakarta.mail.internet.MimeBodyPart();
        text.setText("e2e: logs attached", "UTF-8");
        jakarta.mail.internet.MimeBodyPart file = new jakarta.mail.internet.MimeBodyPart();
        byte[] data = new byte[9 * 1024 * 1024];
        new java.util.Random(3).nextBytes(data);
        file.setDataHandler(new jakarta.activation.DataHandler(new jakarta.mail.util.ByteArrayDataSource(data, "application/gzip")));
        file.setFileName("server-logs.tar.gz");
        file.setDisposition(jakarta.mail.Part.ATTACHMENT);
        mixed.addBodyPart(text);
        mixed.addBodyPart(file);
        big.setContent(mixed);
        big.saveChanges();
        support.deliver(big);

        // 12+ MB: over the 10 MB record limit, so it went through the embedded store by reference (ADR 0102)
        JsonNode conversation = http.await(() -> {
            for (JsonNode item : http.api("GET", "/api/conversations?channel=email", null).path("items")) {
                JsonNode detail = http.api("GET", "/api/conversations/" + item.path("id").asString(), null);
                if (detail.path("subject").asString().equals("e2e: huge logs")) {
                    return detail;
                }
            }
            return null;
        }, c -> c != null, Duration.ofSeconds(90));
        JsonNode message = conversation.path("messages").get(0);
        assertThat(message.path("text").asString()).isEqualTo("e2e: logs attached");
        assertThat(message.path("attachments").get(0).path("name").asString()).isEqualTo("server-logs.tar.gz");
        assertThat(message.path("attachments").get(0).path("size").asLong()).isEqualTo(data.length);
        // component details are for admins (ADR 0143)
        JsonNode health = Http.JSON.readTree(http.send("GET", "/actuator/health", null, true).body());
        JsonNode store = health.path("components").path("emailAdapter").path("details").path("payloadStore");
        assertThat(store.path("configured").asBoolean()).isTrue();
        assertThat(store.path("stored").asLong()).isPositive();
    }

    @Test
    void forgedAndBrokenRequestsAreRefusedWithClearStatuses() throws Exception {
        String update = fixture("telegram/zammad_private_text.json");
        assertThat(webhook("wrong", update).statusCode()).isEqualTo(401);
        assertThat(webhook(SECRET, "garbage").statusCode()).isEqualTo(400);
        assertThat(http.send("GET", "/api/conversations", null, false).statusCode()).isEqualTo(401);
        assertThat(http.send("GET", "/api/conversations?limit=0", null, true).statusCode()).isEqualTo(400);
        assertThat(http.send("GET", "/api/conversations?cursor=bm90LWEtY3Vyc29y", null, true).statusCode()).isEqualTo(400);
        assertThat(http.send("GET", "/api/conversations/nope", null, true).statusCode()).isEqualTo(404);
        assertThat(http.send("PATCH", "/api/conversations/nope", "{\"status\":\"bogus\"}", true).statusCode()).isEqualTo(400);
        assertThat(http.send("POST", "/api/admin/users", "{\"username\":\"x\"}", true).statusCode()).isEqualTo(400);
    }

    @Test
    void usersCanBeAddedByAdminAndAgentsCannotAdminister() throws Exception {
        HttpResponse<String> created = http.send("POST", "/api/admin/users",
                "{\"username\":\"alice\",\"password\":\"alice-password\",\"roles\":[\"agent\"]}", true);
        assertThat(created.statusCode()).isEqualTo(201);
        Http alice = new Http(baseUrl(), "alice", "alice-password");
        assertThat(alice.send("GET", "/api/conversations", null, true).statusCode()).isEqualTo(200);
        assertThat(alice.send("POST", "/api/admin/users",
                "{\"username\":\"mallory\",\"password\":\"mallory-pass\",\"roles\":[\"admin\"]}", true).statusCode()).isEqualTo(403);
    }

    @Test
    void theApiIsDescribedByOpenApi_andHealthShowsEveryPart() throws Exception {
        HttpResponse<String> docs = http.send("GET", "/v3/api-docs", null, true);
        assertThat(docs.statusCode()).isEqualTo(200);
        assertThat(docs.body()).contains("openapi").contains("/api/conversations");
        // component details are for admins (ADR 0143)
        JsonNode health = Http.JSON.readTree(http.send("GET", "/actuator/health", null, true).body());
        assertThat(health.path("components").path("kafka").path("status").asString()).isEqualTo("UP");
        assertThat(health.path("components").path("store").path("status").asString()).isEqualTo("UP");
        // Prometheus scrape: the pipeline's own metrics and the consumers' lag
        update(7301, "e2e: count me");
        conversationWith("e2e: count me");
        String metrics = http.send("GET", "/actuator/prometheus", null, true).body(); // admins or the scraper token
        assertThat(metrics).contains("switchboard_router_messages_total").contains("kafka_consumer_fetch_manager_records_lag_max")
                .contains("switchboard_router_record_seconds_count{");
    }

    @Test
    void statusAssigneeAndPriorityCanBeChanged() throws Exception {
        String update = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7002")
                .replace("Hello, I need your Help", "e2e: please change my quota");
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200);
        String id = conversationWith("e2e: please change my quota").path("id").asString();
        JsonNode patched = http.api("PATCH", "/api/conversations/" + id,
                "{\"status\":\"resolved\",\"assignee\":\"admin\",\"priority\":\"high\"}");
        assertThat(patched.path("status").asString()).isEqualTo("resolved");
        assertThat(patched.path("assignee").asString()).isEqualTo("admin");
        assertThat(patched.path("priority").asString()).isEqualTo("high");
        JsonNode resolved = http.api("GET", "/api/conversations?status=resolved", null);
        assertThat(resolved.path("items")).anySatisfy(i -> assertThat(i.path("id").asString()).isEqualTo(id));
    }

    @Test
    void twoContactsOfOnePersonAreLinkedByAnIdentityAndMerged() throws Exception {
        String first = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7101")
                .replace("Hello, I need your Help", "e2e: from my phone");
        String second = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7102")
                .replace("Hello, I need your Help", "e2e: from my laptop");
        assertThat(webhook(SECRET, first).statusCode()).isEqualTo(200);
        assertThat(webhook(SECRET, second).statusCode()).isEqualTo(200);
        String a = conversationWith("e2e: from my phone").path("contact").path("id").asString();
        String b = conversationWith("e2e: from my laptop").path("contact").path("id").asString();
        assertThat(a).isNotEqualTo(b);

        HttpResponse<String> linked = http.send("POST", "/api/contacts/" + a + "/identities",
                "{\"type\":\"email\",\"value\":\"Anna@Example.org\"}", true);
        assertThat(linked.statusCode()).isEqualTo(201);
        HttpResponse<String> taken = http.send("POST", "/api/contacts/" + b + "/identities",
                "{\"type\":\"email\",\"value\":\"anna@example.org\"}", true);
        assertThat(taken.statusCode()).isEqualTo(409);
        assertThat(Http.JSON.readTree(taken.body()).path("contactId").asString()).isEqualTo(a);
        assertThat(http.api("GET", "/api/contacts/" + b, null).path("mergeSuggestions").toString()).contains(a);

        JsonNode merged = http.api("POST", "/api/contacts/" + a + "/merge", "{\"from\":\"" + b + "\"}");
        assertThat(merged.path("identities").toString()).contains("7101").contains("7102").contains("anna@example.org");
        assertThat(merged.path("conversations")).hasSize(2);
        assertThat(http.api("GET", "/api/contacts/" + b, null).path("mergedInto").asString()).isEqualTo(a);
        assertThat(http.send("POST", "/api/contacts/" + a + "/identities", "{\"type\":\"phone\",\"value\":\"8 912\"}", true)
                .statusCode()).isEqualTo(400);

        // the same person now writes by email, through the mailbox: the mail lands on the one contact
        jakarta.mail.internet.MimeMessage mailFromAnna = new jakarta.mail.internet.MimeMessage(
                jakarta.mail.Session.getInstance(new java.util.Properties()));
        mailFromAnna.setFrom("Anna K <anna@example.org>");
        mailFromAnna.setRecipients(jakarta.mail.Message.RecipientType.TO, "support@localhost");
        mailFromAnna.setSubject("e2e: writing by mail now");
        mailFromAnna.setText("e2e: same person, another channel", "UTF-8");
        mailFromAnna.saveChanges();
        support.deliver(mailFromAnna);
        JsonNode byMail = conversationWith("e2e: same person, another channel");
        assertThat(byMail.path("channel").asString()).isEqualTo("email");
        assertThat(byMail.path("contact").path("id").asString()).isEqualTo(a);
        assertThat(http.api("GET", "/api/contacts/" + a, null).path("conversations")).hasSize(3);
    }

    @Test
    void aReplyTheChannelRefusesEndsFailedWithTheChannelsReason() throws Exception {
        update(7311, "e2e: please answer me");
        String id = conversationWith("e2e: please answer me").path("id").asString();
        telegram.refuse(7311, 403, "Forbidden: bot was blocked by the user");
        HttpResponse<String> reply = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: are you there?\"}", true);
        assertThat(reply.statusCode()).isEqualTo(202);

        JsonNode failed = http.await(() -> http.api("GET", "/api/conversations/" + id, null),
                c -> StreamSupport.stream(c.path("messages").spliterator(), false)
                        .anyMatch(m -> "failed".equals(m.path("deliveryStatus").asString())), Duration.ofSeconds(15));
        JsonNode outbound = StreamSupport.stream(failed.path("messages").spliterator(), false)
                .filter(m -> "outbound".equals(m.path("direction").asString())).findFirst().orElseThrow();
        assertThat(outbound.path("failureReason").asString()).isEqualTo("Forbidden: bot was blocked by the user");
        assertThat(telegram.calls).anySatisfy(call -> assertThat(call.body()).contains("\"chat_id\":\"7311\""));
        // a failed reply is no response: the customer is still waiting
        assertThat(failed.path("sla").path("firstResponse").path("stoppedAt").isNull()).isTrue();
    }

    @Test
    void aReplayRefreshesStoredMessagesFromTheirRawEvents_withoutDuplicates() throws Exception {
        String update = fixture("telegram/zammad_private_text.json").replace("\"id\":111111", "\"id\":7201")
                .replace("Hello, I need your Help", "e2e: replay me");
        Instant before = Instant.now().minusSeconds(5);
        assertThat(webhook(SECRET, update).statusCode()).isEqualTo(200);
        String id = conversationWith("e2e: replay me").path("id").asString();
        // what an earlier, buggy normalizer could have stored
        app.getBean(MongoTemplate.class).updateFirst(Query.query(Criteria.where("_id").is(id)),
                new Update().set("messages.0.text", "e2e: garbled by a bug"), "transcripts");
        assertThat(http.api("GET", "/api/conversations/" + id, null).path("messages").get(0).path("text").asString())
                .isEqualTo("e2e: garbled by a bug");

        HttpResponse<String> accepted = http.send("POST", "/api/admin/replay",
                "{\"channel\":\"telegram\",\"from\":\"" + before + "\"}", true);
        assertThat(accepted.statusCode()).isEqualTo(202);
        String replay = Http.JSON.readTree(accepted.body()).path("id").asString();
        JsonNode status = http.await(() -> http.api("GET", "/api/admin/replays/" + replay, null),
                s -> "finished".equals(s.path("state").asString()), Duration.ofSeconds(30));
        assertThat(status.path("applied").asLong()).isGreaterThanOrEqualTo(1);

        JsonNode after = http.api("GET", "/api/conversations/" + id, null);
        assertThat(after.path("messages")).hasSize(1);
        assertThat(after.path("messages").get(0).path("text").asString()).isEqualTo("e2e: replay me");
        assertThat(http.send("POST", "/api/admin/replay", "{\"channel\":\"fax\",\"from\":\"" + before + "\"}", true)
                .statusCode()).isEqualTo(400);
    }

    @Test
    void deadLettersAreListedWithTheirReasonAndCanBeReplayed() throws Exception {
        // a well-formed Update the normalizer cannot use: the webhook accepts it, the router parks it
        String unusable = "{\"update_id\":777001,\"message\":{\"message_id\":1,\"text\":\"no chat here\"}}";
        assertThat(webhook(SECRET, unusable).statusCode()).isEqualTo(200);
        JsonNode letters = http.await(() -> http.api("GET", "/api/admin/deadletters", null),
                l -> l.toString().contains("without chat.id"), Duration.ofSeconds(15));
        JsonNode letter = null;
        for (JsonNode l : letters) {
            if (l.path("reason").asString().contains("without chat.id")) {
                letter = l;
            }
        }
        assertThat(letter.path("originalTopic").asString()).isEqualTo("inbox.inbound.telegram.v1");
        assertThat(letter.toString()).doesNotContain("no chat here");
        int count = letters.size();

        HttpResponse<String> replayed = http.send("POST", "/api/admin/deadletters/" + letter.path("partition").asInt() + "/"
                + letter.path("offset").asLong() + "/replay", null, true);
        assertThat(replayed.statusCode()).isEqualTo(202);
        // the normalizer still cannot use it, so it is parked again: one more dead letter
        http.await(() -> http.api("GET", "/api/admin/deadletters", null).size(), n -> n > count, Duration.ofSeconds(15));
        assertThat(http.send("POST", "/api/admin/deadletters/0/999999/replay", null, true).statusCode()).isEqualTo(404);
    }

    @Test
    void aMissedCallOpensACallbackConversationWithTheCallsDetailsInTheApi() throws Exception {
        String call = "{\"callId\":\"e2e-call-1\",\"event\":\"end\",\"direction\":\"inbound\","
                + "\"from\":\"+7 (499) 350-97-03\",\"to\":\"74957770011\",\"startedAt\":\"2025-03-12T10:00:00Z\","
                + "\"endedAt\":\"2025-03-12T10:00:30Z\",\"disposition\":\"no-answer\",\"agent\":\"201\"}";
        HttpResponse<String> accepted = http.send("POST", "/webhooks/phone/default/generic", call, false,
                "Authorization", "Bearer e2e-phone-token");
        assertThat(accepted.statusCode()).isEqualTo(202);
        JsonNode conversation = http.await(() -> {
            for (JsonNode item : http.api("GET", "/api/conversations?channel=phone", null).path("items")) {
                return http.api("GET", "/api/conversations/" + item.path("id").asString(), null);
            }
            return null;
        }, c -> c != null && c.path("messages").size() > 0, Duration.ofSeconds(15));
        JsonNode entry = conversation.path("messages").get(0);
        assertThat(entry.path("kind").asString()).isEqualTo("call");
        assertThat(entry.path("meta").path("disposition").asString()).isEqualTo("no-answer");
        assertThat(conversation.path("sla").path("firstResponse").path("dueAt").isNull())
                .as("a missed call starts the first-response clock").isFalse();
    }

    static String upload(String name, String type, byte[] content) throws Exception {
        String boundary = "e2e-" + java.util.UUID.randomUUID();
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                + "\"\r\nContent-Type: " + type + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.writeBytes(content);
        body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(baseUrl() + "/api/files"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(("admin:" + PASSWORD).getBytes(StandardCharsets.UTF_8)))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return Http.JSON.readTree(r.body()).path("ref").asString();
    }

    /** Byte for byte: ISO-8859-1 maps every byte to one char. */
    static boolean contains(byte[] haystack, byte[] needle) {
        return new String(haystack, StandardCharsets.ISO_8859_1).contains(new String(needle, StandardCharsets.ISO_8859_1));
    }

    @Test
    void anAgentsFilesReachTelegramThroughSignedLinks_andTheReplyEndsSent() throws Exception {
        update(7401, "e2e: send me the log");
        JsonNode conversation = conversationWith("e2e: send me the log");
        String id = conversation.path("id").asString();
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 'e', '2', 'e', (byte) 0xFE, 0, 1};
        byte[] pdf = "%PDF-1.4 e2e log of the outage".getBytes(StandardCharsets.US_ASCII);
        String pngRef = upload("screen.png", "image/png", png);
        String pdfRef = upload("outage.pdf", "application/octet-stream", pdf);
        // larger than the web form's servlet limit (11 MB) in the same process: uploads take up to 20 MB
        upload("big.log", "text/plain", new byte[12 * 1024 * 1024]);

        HttpResponse<String> reply = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: both files\",\"attachments\":[\"" + pngRef + "\",\"" + pdfRef + "\"]}", true);
        assertThat(reply.statusCode()).as(reply.body()).isEqualTo(202);
        String messageId = Http.JSON.readTree(reply.body()).path("id").asString();

        JsonNode sent = http.await(() -> http.api("GET", "/api/conversations/" + id, null),
                c -> StreamSupport.stream(c.path("messages").spliterator(), false)
                        .anyMatch(m -> m.path("id").asString().equals(messageId) && "sent".equals(m.path("deliveryStatus").asString())),
                Duration.ofSeconds(20));
        JsonNode message = StreamSupport.stream(sent.path("messages").spliterator(), false)
                .filter(m -> m.path("id").asString().equals(messageId)).findFirst().orElseThrow();
        assertThat(message.path("attachments").toString()).contains("screen.png").contains("outage.pdf").contains("application/pdf");
        assertThat(telegram.calls).anySatisfy(call -> {
            assertThat(call.path()).isEqualTo("/bot42:e2e-token/sendMessage");
            assertThat(call.body()).contains("\"chat_id\":\"7401\"").contains("e2e: both files");
        });
        assertThat(telegram.calls).anySatisfy(call -> {
            assertThat(call.path()).isEqualTo("/bot42:e2e-token/sendPhoto");
            assertThat(contains(call.raw(), png)).as("the photo's bytes").isTrue();
            assertThat(call.body()).contains("filename=\"screen.png\"").contains("7401");
        });
        assertThat(telegram.calls).anySatisfy(call -> {
            assertThat(call.path()).isEqualTo("/bot42:e2e-token/sendDocument");
            assertThat(contains(call.raw(), pdf)).as("the document's bytes").isTrue();
            assertThat(call.body()).contains("filename=\"outage.pdf\"");
        });

        // through another identity: this product runs without SMTP, so a reply by email is refused with the reason
        String contact = conversation.path("contact").path("id").asString();
        assertThat(http.send("POST", "/api/contacts/" + contact + "/identities", "{\"type\":\"email\",\"value\":\"e2e-files@example.org\"}",
                true).statusCode()).isEqualTo(201);
        HttpResponse<String> viaEmail = http.send("POST", "/api/conversations/" + id + "/messages",
                "{\"text\":\"e2e: by mail\",\"via\":{\"channel\":\"email\",\"identity\":\"e2e-files@example.org\"}}", true);
        assertThat(viaEmail.statusCode()).isEqualTo(400);
        assertThat(viaEmail.body()).contains("no email account is configured").contains("EMAIL_SMTP_URL");
    }

    static String baseUrl() {
        return "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
    }
}
