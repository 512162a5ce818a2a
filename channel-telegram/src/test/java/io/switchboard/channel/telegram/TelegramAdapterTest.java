package io.switchboard.channel.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** channel-telegram alone on a real embedded broker, with a local stand-in for the Bot API. */
@SpringBootTest(classes = TelegramAdapterApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}",
                "switchboard.telegram.accounts.default.bot-token=123:secret-token",
                "switchboard.telegram.accounts.default.webhook-secret=hook-secret",
                "switchboard.telegram.accounts.default.mode=webhook",
                "switchboard.telegram.accounts.poller.bot-token=777:poll-token",
                "switchboard.telegram.accounts.poller.mode=polling",
                "switchboard.telegram.poll-timeout-seconds=1",
                "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN"})
@EmbeddedKafka(partitions = 1, topics = {"inbox.inbound.telegram.v1", "inbox.delivery.reports.v1"})
class TelegramAdapterTest {

    static final FakeBotApi BOT_API = new FakeBotApi();
    /** The polling bot's API: two updates at first, then nothing new (after a short long-poll wait). */
    static final FakeBotApi POLL_API = new FakeBotApi();

    static {
        POLL_API.responder = call -> {
            if (!call.body().contains("\"offset\"")) {
                return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[" + polled(9500, "first polled") + ","
                        + polled(9501, "second polled") + "]}");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[]}");
        };
    }

    static String polled(int updateId, String text) {
        return "{\"update_id\":" + updateId + ",\"message\":{\"message_id\":" + updateId + ",\"date\":1741794405,"
                + "\"chat\":{\"id\":4242,\"type\":\"private\"},\"from\":{\"id\":4242,\"first_name\":\"Poll\"},"
                + "\"text\":\"" + text + "\"}}";
    }

    @DynamicPropertySource
    static void api(DynamicPropertyRegistry registry) {
        registry.add("switchboard.telegram.accounts.default.api-url", BOT_API::url);
        registry.add("switchboard.telegram.accounts.poller.api-url", POLL_API::url);
    }

    @AfterAll
    static void stop() {
        BOT_API.close();
        POLL_API.close();
    }

    @Test
    void pollingPublishesEachUpdateAndConfirmsTheBatchOnlyAfterwards() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            List<String> ids = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 15_000;
            while (!(ids.contains("telegram:poller:update:9500") && ids.contains("telegram:poller:update:9501"))
                    && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(c, Duration.ofMillis(300))
                        .forEach(r -> ids.add(ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId()));
            }
            assertThat(ids).contains("telegram:poller:update:9500", "telegram:poller:update:9501");
        }
        // the next call confirms both to Telegram (offset = last update_id + 1)
        long deadline = System.currentTimeMillis() + 10_000;
        while (POLL_API.calls.stream().noneMatch(call -> call.body().contains("\"offset\":9502"))
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertThat(POLL_API.calls).anySatisfy(call -> {
            assertThat(call.path()).isEqualTo("/bot777:poll-token/getUpdates");
            assertThat(call.body()).contains("\"offset\":9502").contains("allowed_updates");
        });
        // the webhook of a polling account does not exist
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/telegram/poller"))
                .header("X-Telegram-Bot-Api-Secret-Token", "x").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
        assertThat(http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }

    @LocalServerPort
    int port;
    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    KafkaTemplate<String, byte[]> kafka;
    @Autowired
    TelegramSender sender;

    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void reset() {
        BOT_API.calls.clear();
        BOT_API.responder = c -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":1}}");
    }

    static byte[] fixture(String name) throws IOException {
        try (InputStream in = TelegramAdapterTest.class.getResourceAsStream("/fixtures/telegram/" + name)) {
            return in.readAllBytes();
        }
    }

    HttpResponse<String> post(String secret, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/telegram/default"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (secret != null) {
            b.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    Consumer<String, byte[]> consumer(String topic) {
        Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer();
        broker.consumeFromAnEmbeddedTopic(c, topic);
        return c;
    }

    static List<ConsumerRecord<String, byte[]>> drain(Consumer<String, byte[]> c, int atLeast) {
        List<ConsumerRecord<String, byte[]>> all = new ArrayList<>();
        long deadline = System.currentTimeMillis() + 15_000;
        while (all.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(all::add);
        }
        return all;
    }

    @Test
    void anUpdateWithTheRightSecretIsInKafkaUnchangedBeforeThe200() throws Exception {
        byte[] update = fixture("zammad_private_photo_caption.json");
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            HttpResponse<String> response = post("hook-secret", update);
            assertThat(response.statusCode()).isEqualTo(200);
            // acknowledged means already on the broker: the first poll finds it
            List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 15_000;
            while (records.isEmpty() && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                    if (ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId().equals("telegram:default:update:3")) {
                        records.add(r);
                    }
                });
            }
            assertThat(records).hasSize(1);
            ConsumerRecord<String, byte[]> record = records.get(0);
            assertThat(record.key()).isEqualTo("telegram:default:chat:111111");
            InboundEnvelope e = ContractJson.fromBytes(record.value(), InboundEnvelope.class);
            assertThat(e.channel()).isEqualTo(Channel.TELEGRAM);
            assertThat(e.account()).isEqualTo("default");
            assertThat(e.eventId()).isEqualTo("telegram:default:update:3");
            assertThat(e.externalIds()).containsEntry("update_id", "3").containsEntry("chat_id", "111111").containsEntry("message_id", "3");
            assertThat(e.payloadBytes()).isEqualTo(update);
        }
    }

    @Test
    void aFileIsFetchedAfterTheAnswerAndPublishedAsItsOwnEvent() throws Exception {
        byte[] pdf = "%PDF-1.4 switchboard".getBytes(StandardCharsets.US_ASCII);
        BOT_API.responder = call -> call.path().endsWith("/getFile")
                ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_id\":\"documentfileid\",\"file_path\":\"documents/file_1.pdf\"}}")
                : call.path().endsWith("/documents/file_1.pdf") ? new FakeBotApi.Reply(200, new String(pdf, StandardCharsets.ISO_8859_1))
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}");
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(post("hook-secret", fixture("zammad_private_document_pdf.json")).statusCode()).isEqualTo(200);
            List<InboundEnvelope> files = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 15_000;
            while (files.isEmpty() && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                    InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                    if (e.contentType().equals(TelegramFileFetcher.CONTENT_TYPE)) {
                        files.add(e);
                    }
                });
            }
            assertThat(files).singleElement().satisfies(f -> {
                assertThat(f.externalIds()).containsEntry("file_id", "documentfileid").containsEntry("name", "document.pdf");
                assertThat(f.payloadBytes()).isEqualTo(pdf);
                assertThat(f.affinityKey()).isEqualTo("telegram:default:chat:111111");
            });
        }
        assertThat(BOT_API.calls).anySatisfy(call -> assertThat(call.path()).isEqualTo("/file/bot123:secret-token/documents/file_1.pdf"));
    }

    @Test
    void wrongOrMissingSecretIs401AndNothingIsPublished() throws Exception {
        byte[] forged = new String(fixture("zammad_private_text.json"), StandardCharsets.UTF_8)
                .replace("\"update_id\":5", "\"update_id\":987654").getBytes(StandardCharsets.UTF_8);
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(post("wrong", forged).statusCode()).isEqualTo(401);
            assertThat(post(null, forged).statusCode()).isEqualTo(401);
            List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
            KafkaTestUtils.getRecords(c, Duration.ofSeconds(1)).forEach(seen::add);
            assertThat(seen).extracting(r -> ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId())
                    .doesNotContain("telegram:default:update:987654");
        }
    }

    @Test
    void garbageIs400WithAReason() throws Exception {
        HttpResponse<String> notJson = post("hook-secret", "garbage".getBytes(StandardCharsets.UTF_8));
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("not JSON");
        HttpResponse<String> notUpdate = post("hook-secret", fixture("telegrambots_getupdates_envelope_write_access_allowed.json"));
        assertThat(notUpdate.statusCode()).isEqualTo(400);
        assertThat(notUpdate.body()).contains("update_id");
        assertThat(post("hook-secret", new byte[]{(byte) 0xff, (byte) 0xfe, '{', '}'}).statusCode()).isEqualTo(400);
        assertThat(post("hook-secret", "{\"update_id\":1}".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(400);
    }

    @Test
    void anUnknownAccountIs404() throws Exception {
        HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/telegram/nobody"))
                .header("X-Telegram-Bot-Api-Secret-Token", "hook-secret").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
        assertThat(http.send(r, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
    }

    /** Only the replies: background file fetches of earlier tests may call the same stand-in. */
    static List<FakeBotApi.Call> sendCalls() {
        return BOT_API.calls.stream().filter(c -> c.path().endsWith("/sendMessage")).toList();
    }

    static OutboundCommand command(String text) {
        return new OutboundCommand(1, UUID.randomUUID().toString(), Channel.TELEGRAM, "default", "conv-1",
                Map.of("chat_id", "111111"), text, null, null, List.of(), List.of(), Instant.now(), "agent");
    }

    @Test
    void aReplyCommandReachesSendMessageWithTheChatAndEndsSent() throws Exception {
        BOT_API.responder = c -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":4242,\"chat\":{\"id\":111111}}}");
        OutboundCommand command = command("Your VM is back");
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS)) {
            kafka.send(Topics.outbound(Channel.TELEGRAM), command.conversationId(), ContractJson.toBytes(command)).get();
            List<ConsumerRecord<String, byte[]>> got = drain(reports, 1);
            DeliveryReport report = ContractJson.fromBytes(got.get(0).value(), DeliveryReport.class);
            assertThat(report.messageId()).isEqualTo(command.messageId());
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(report.externalId()).isEqualTo("4242");
        }
        assertThat(sendCalls()).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/bot123:secret-token/sendMessage");
            assertThat(call.body()).contains("\"chat_id\":\"111111\"").contains("Your VM is back");
        });
    }

    @Test
    void a429IsRetriedAfterRetryAfter() throws Exception {
        AtomicInteger n = new AtomicInteger();
        BOT_API.responder = c -> !c.path().endsWith("/sendMessage") ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}")
                : n.incrementAndGet() == 1
                ? new FakeBotApi.Reply(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 1\",\"parameters\":{\"retry_after\":1}}")
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":7}}");
        DeliveryReport report = sender.send(command("hello"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.attempts()).isEqualTo(2);
        assertThat(sendCalls()).hasSize(2);
    }

    @Test
    void aBlockedBotFailsAtOnceWithTelegramsReason() throws Exception {
        BOT_API.responder = c -> new FakeBotApi.Reply(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the user\"}");
        DeliveryReport report = sender.send(command("hello"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(report.failureReason()).isEqualTo("Forbidden: bot was blocked by the user");
        assertThat(report.recipientUnreachable()).isEqualTo(Boolean.TRUE);
        assertThat(sendCalls()).hasSize(1);
    }

    @Test
    void longRepliesAreSplitAt4096Characters() throws Exception {
        String text = "a".repeat(5000) + " " + "b".repeat(100);
        DeliveryReport report = sender.send(command(text));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(sendCalls()).hasSize(2);
        assertThat(TelegramSender.split(text)).allSatisfy(p -> assertThat(p.length()).isLessThanOrEqualTo(4096));
        assertThat(String.join("", TelegramSender.split("x".repeat(4095) + "\uD83D\uDE00"))).isEqualTo("x".repeat(4095) + "\uD83D\uDE00");
    }

    @Test
    void repliesToOneChatAreSpacedBySecondAndToManyChatsBy30PerSecond() throws Exception {
        List<Long> waits = new ArrayList<>();
        TelegramSender.RateLimiter limiter = new TelegramSender.RateLimiter(waits::add);
        limiter.acquire("default", "1");
        limiter.acquire("default", "1");
        assertThat(waits).singleElement().satisfies(w -> assertThat(w).isBetween(900L, 1000L));
        waits.clear();
        limiter.acquire("other", "2");
        limiter.acquire("other", "3");
        assertThat(waits).singleElement().satisfies(w -> assertThat(w).isBetween(1L, 34L));
    }

    @Test
    void theOldRetryAfterTextIsUnderstood() {
        assertThat(TelegramClient.retryAfterFromText("Too Many Requests: retry after 5")).isEqualTo(5);
        assertThat(TelegramClient.retryAfterFromText("Bad Request")).isNull();
    }

    // ------------------------------------------------------------------ agents' files (sendPhoto / sendDocument)

    /** Where replies' files are downloaded from (inbox-api's signed links in the product). */
    static final FakeBotApi FILES = new FakeBotApi();
    static final byte[] PNG = new byte[]{(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, (byte) 0xFF, 0};
    static final byte[] PDF = "%PDF-1.4 \u00ff switchboard log".getBytes(StandardCharsets.ISO_8859_1);

    static {
        FILES.responder = call -> call.path().equals("/files/screen.png") ? new FakeBotApi.Reply(200, "", PNG)
                : call.path().equals("/files/log.pdf") ? new FakeBotApi.Reply(200, "", PDF)
                : new FakeBotApi.Reply(404, "{}");
    }

    @AfterAll
    static void stopFiles() {
        FILES.close();
    }

    static OutboundCommand withFiles(String chat, String text, String inReplyTo, OutboundCommand.Attachment... files) {
        return new OutboundCommand(1, UUID.randomUUID().toString(), Channel.TELEGRAM, "default", "conv-files",
                Map.of("chat_id", chat), text, null, inReplyTo, List.of(), List.of(files), Instant.now(), "agent");
    }

    static OutboundCommand.Attachment file(String name, String type, byte[] bytes) {
        return new OutboundCommand.Attachment(name, type, bytes.length,
                FILES.url() + "/files/" + name + "?expires=1999999999&signature=abc");
    }

    /** Replies' calls to one chat, in order (file fetches by earlier tests may share the stand-in). */
    static List<FakeBotApi.Call> sent(String chat) {
        return BOT_API.calls.stream().filter(c -> c.method().startsWith("send"))
                .filter(c -> c.body().contains("\"chat_id\":\"" + chat + "\"") || (c.part("chat_id") != null && c.part("chat_id").text().equals(chat)))
                .toList();
    }

    /** Answers every send with the next message id, from 100. */
    static void numbered() {
        AtomicInteger ids = new AtomicInteger(100);
        BOT_API.responder = c -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":" + ids.getAndIncrement() + "}}");
    }

    @Test
    void aPhotoGoesBySendPhotoAsAMultipartUpload_withTheTextAsItsCaption() throws Exception {
        numbered();
        DeliveryReport report = sender.send(withFiles("3001", "here is the screen", null, file("screen.png", "image/png", PNG)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.externalId()).isEqualTo("100");
        assertThat(sent("3001")).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/bot123:secret-token/sendPhoto");
            assertThat(call.contentType()).startsWith("multipart/form-data").contains("boundary=");
            assertThat(call.part("caption").text()).isEqualTo("here is the screen");
            assertThat(call.part("photo").fileName()).isEqualTo("screen.png");
            assertThat(call.part("photo").contentType()).isEqualTo("image/png");
            assertThat(call.part("photo").bytes()).isEqualTo(PNG);
        });
        assertThat(FILES.calls).anySatisfy(c -> assertThat(c.path()).isEqualTo("/files/screen.png"));
    }

    @Test
    void aPdfGoesBySendDocumentWithItsNameAndBytes() throws Exception {
        numbered();
        DeliveryReport report = sender.send(withFiles("3002", null, null, file("log.pdf", "application/pdf", PDF)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(sent("3002")).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/bot123:secret-token/sendDocument");
            assertThat(call.part("caption")).isNull();
            assertThat(call.part("document").fileName()).isEqualTo("log.pdf");
            assertThat(call.part("document").bytes()).isEqualTo(PDF);
        });
    }

    @Test
    void textAndTwoFilesGoAsTheTextFirstThenEachFile_repliedToOnceAndReportedByTheLastId() throws Exception {
        numbered();
        DeliveryReport report = sender.send(withFiles("3003", "two files for you", "5",
                file("screen.png", "image/png", PNG), file("log.pdf", "application/pdf", PDF)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        List<FakeBotApi.Call> calls = sent("3003");
        assertThat(calls).extracting(FakeBotApi.Call::method).containsExactly("sendMessage", "sendPhoto", "sendDocument");
        assertThat(calls.get(0).body()).contains("two files for you").contains("\"reply_parameters\":{").contains("\"message_id\":5");
        assertThat(calls.get(1).part("caption")).isNull();
        assertThat(calls.get(1).part("reply_parameters")).isNull();
        assertThat(calls.get(1).part("photo").bytes()).isEqualTo(PNG);
        assertThat(calls.get(2).part("document").bytes()).isEqualTo(PDF);
        assertThat(report.externalId()).isEqualTo("102");
        assertThat(report.attempts()).isEqualTo(3);
    }

    @Test
    void aTextTooLongForACaptionGoesFirst_andTheFileCarriesReplyParametersWhenItIsFirst() throws Exception {
        numbered();
        DeliveryReport alone = sender.send(withFiles("3004", null, "9", file("log.pdf", "application/pdf", PDF)));
        assertThat(alone.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(sent("3004").get(0).part("reply_parameters").text()).contains("\"message_id\":9");
        String longText = "x".repeat(TelegramSender.MAX_CAPTION + 1);
        DeliveryReport report = sender.send(withFiles("3005", longText, null, file("screen.png", "image/png", PNG)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(sent("3005")).extracting(FakeBotApi.Call::method).containsExactly("sendMessage", "sendPhoto");
        assertThat(sent("3005").get(1).part("caption")).isNull();
    }

    @Test
    void aFileThatCannotBeDownloadedFailsTheReplyWithAReason_beforeAnythingIsSent() throws Exception {
        numbered();
        DeliveryReport report = sender.send(withFiles("3006", "see attached", null,
                file("screen.png", "image/png", PNG), file("gone.pdf", "application/pdf", PDF)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(report.failureReason()).isEqualTo("attachment gone.pdf could not be fetched: HTTP 404");
        assertThat(sent("3006")).isEmpty();
        DeliveryReport noUrl = sender.send(withFiles("3006", null, null,
                new OutboundCommand.Attachment("x.txt", "text/plain", 1, "store:up-1")));
        assertThat(noUrl.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(noUrl.failureReason()).contains("no http(s) URL");
    }

    @Test
    void anUploadAnswered429IsSentAgainAfterRetryAfter() throws Exception {
        AtomicInteger n = new AtomicInteger();
        BOT_API.responder = c -> !c.method().equals("sendDocument") ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}")
                : n.incrementAndGet() == 1
                ? new FakeBotApi.Reply(429, "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 1\",\"parameters\":{\"retry_after\":1}}")
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":77}}");
        DeliveryReport report = sender.send(withFiles("3007", "log", null, file("log.pdf", "application/pdf", PDF)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.externalId()).isEqualTo("77");
        assertThat(report.attempts()).isEqualTo(2);
        assertThat(sent("3007")).hasSize(2).allSatisfy(call -> assertThat(call.part("document").bytes()).isEqualTo(PDF));
    }

    @Test
    void aBlockedBotFailsAFileReplyAsUnreachable_andAPhotoTelegramRefusesGoesAsADocument() throws Exception {
        BOT_API.responder = c -> new FakeBotApi.Reply(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the user\"}");
        DeliveryReport blocked = sender.send(withFiles("3008", null, null, file("log.pdf", "application/pdf", PDF)));
        assertThat(blocked.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(blocked.failureReason()).isEqualTo("attachment log.pdf: Forbidden: bot was blocked by the user");
        assertThat(blocked.recipientUnreachable()).isTrue();

        BOT_API.responder = c -> c.method().equals("sendPhoto")
                ? new FakeBotApi.Reply(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: PHOTO_INVALID_DIMENSIONS\"}")
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"message_id\":88}}");
        DeliveryReport report = sender.send(withFiles("3009", "wide", null, file("screen.png", "image/png", PNG)));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(sent("3009")).extracting(FakeBotApi.Call::method).containsExactly("sendPhoto", "sendDocument");
        assertThat(sent("3009").get(1).part("document").bytes()).isEqualTo(PNG);
        assertThat(sent("3009").get(1).part("caption").text()).isEqualTo("wide");
    }

    // ------------------------------------------------------------------ polling: a crash before the offset is stored

    @Autowired
    TelegramClient client;
    @Autowired
    TelegramFileFetcher fileFetcher;
    @Autowired
    io.micrometer.core.instrument.MeterRegistry meters;
    @Autowired
    org.springframework.context.ApplicationContext context;

    /**
     * The poller's cursor is stored at Telegram: getUpdates with offset = last update_id + 1 confirms
     * a batch. A poller that dies after its batch is in Kafka but before that call reached Telegram
     * (the failure is injected at exactly that step) leaves the batch unconfirmed; the next poller
     * reads it again and publishes it with the same event ids, keys and payloads, which the router
     * deduplicates (RouterPipelineTest#aTelegramBatchReReadAfterAPollerCrashIsStoredOnce). Once
     * confirmed, nothing is read a third time.
     */
    @Test
    void aPollerKilledBeforeItStoresTheOffsetIsFollowedByOneThatReReadsTheSameBatch_withIdenticalIdsAndKeys() throws Exception {
        java.util.concurrent.atomic.AtomicLong confirmed = new java.util.concurrent.atomic.AtomicLong(0);
        java.util.concurrent.atomic.AtomicReference<TelegramPoller> victim = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.CountDownLatch killed = new java.util.concurrent.CountDownLatch(1);
        try (FakeBotApi api = new FakeBotApi()) {
            api.responder = call -> {
                if (call.method().equals("getMe")) {
                    return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"id\":555,\"is_bot\":true,\"username\":\"crashy_bot\"}}");
                }
                java.util.regex.Matcher offset = java.util.regex.Pattern.compile("\"offset\":(\\d+)").matcher(call.body());
                if (offset.find()) {
                    TelegramPoller dying = victim.getAndSet(null);
                    if (dying != null) {
                        // the crash: the process is gone before this confirmation reaches Telegram
                        dying.stop();
                        killed.countDown();
                        return new FakeBotApi.Reply(502, "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}");
                    }
                    confirmed.accumulateAndGet(Long.parseLong(offset.group(1)), Math::max);
                }
                if (confirmed.get() <= 9600) {
                    return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[" + polled(9600, "crash one", 4343) + ","
                            + polled(9601, "crash two", 4343) + "]}");
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[]}");
            };
            TelegramProperties.Account bot = new TelegramProperties.Account("555:crash-token", null, URI.create(api.url()),
                    "polling", null, null);
            TelegramProperties single = new TelegramProperties(Map.of("crashy", bot), 5, 1, 0);

            try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
                TelegramPoller first = poller(single);
                victim.set(first);
                first.start();
                assertThat(killed.await(15, java.util.concurrent.TimeUnit.SECONDS)).as("the first poller reached the offset step").isTrue();
                assertThat(confirmed.get()).isZero();

                TelegramPoller second = poller(single);
                second.start();
                try {
                    List<ConsumerRecord<String, byte[]>> copies = new ArrayList<>();
                    long deadline = System.currentTimeMillis() + 15_000;
                    while ((copies.size() < 4 || confirmed.get() < 9602) && System.currentTimeMillis() < deadline) {
                        KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                            if (ContractJson.fromBytes(r.value(), InboundEnvelope.class).account().equals("crashy")) {
                                copies.add(r);
                            }
                        });
                    }
                    assertThat(confirmed.get()).isEqualTo(9602);
                    // once confirmed, the batch is not read again
                    KafkaTestUtils.getRecords(c, Duration.ofSeconds(1)).forEach(r -> {
                        if (ContractJson.fromBytes(r.value(), InboundEnvelope.class).account().equals("crashy")) {
                            copies.add(r);
                        }
                    });
                    assertThat(copies).hasSize(4);
                    for (String id : List.of("telegram:crashy:update:9600", "telegram:crashy:update:9601")) {
                        List<ConsumerRecord<String, byte[]>> same = copies.stream()
                                .filter(r -> ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId().equals(id)).toList();
                        assertThat(same).as(id).hasSize(2);
                        InboundEnvelope a = ContractJson.fromBytes(same.get(0).value(), InboundEnvelope.class);
                        InboundEnvelope b = ContractJson.fromBytes(same.get(1).value(), InboundEnvelope.class);
                        assertThat(same.get(1).key()).isEqualTo(same.get(0).key()).isEqualTo("telegram:crashy:chat:4343");
                        assertThat(b.externalIds()).isEqualTo(a.externalIds()).containsEntry("message_id", id.substring(id.length() - 4));
                        assertThat(b.payloadBytes()).isEqualTo(a.payloadBytes());
                        assertThat(b.affinityKey()).isEqualTo(a.affinityKey());
                    }
                } finally {
                    second.stop();
                }
            }
        }
    }

    TelegramPoller poller(TelegramProperties single) {
        return new TelegramPoller(single, client, kafka, context.getBeanProvider(java.time.Clock.class), meters,
                new TelegramBots(single, client), fileFetcher);
    }

    static String polled(int updateId, String text, long chat) {
        return polled(updateId, text).replace("4242", String.valueOf(chat));
    }
}
