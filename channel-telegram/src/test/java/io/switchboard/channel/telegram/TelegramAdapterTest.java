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
                "switchboard.telegram.accounts.default.webhook-url=https://inbox.example.org/webhooks/telegram/default",
                "switchboard.telegram.accounts.second.bot-token=999:second-token",
                "switchboard.telegram.accounts.second.webhook-secret=second-secret",
                "switchboard.telegram.accounts.second.mode=webhook",
                "switchboard.telegram.accounts.second.webhook-url=https://inbox.example.org/webhooks/telegram/second",
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
        registry.add("switchboard.telegram.accounts.second.api-url", BOT_API::url);
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
    void aFileIsFetchedFromTheStoredUpdateAfterTheAnswerAndPublishedAsItsOwnEvent() throws Exception {
        byte[] pdf = "%PDF-1.4 switchboard".getBytes(StandardCharsets.US_ASCII);
        BOT_API.responder = call -> call.path().endsWith("/getFile")
                ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_id\":\"documentfileid\",\"file_path\":\"documents/file_1.pdf\"}}")
                : call.path().endsWith("/documents/file_1.pdf") ? new FakeBotApi.Reply(200, new String(pdf, StandardCharsets.ISO_8859_1))
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}");
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(post("hook-secret", fixture("zammad_private_document_pdf.json")).statusCode()).isEqualTo(200);
            List<InboundEnvelope> files = fileEvents(c, "documentfileid", 1, Duration.ofSeconds(15)).stream()
                    .map(r -> ContractJson.fromBytes(r.value(), InboundEnvelope.class)).toList();
            assertThat(files).singleElement().satisfies(f -> {
                assertThat(f.externalIds()).containsEntry("file_id", "documentfileid").containsEntry("name", "document.pdf")
                        .containsEntry("mime_type", "application/pdf");
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
                new TelegramBots(single, client), context.getBeanProvider(TelegramSender.Sleeper.class));
    }

    static String polled(int updateId, String text, long chat) {
        return polled(updateId, text).replace("4242", String.valueOf(chat));
    }

    // ------------------------------------------------------------------ files: fetched by a consumer of the stored updates

    @Autowired
    TelegramProperties properties;
    @Autowired
    org.springframework.kafka.config.KafkaListenerEndpointRegistry listeners;
    @Autowired
    @org.springframework.beans.factory.annotation.Qualifier("telegramFileListenerFactory")
    org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory<String, byte[]> fileListenerFactory;

    /** File-content events for this file id seen on the inbound topic within {@code wait}. */
    List<ConsumerRecord<String, byte[]>> fileEvents(Consumer<String, byte[]> c, String fileId, int atLeast, Duration wait) {
        List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
        long deadline = System.currentTimeMillis() + wait.toMillis();
        while (found.size() < atLeast && System.currentTimeMillis() < deadline) {
            KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                if (e.contentType().equals(io.switchboard.contract.TelegramFiles.CONTENT_TYPE) && fileId.equals(e.externalIds().get("file_id"))) {
                    found.add(r);
                }
            });
        }
        return found;
    }

    static String documentUpdate(int updateId, String fileId, String fileName, Long size) {
        return "{\"update_id\":" + updateId + ",\"message\":{\"message_id\":" + updateId + ",\"date\":1741794405,"
                + "\"chat\":{\"id\":5151,\"type\":\"private\"},\"from\":{\"id\":5151,\"first_name\":\"Files\"},"
                + "\"document\":{\"file_id\":\"" + fileId + "\",\"file_unique_id\":\"u" + fileId + "\",\"file_name\":\"" + fileName + "\","
                + "\"mime_type\":\"application/pdf\"" + (size == null ? "" : ",\"file_size\":" + size) + "}}}";
    }

    /**
     * The adapter answers the webhook once the update is in Kafka; the file is fetched afterwards by
     * a consumer of that topic. Here the adapter stops in the middle of the fetch (getFile reached,
     * nothing published): its offset is not committed, so a fresh fetcher in the same group, as a
     * restarted adapter would run, reads the update again and fetches the file; then the group's
     * offset is past the update.
     */
    @Test
    void aFileWhoseFetchWasCutShortByAStopIsFetchedByAFreshAdapter() throws Exception {
        org.springframework.kafka.listener.MessageListenerContainer running = listeners.getListenerContainer(TelegramFileFetcher.LISTENER_ID);
        assertThat(running).isNotNull();
        byte[] pdf = "%PDF-1.4 fetched after a crash".getBytes(StandardCharsets.US_ASCII);
        java.util.concurrent.atomic.AtomicBoolean crashed = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
        BOT_API.responder = call -> {
            if (call.method().equals("getFile") && call.body().contains("crashfileid")) {
                if (crashed.compareAndSet(false, true)) {
                    running.stop(stopped::countDown); // the adapter goes away while the file is being fetched
                    return new FakeBotApi.Reply(502, "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}");
                }
                return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_id\":\"crashfileid\",\"file_size\":" + pdf.length
                        + ",\"file_path\":\"documents/crash.pdf\"}}");
            }
            return call.path().equals("/file/bot123:secret-token/documents/crash.pdf") ? new FakeBotApi.Reply(200, "", pdf)
                    : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}");
        };
        org.springframework.kafka.listener.ConcurrentMessageListenerContainer<String, byte[]> fresh = null;
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(post("hook-secret", documentUpdate(7001, "crashfileid", "crash.pdf", (long) pdf.length)
                    .getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
            assertThat(stopped.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("the fetcher stopped during getFile").isTrue();
            assertThat(fileEvents(c, "crashfileid", 1, Duration.ofSeconds(2))).as("nothing fetched before the stop").isEmpty();

            // a restarted adapter: a new fetcher, same consumer group and static member id as the one that stopped
            TelegramFileFetcher restarted = new TelegramFileFetcher(properties, client, kafka,
                    context.getBeanProvider(java.time.Clock.class), meters);
            fresh = fileListenerFactory.createContainer(Topics.inbound(Channel.TELEGRAM));
            fresh.getContainerProperties().setGroupId(TelegramFileFetcher.GROUP);
            java.util.Properties member = new java.util.Properties();
            member.setProperty("group.instance.id", "telegram-files-" + context.getEnvironment().getProperty("switchboard.instance-id"));
            fresh.getContainerProperties().setKafkaConsumerProperties(member);
            fresh.getContainerProperties().setMessageListener((org.springframework.kafka.listener.MessageListener<String, byte[]>) r -> {
                try {
                    restarted.onInbound(r);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            fresh.setBeanName("restarted-telegram-files");
            fresh.start();

            List<ConsumerRecord<String, byte[]>> files = fileEvents(c, "crashfileid", 1, Duration.ofSeconds(30));
            assertThat(files).singleElement().satisfies(r -> {
                InboundEnvelope f = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                assertThat(r.key()).isEqualTo("telegram:default:chat:5151");
                assertThat(f.eventId()).isEqualTo("telegram:default:file:crashfileid");
                assertThat(f.externalIds()).containsEntry("name", "crash.pdf").containsEntry("mime_type", "application/pdf")
                        .containsEntry("file_size", String.valueOf(pdf.length)).containsEntry("update_id", "7001");
                assertThat(f.payloadBytes()).isEqualTo(pdf);
            });
            // committed only now: the group's position is past the update
            long fileOffset = files.get(0).offset();
            long deadline = System.currentTimeMillis() + 10_000;
            org.apache.kafka.clients.consumer.OffsetAndMetadata committed = null;
            while (System.currentTimeMillis() < deadline) {
                committed = KafkaTestUtils.getCurrentOffset(broker.getBrokersAsString(), TelegramFileFetcher.GROUP,
                        Topics.inbound(Channel.TELEGRAM), files.get(0).partition());
                if (committed != null && committed.offset() > fileOffset - 1) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(committed).isNotNull();
            assertThat(committed.offset()).as("the update (before its file event) is committed").isGreaterThanOrEqualTo(fileOffset);
        } finally {
            if (fresh != null) {
                fresh.stop();
            }
            running.start();
        }
    }

    TelegramFileFetcher fetcherWithLimit(long maxFileBytes) {
        TelegramProperties.Account bot = properties.account("default");
        return new TelegramFileFetcher(new TelegramProperties(Map.of("default", bot), 5, 1, maxFileBytes), client, kafka,
                context.getBeanProvider(java.time.Clock.class), meters);
    }

    static InboundEnvelope stored(String update) {
        tools.jackson.databind.JsonNode node = ContractJson.mapper().readTree(update);
        return TelegramUpdates.envelope("default", node, update, Instant.now(), Map.of());
    }

    @Test
    void maxFileBytesIsRespected_byTheAnnouncedSizeByGetFilesSizeAndByTheBytesRead_andCappedBelowTheBotApiLimit() throws Exception {
        byte[] sixteen = "%PDF-1.4 16bytes".getBytes(StandardCharsets.US_ASCII);
        byte[] seventeen = "%PDF-1.4 17 bytes".getBytes(StandardCharsets.US_ASCII);
        BOT_API.responder = call -> {
            String body = call.body();
            if (call.method().equals("getFile")) {
                if (body.contains("quietbig")) { // Telegram tells its size only now
                    return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_id\":\"quietbig\",\"file_size\":5000000,\"file_path\":\"documents/quietbig.pdf\"}}");
                }
                if (body.contains("huge")) { // above the Bot API's 20 MB
                    return new FakeBotApi.Reply(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: file is too big\"}");
                }
                String name = body.contains("exact") ? "exact" : "liar";
                return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_path\":\"documents/" + name + ".pdf\"}}");
            }
            return call.path().endsWith("/documents/exact.pdf") ? new FakeBotApi.Reply(200, "", sixteen)
                    : call.path().endsWith("/documents/liar.pdf") ? new FakeBotApi.Reply(200, "", seventeen)
                    : new FakeBotApi.Reply(404, "{}");
        };
        TelegramFileFetcher limited = fetcherWithLimit(16);
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            // announced above the limit: not even asked for
            limited.fetchAll(stored(documentUpdate(7101, "announcedbig", "big.pdf", 17L)));
            // no size in the message, getFile says 5 MB: not downloaded
            limited.fetchAll(stored(documentUpdate(7102, "quietbig", "quiet.pdf", null)));
            // no size anywhere, 17 bytes arrive: cut at the limit, not published
            limited.fetchAll(stored(documentUpdate(7103, "liar", "liar.pdf", null)));
            // Telegram refuses a file above 20 MB: permanent, no retry
            limited.fetchAll(stored(documentUpdate(7104, "huge", "huge.pdf", null)));
            // exactly at the limit: published
            limited.fetchAll(stored(documentUpdate(7105, "exact", "exact.pdf", null)));

            assertThat(fileEvents(c, "exact", 1, Duration.ofSeconds(10))).singleElement()
                    .satisfies(r -> assertThat(ContractJson.fromBytes(r.value(), InboundEnvelope.class).payloadBytes()).isEqualTo(sixteen));
        }
        // fetchAll returns once its events are acknowledged, so anything the others published would be there already
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            for (String id : List.of("announcedbig", "quietbig", "liar", "huge")) {
                assertThat(fileEvents(c, id, 1, Duration.ofMillis(600))).as(id).isEmpty();
            }
        }
        assertThat(BOT_API.calls).noneSatisfy(call -> assertThat(call.body()).contains("announcedbig"));
        assertThat(BOT_API.calls).noneSatisfy(call -> assertThat(call.path()).endsWith("/documents/quietbig.pdf"));
        assertThat(BOT_API.calls).anySatisfy(call -> assertThat(call.path()).isEqualTo("/file/bot123:secret-token/documents/liar.pdf"));

        assertThat(new TelegramProperties(Map.of(), 5, 1, 50L * 1024 * 1024).maxFileBytes())
                .isEqualTo(TelegramProperties.MAX_FILE_BYTES)
                .isLessThanOrEqualTo(TelegramProperties.BOT_API_DOWNLOAD_LIMIT)
                // base64 of the largest file, plus the envelope, fits the inbound topic's 16 MB records
                .isLessThan((16L * 1024 * 1024 - 4096) / 4 * 3);
        assertThat(new TelegramProperties(Map.of(), 5, 1, 0).maxFileBytes()).isEqualTo(10L * 1024 * 1024);
    }

    @Test
    void aFailureWorthRetryingIsThrownSoTheContainerRetries_andTheWebhookPhotoFetchesTheLargestSize() throws Exception {
        BOT_API.responder = call -> call.method().equals("getFile")
                ? new FakeBotApi.Reply(502, "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}")
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> fetcherWithLimit(1000).fetchAll(stored(documentUpdate(7201, "flaky", "f.pdf", 10L))))
                .isInstanceOf(TelegramFileFetcher.RetryableFetchException.class).hasMessageContaining("Bad Gateway");

        // the largest photo is the middle one, and the heaviest is last: the fetcher asks for the one the router lists
        byte[] jpeg = new byte[]{(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 1, 2, 3};
        BOT_API.responder = call -> call.method().equals("getFile")
                ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_path\":\"photos/p.jpg\"}}")
                : call.path().endsWith("/photos/p.jpg") ? new FakeBotApi.Reply(200, "", jpeg)
                : new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{}}");
        String update = "{\"update_id\":7202,\"message\":{\"message_id\":7202,\"date\":1741794405,"
                + "\"chat\":{\"id\":5152,\"type\":\"private\"},\"from\":{\"id\":5152,\"first_name\":\"P\"},\"photo\":["
                + "{\"file_id\":\"p-small\",\"file_unique_id\":\"a\",\"width\":90,\"height\":90,\"file_size\":1000},"
                + "{\"file_id\":\"p-big\",\"file_unique_id\":\"b\",\"width\":1280,\"height\":960,\"file_size\":6},"
                + "{\"file_id\":\"p-heavy\",\"file_unique_id\":\"c\",\"width\":320,\"height\":240,\"file_size\":150000}]}}";
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(post("hook-secret", update.getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(200);
            assertThat(fileEvents(c, "p-big", 1, Duration.ofSeconds(20))).singleElement().satisfies(r -> {
                InboundEnvelope f = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                assertThat(f.externalIds()).containsEntry("name", "photo.jpg").containsEntry("mime_type", "image/jpeg");
                assertThat(f.payloadBytes()).isEqualTo(jpeg);
            });
        }
        assertThat(BOT_API.calls.stream().filter(call -> call.method().equals("getFile")).map(FakeBotApi.Call::body))
                .anySatisfy(b -> assertThat(b).contains("p-big"))
                .noneSatisfy(b -> assertThat(b).containsAnyOf("p-small", "p-heavy"));
    }

    // ------------------------------------------------------------------ webhook registration, two bots

    @Test
    void eachWebhookBotIsRegisteredAtStartWithItsUrlSecretUpdateTypesAndPendingUpdatesKept() throws Exception {
        List<FakeBotApi.Call> registrations = BOT_API.all.stream().filter(c -> c.method().equals("setWebhook")).toList();
        assertThat(registrations).extracting(FakeBotApi.Call::path)
                .containsExactlyInAnyOrder("/bot123:secret-token/setWebhook", "/bot999:second-token/setWebhook");
        Map<String, String> urls = Map.of("/bot123:secret-token/setWebhook", "https://inbox.example.org/webhooks/telegram/default",
                "/bot999:second-token/setWebhook", "https://inbox.example.org/webhooks/telegram/second");
        Map<String, String> secrets = Map.of("/bot123:secret-token/setWebhook", "hook-secret", "/bot999:second-token/setWebhook", "second-secret");
        for (FakeBotApi.Call call : registrations) {
            tools.jackson.databind.JsonNode body = ContractJson.mapper().readTree(call.body());
            assertThat(body.path("url").asString()).isEqualTo(urls.get(call.path()));
            assertThat(body.path("secret_token").asString()).isEqualTo(secrets.get(call.path()));
            List<String> allowed = new ArrayList<>();
            body.path("allowed_updates").forEach(n -> allowed.add(n.asString()));
            assertThat(allowed).containsExactlyElementsOf(TelegramUpdates.ALLOWED)
                    .contains("message", "edited_message", "my_chat_member");
            assertThat(body.path("drop_pending_updates").isBoolean()).isTrue();
            assertThat(body.path("drop_pending_updates").asBoolean()).isFalse();
        }
        // the polling bot is not registered (a webhook would make its getUpdates fail with 409)
        assertThat(POLL_API.all).noneSatisfy(c -> assertThat(c.method()).isEqualTo("setWebhook"));

        // and the health component says so, next to the polling bot's state
        tools.jackson.databind.JsonNode bots = null;
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            bots = ContractJson.mapper().readTree(r.body()).path("components").path("telegramAdapter").path("details").path("bots");
            if ("receiving".equals(bots.path("poller").path("state").asString(""))) {
                break;
            }
            Thread.sleep(100);
        }
        assertThat(bots.path("default").path("mode").asString()).isEqualTo("webhook");
        assertThat(bots.path("default").path("registration").asString()).isEqualTo("registered");
        assertThat(bots.path("second").path("registration").asString()).isEqualTo("registered");
        assertThat(bots.path("poller").path("mode").asString()).isEqualTo("polling");
        assertThat(bots.path("poller").path("state").asString()).isEqualTo("receiving");
        assertThat(bots.toString()).doesNotContain("secret-token", "second-token", "poll-token", "hook-secret");
    }

    HttpResponse<String> postTo(String account, String secret, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/webhooks/telegram/" + account))
                .header("Content-Type", "application/json").header("X-Telegram-Bot-Api-Secret-Token", secret)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void twoWebhookBotsEachAcceptOnlyTheirOwnSecretOnTheirOwnPath() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            assertThat(postTo("second", "hook-secret", polled(7301, "cross one", 6161)).statusCode()).isEqualTo(401);
            assertThat(postTo("default", "second-secret", polled(7302, "cross two", 6161)).statusCode()).isEqualTo(401);
            assertThat(postTo("second", "second-secret", polled(7303, "to second", 6161)).statusCode()).isEqualTo(200);
            assertThat(postTo("default", "hook-secret", polled(7304, "to default", 6161)).statusCode()).isEqualTo(200);

            List<InboundEnvelope> seen = new ArrayList<>();
            Map<String, String> keys = new java.util.HashMap<>();
            long deadline = System.currentTimeMillis() + 15_000;
            while (seen.stream().filter(e -> e.eventId().endsWith(":update:7303") || e.eventId().endsWith(":update:7304")).count() < 2
                    && System.currentTimeMillis() < deadline) {
                KafkaTestUtils.getRecords(c, Duration.ofMillis(300)).forEach(r -> {
                    InboundEnvelope e = ContractJson.fromBytes(r.value(), InboundEnvelope.class);
                    seen.add(e);
                    keys.put(e.eventId(), r.key());
                });
            }
            KafkaTestUtils.getRecords(c, Duration.ofMillis(500)).forEach(r -> seen.add(ContractJson.fromBytes(r.value(), InboundEnvelope.class)));
            List<String> ids = seen.stream().map(InboundEnvelope::eventId).filter(id -> id.matches(".*:update:730[1-4]")).toList();
            assertThat(ids).containsExactlyInAnyOrder("telegram:second:update:7303", "telegram:default:update:7304");
            assertThat(keys).containsEntry("telegram:second:update:7303", "telegram:second:chat:6161")
                    .containsEntry("telegram:default:update:7304", "telegram:default:chat:6161");
            assertThat(seen).filteredOn(e -> e.eventId().equals("telegram:second:update:7303"))
                    .singleElement().satisfies(e -> assertThat(e.account()).isEqualTo("second"));
        }
    }

    // ------------------------------------------------------------------ polling errors: 409, 429, and the token never logged

    /** Records each wait, and waits only briefly, so a 30 s back-off or a retry_after of 34 s costs nothing. */
    static final class RecordingSleeper implements TelegramSender.Sleeper {
        final List<Long> waits = new java.util.concurrent.CopyOnWriteArrayList<>();
        final List<String> timeline;

        RecordingSleeper(List<String> timeline) {
            this.timeline = timeline;
        }

        @Override
        public void sleep(long millis) throws InterruptedException {
            waits.add(millis);
            timeline.add("sleep " + millis);
            Thread.sleep(Math.min(millis, 20));
        }
    }

    TelegramPoller poller(TelegramProperties single, TelegramSender.Sleeper sleeper) {
        return new TelegramPoller(single, client, kafka, context.getBeanProvider(java.time.Clock.class), meters,
                new TelegramBots(single, client),
                new org.springframework.beans.factory.support.StaticListableBeanFactory(Map.of("sleeper", sleeper))
                        .getBeanProvider(TelegramSender.Sleeper.class));
    }

    /** Log events of every logger while it runs, as formatted text with their exceptions. */
    static final class CapturedLogs implements AutoCloseable {
        final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.read.ListAppender<>();
        final ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

        CapturedLogs() {
            appender.start();
            root.addAppender(appender);
        }

        List<String> lines() {
            List<String> out = new ArrayList<>();
            for (ch.qos.logback.classic.spi.ILoggingEvent e : List.copyOf(appender.list)) {
                StringBuilder line = new StringBuilder(e.getLevel() + " " + e.getLoggerName() + " " + e.getFormattedMessage());
                for (ch.qos.logback.classic.spi.IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
                    line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
                }
                out.add(line.toString());
            }
            return out;
        }

        List<String> warnings(Class<?> logger) {
            return lines().stream().filter(l -> l.startsWith("WARN " + logger.getName() + " ")).toList();
        }

        @Override
        public void close() {
            root.detachAppender(appender);
        }
    }

    @Test
    void a409FromGetUpdatesIsReportedClearly_inTheHealthComponentAndOneWarningWithoutTheToken() throws Exception {
        String anotherPoller = new String(fixture("error_409_conflict_getupdates.json"), StandardCharsets.UTF_8);
        String webhookSet = "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first\"}";
        List<String> timeline = new java.util.concurrent.CopyOnWriteArrayList<>();
        RecordingSleeper sleeper = new RecordingSleeper(timeline);
        try (FakeBotApi api = new FakeBotApi(); CapturedLogs logs = new CapturedLogs()) {
            api.responder = call -> call.method().equals("getMe")
                    ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"id\":1,\"is_bot\":true,\"username\":\"conflicted_bot\"}}")
                    : new FakeBotApi.Reply(409, call.path().startsWith("/bot501:") ? anotherPoller : webhookSet);
            Map<String, TelegramProperties.Account> bots = new java.util.LinkedHashMap<>();
            bots.put("twice", new TelegramProperties.Account("501:conflict-token-a", null, URI.create(api.url()), "polling", null, null));
            bots.put("hooked", new TelegramProperties.Account("502:conflict-token-b", null, URI.create(api.url()), "polling", null, null));
            TelegramProperties both = new TelegramProperties(bots, 5, 1, 0);
            TelegramPoller poller = poller(both, sleeper);
            poller.start();
            try {
                long deadline = System.currentTimeMillis() + 10_000;
                while ((api.calls.stream().filter(c -> c.method().equals("getUpdates")).count() < 6) && System.currentTimeMillis() < deadline) {
                    Thread.sleep(20);
                }
                TelegramHealthIndicator health = new TelegramHealthIndicator(both, poller, new TelegramWebhookRegistrar(both, client));
                org.springframework.boot.health.contributor.Health h = health.health();
                assertThat(h.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.UP);
                @SuppressWarnings("unchecked")
                Map<String, Map<String, Object>> details = (Map<String, Map<String, Object>>) h.getDetails().get("bots");
                assertThat(details.get("twice")).containsEntry("mode", "polling").containsEntry("state", "conflict")
                        .containsEntry("detail", "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
                assertThat(details.get("hooked")).containsEntry("state", "conflict");
                assertThat((String) details.get("hooked").get("detail")).contains("webhook is active");
            } finally {
                poller.stop();
            }
            // one clear warning per bot, however often Telegram repeats it, with the cause and the cure
            List<String> warnings = logs.warnings(TelegramPoller.class);
            assertThat(warnings).filteredOn(w -> w.contains("account twice")).singleElement().satisfies(w -> assertThat(w)
                    .contains("409 Conflict", "terminated by other getUpdates request", "another process polls this bot's updates"));
            assertThat(warnings).filteredOn(w -> w.contains("account hooked")).singleElement().satisfies(w -> assertThat(w)
                    .contains("409 Conflict", "a webhook is set for this bot", "deleteWebhook", "TELEGRAM_MODE=webhook"));
            assertThat(logs.lines()).noneSatisfy(l -> assertThat(l).containsAnyOf("conflict-token", "501:", "502:"));
            // retried slowly, not in a tight loop
            assertThat(sleeper.waits).isNotEmpty().allSatisfy(w -> assertThat(w).isGreaterThanOrEqualTo(30_000L));
        }
    }

    @Test
    void a429FromGetUpdatesWaitsRetryAfter_fromParametersOrFromTheOldText_thenPollsOn() throws Exception {
        String withParameters = new String(fixture("error_429_retry_after_parameters.json"), StandardCharsets.UTF_8);
        String textOnly = new String(fixture("error_429_too_many_requests_no_parameters.json"), StandardCharsets.UTF_8);
        List<String> timeline = new java.util.concurrent.CopyOnWriteArrayList<>();
        RecordingSleeper sleeper = new RecordingSleeper(timeline);
        AtomicInteger n = new AtomicInteger();
        try (FakeBotApi api = new FakeBotApi(); Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.TELEGRAM))) {
            api.responder = call -> {
                if (!call.method().equals("getUpdates")) {
                    return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"id\":1,\"is_bot\":true,\"username\":\"busy_bot\"}}");
                }
                int i = n.incrementAndGet();
                timeline.add("getUpdates " + i);
                return i == 1 ? new FakeBotApi.Reply(429, withParameters)
                        : i == 2 ? new FakeBotApi.Reply(429, textOnly)
                        : i == 3 ? new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[" + polled(9700, "after the limit", 4545) + "]}")
                        : idle();
            };
            TelegramProperties single = new TelegramProperties(Map.of("busy",
                    new TelegramProperties.Account("503:busy-token", null, URI.create(api.url()), "polling", null, null)), 5, 1, 0);
            TelegramPoller poller = poller(single, sleeper);
            poller.start();
            try {
                List<String> ids = new ArrayList<>();
                long deadline = System.currentTimeMillis() + 15_000;
                while (!ids.contains("telegram:busy:update:9700") && System.currentTimeMillis() < deadline) {
                    KafkaTestUtils.getRecords(c, Duration.ofMillis(300))
                            .forEach(r -> ids.add(ContractJson.fromBytes(r.value(), InboundEnvelope.class).eventId()));
                }
                assertThat(ids).contains("telegram:busy:update:9700");
            } finally {
                poller.stop();
            }
            // Telegram's 34 s (parameters.retry_after), then 3 s (only in the description), each before the next call
            assertThat(timeline).startsWith("getUpdates 1", "sleep 34000", "getUpdates 2", "sleep 3000", "getUpdates 3");
        }
    }

    @Test
    void theBotTokenNeverAppearsInLogsOrReasons_duringSendsErrorsPollingFilesAndRegistration() throws Exception {
        String token = "504:TOKEN-never-in-logs";
        List<String> reasons = new ArrayList<>();
        try (FakeBotApi api = new FakeBotApi(); CapturedLogs logs = new CapturedLogs()) {
            AtomicInteger polls = new AtomicInteger();
            api.responder = call -> switch (call.method()) {
                case "getMe" -> new FakeBotApi.Reply(500, "oops, not JSON");
                case "setWebhook" -> new FakeBotApi.Reply(400, "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: bad webhook: HTTPS url must be provided for webhook\"}");
                case "getUpdates" -> switch (polls.incrementAndGet()) {
                    case 1 -> new FakeBotApi.Reply(401, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
                    case 2 -> new FakeBotApi.Reply(502, "<html>Bad Gateway</html>");
                    case 3 -> new FakeBotApi.Reply(409, "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: terminated by other getUpdates request\"}");
                    default -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[]}");
                };
                case "sendMessage" -> new FakeBotApi.Reply(403, "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was blocked by the user\"}");
                case "getFile" -> new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":{\"file_path\":\"documents/gone.pdf\"}}");
                default -> new FakeBotApi.Reply(404, "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}");
            };
            TelegramProperties.Account live = new TelegramProperties.Account(token, "s", URI.create(api.url()), "polling",
                    "http://not-https.example.org/hook", null);
            // nothing listens on port 1: network errors, whose exceptions name the URL
            TelegramProperties.Account dead = new TelegramProperties.Account(token, "s", URI.create("http://127.0.0.1:1"), "polling", null, null);
            Map<String, TelegramProperties.Account> accounts = new java.util.LinkedHashMap<>();
            accounts.put("live", live);
            accounts.put("dead", dead);
            TelegramProperties props = new TelegramProperties(accounts, 2, 1, 1000);
            org.springframework.beans.factory.support.StaticListableBeanFactory beans =
                    new org.springframework.beans.factory.support.StaticListableBeanFactory(Map.of("sleeper", (TelegramSender.Sleeper) ms -> { }));

            // sends: refused (403), and unreachable (network)
            TelegramSender sends = new TelegramSender(props, client, kafka, context.getBeanProvider(java.time.Clock.class),
                    beans.getBeanProvider(TelegramSender.Sleeper.class));
            for (String account : List.of("live", "dead")) {
                DeliveryReport r = sends.send(new OutboundCommand(1, UUID.randomUUID().toString(), Channel.TELEGRAM, account, "conv-log",
                        Map.of("chat_id", "1"), "hello", null, null, List.of(), List.of(), Instant.now(), "agent"));
                assertThat(r.status()).isEqualTo(DeliveryReport.Status.FAILED);
                reasons.add(r.failureReason());
            }
            // registration and getMe failures
            new TelegramWebhookRegistrar(new TelegramProperties(Map.of("live", new TelegramProperties.Account(token, "s",
                    URI.create(api.url()), "webhook", "http://not-https.example.org/hook", null)), 2, 1, 0), client).register();
            new TelegramBots(props, client).learn("live", live);
            // polling through 401, a 502 without JSON, 409, and a dead server
            TelegramPoller poller = poller(props, ms -> Thread.sleep(5));
            poller.start();
            long deadline = System.currentTimeMillis() + 10_000;
            while (polls.get() < 5 && System.currentTimeMillis() < deadline) {
                Thread.sleep(20);
            }
            poller.stop();
            // file fetches: a download that is gone (404), and a dead server (retryable, the reason travels in an exception)
            TelegramFileFetcher files = new TelegramFileFetcher(props, client, kafka, context.getBeanProvider(java.time.Clock.class), meters);
            InboundEnvelope withFile = TelegramUpdates.envelope("live", ContractJson.mapper().readTree(documentUpdate(7401, "gonefile", "g.pdf", 10L)),
                    documentUpdate(7401, "gonefile", "g.pdf", 10L), Instant.now(), Map.of());
            files.fetchAll(withFile);
            InboundEnvelope deadFile = TelegramUpdates.envelope("dead", ContractJson.mapper().readTree(documentUpdate(7402, "deadfile", "d.pdf", 10L)),
                    documentUpdate(7402, "deadfile", "d.pdf", 10L), Instant.now(), Map.of());
            try {
                files.fetchAll(deadFile);
            } catch (TelegramFileFetcher.RetryableFetchException e) {
                reasons.add(e.getMessage());
            }

            List<String> lines = logs.lines();
            // the failures were logged (so this test would see a token if one were there)
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("setWebhook failed"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("getMe failed"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("bot token is refused"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("409 Conflict"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("network error calling Telegram"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("file download answered HTTP 404"));
            assertThat(reasons).hasSize(3).anySatisfy(r -> assertThat(r).contains("network error"));
            assertThat(api.calls).anySatisfy(c -> assertThat(c.path()).startsWith("/bot" + token + "/"));
            for (String text : concat(lines, reasons)) {
                assertThat(text).doesNotContain(token).doesNotContain("TOKEN-never-in-logs");
            }
        }
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** An empty getUpdates answer after a short wait, as a long poll with nothing new would give. */
    static FakeBotApi.Reply idle() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return new FakeBotApi.Reply(200, "{\"ok\":true,\"result\":[]}");
    }
}
