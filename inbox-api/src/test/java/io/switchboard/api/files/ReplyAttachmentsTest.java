package io.switchboard.api.files;

import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import io.switchboard.api.InboxApiApplication;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import io.switchboard.store.Conversation;
import io.switchboard.store.Identity;
import io.switchboard.store.InboxStore;
import io.switchboard.store.Message;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.test.EmbeddedKafkaBroker;
import org.springframework.kafka.test.context.EmbeddedKafka;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Agents' files on replies and replies through another identity, on the API alone: upload, the
 * reply's stored message, the outbound command on Kafka and the signed link an adapter fetches.
 */
@SpringBootTest(classes = InboxApiApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "spring.kafka.bootstrap-servers=${spring.embedded.kafka.brokers}", "INBOX_ADMIN_PASSWORD=admin-secret",
        "INBOX_FILE_URL_SECRET=test-link-secret", "switchboard.files.max-upload-bytes=1048576",
        "switchboard.replies.via-accounts.email=support",
        "logging.level.kafka=WARN", "logging.level.org.apache.kafka=WARN", "logging.level.state.change.logger=WARN"})
@EmbeddedKafka(partitions = 1, topics = {"inbox.outbound.telegram.v1", "inbox.outbound.email.v1", "inbox.conversation.events.v1"})
class ReplyAttachmentsTest {

    static MongoServer server;

    @BeforeAll
    static void startStore() {
        if (server == null) {
            server = new MongoServer(new MemoryBackend());
            server.bind("127.0.0.1", 0);
        }
    }

    @DynamicPropertySource
    static void store(DynamicPropertyRegistry registry) {
        startStore();
        registry.add("spring.mongodb.uri", () -> "mongodb://127.0.0.1:" + server.getLocalAddress().getPort() + "/reply-files-test");
    }

    static final byte[] PNG = bytes(new int[]{0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R'});
    static final byte[] PDF = "%PDF-1.4 a log of the failure".getBytes(StandardCharsets.US_ASCII);

    @LocalServerPort
    int port;
    @Autowired
    InboxStore store;
    @Autowired
    EmbeddedKafkaBroker broker;
    @Autowired
    FileLinks links;

    final HttpClient http = HttpClient.newHttpClient();
    static final String BOUNDARY = "----switchboard-test-boundary";

    static byte[] bytes(int[] values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    static byte[] multipart(String field, String fileName, String contentType, byte[] content) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + field + "\"; filename=\"" + fileName
                + "\"\r\nContent-Type: " + contentType + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        out.writeBytes(content);
        out.writeBytes(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    HttpRequest.Builder request(String path, boolean auth) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(path.startsWith("http") ? path : "http://127.0.0.1:" + port + path));
        if (auth) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString("admin:admin-secret".getBytes(StandardCharsets.UTF_8)));
        }
        return b;
    }

    HttpResponse<String> upload(String fileName, String contentType, byte[] content) throws Exception {
        return http.send(request("/api/files", true).header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("file", fileName, contentType, content))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode uploaded(String fileName, String contentType, byte[] content) throws Exception {
        HttpResponse<String> r = upload(fileName, contentType, content);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        return ContractJson.mapper().readTree(r.body());
    }

    HttpResponse<String> reply(String conversationId, String body) throws Exception {
        return http.send(request("/api/conversations/" + conversationId + "/messages", true).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A Telegram conversation whose contact also has an email address and a Facebook identity. */
    Conversation conversation(String chat) {
        Instant at = Instant.parse("2026-03-10T10:00:00Z");
        String contact = store.contactFor(new Identity("telegram", chat), "Anna", at);
        store.enrichContact(contact, List.of(new Identity("email", "anna-" + chat + "@example.org"), new Identity("facebook", "psid-" + chat)),
                Map.of(), at);
        Conversation c = store.conversationFor(new InboxStore.ThreadRequest("telegram", "default", "telegram:default:chat:" + chat,
                List.of(), contact, "Anna", null, Map.of("chat_id", chat), at, Duration.ofDays(7)));
        store.appendMessage(c.id(), new Message("in-" + chat, "telegram:default:" + chat + ":5", Message.INBOUND, "message", "telegram",
                "5", at, "Anna", "my VM does not boot", List.of(), null, null, null, null, null, false));
        return c;
    }

    OutboundCommand command(String topic, String messageId) {
        try (Consumer<String, byte[]> c = new DefaultKafkaConsumerFactory<>(
                KafkaTestUtils.consumerProps(broker, "test-" + UUID.randomUUID(), false),
                new StringDeserializer(), new ByteArrayDeserializer()).createConsumer()) {
            broker.consumeFromAnEmbeddedTopic(c, topic);
            long deadline = System.currentTimeMillis() + 15_000;
            while (System.currentTimeMillis() < deadline) {
                for (var r : KafkaTestUtils.getRecords(c, Duration.ofMillis(300))) {
                    OutboundCommand command = ContractJson.fromBytes(r.value(), OutboundCommand.class);
                    if (command.messageId().equals(messageId)) {
                        return command;
                    }
                }
            }
        }
        throw new AssertionError("no command " + messageId + " on " + topic);
    }

    @Test
    void anUploadIsStoredWithTheTypeItsBytesShow_andBadOnesAreRefused() throws Exception {
        JsonNode png = uploaded("C:\\Users\\anna\\screen shot.png", "image/png", PNG);
        assertThat(png.path("ref").asString()).startsWith("up-");
        assertThat(png.path("name").asString()).isEqualTo("screen shot.png");
        assertThat(png.path("contentType").asString()).isEqualTo("image/png");
        assertThat(png.path("size").asLong()).isEqualTo(PNG.length);
        // the browser did not know the type: the bytes tell
        assertThat(uploaded("report", "application/octet-stream", PDF).path("contentType").asString()).isEqualTo("application/pdf");
        assertThat(uploaded("notes.log", "application/octet-stream", "line 1\n".getBytes(StandardCharsets.UTF_8))
                .path("contentType").asString()).isEqualTo("text/plain");

        assertThat(upload("fake.png", "image/png", PDF).statusCode()).isEqualTo(400);
        assertThat(upload("setup.exe", "application/octet-stream", "MZ\u0090\u0000rest".getBytes(StandardCharsets.ISO_8859_1))
                .statusCode()).isEqualTo(415);
        HttpResponse<String> tooLarge = upload("big.bin", "application/octet-stream", new byte[1024 * 1024 + 1]);
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(tooLarge.body()).contains("larger than 1 MB");
        HttpResponse<String> notMultipart = http.send(request("/api/files", true).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(notMultipart.statusCode()).isEqualTo(400);
        assertThat(notMultipart.body()).contains("part named 'file'");
        HttpResponse<String> anonymous = http.send(request("/api/files", false).header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("file", "a.png", "image/png", PNG))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        // agents see their uploads like any other file
        HttpResponse<byte[]> own = http.send(request("/api/files/" + png.path("ref").asString(), true).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(own.body()).isEqualTo(PNG);
    }

    @Test
    void aReplyWithFilesListsThemAndItsCommandCarriesSignedLinksAnAdapterCanFetchWithoutASession() throws Exception {
        Conversation c = conversation("6001");
        String png = uploaded("screen.png", "image/png", PNG).path("ref").asString();
        String pdf = uploaded("log.pdf", "application/pdf", PDF).path("ref").asString();

        HttpResponse<String> accepted = reply(c.id(), "{\"text\":\"see attached\",\"attachments\":[\"" + png + "\",\"" + pdf + "\"]}");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        JsonNode message = ContractJson.mapper().readTree(accepted.body());
        assertThat(message.path("attachments")).hasSize(2);
        assertThat(message.path("attachments").get(0).path("name").asString()).isEqualTo("screen.png");
        assertThat(message.path("attachments").get(0).path("ref").asString()).isEqualTo(png);
        assertThat(message.path("attachments").get(1).path("contentType").asString()).isEqualTo("application/pdf");
        assertThat(message.path("deliveryStatus").asString()).isEqualTo("pending");

        OutboundCommand command = command(Topics.outbound(Channel.TELEGRAM), message.path("id").asString());
        assertThat(command.recipient()).containsEntry("chat_id", "6001");
        assertThat(command.text()).isEqualTo("see attached");
        assertThat(command.attachments()).extracting(OutboundCommand.Attachment::name).containsExactly("screen.png", "log.pdf");
        OutboundCommand.Attachment first = command.attachments().get(0);
        assertThat(first.contentType()).isEqualTo("image/png");
        assertThat(first.size()).isEqualTo(PNG.length);
        assertThat(first.url()).startsWith("http://localhost:" + port + "/api/files/signed/" + png + "?expires=");

        HttpResponse<byte[]> fetched = http.send(request(first.url(), false).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(fetched.statusCode()).isEqualTo(200);
        assertThat(fetched.body()).isEqualTo(PNG);
        assertThat(fetched.headers().firstValue("Content-Type")).hasValue("image/png");

        // a link for another file, a changed expiry, a missing or a stale signature are all refused
        String other = command.attachments().get(1).url().replace(pdf, png);
        assertThat(status(other)).isEqualTo(403);
        String expires = first.url().replaceAll(".*expires=(\\d+).*", "$1");
        assertThat(status(first.url().replace("expires=" + expires, "expires=" + (Long.parseLong(expires) + 3600)))).isEqualTo(403);
        assertThat(status("http://localhost:" + port + "/api/files/signed/" + png)).isEqualTo(403);
        long past = Instant.now().minusSeconds(60).getEpochSecond();
        HttpResponse<String> stale = http.send(request("/api/files/signed/" + png + "?expires=" + past + "&signature="
                + links.signature(png, past), false).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(stale.statusCode()).isEqualTo(403);
        assertThat(stale.body()).contains("expired");

        // the timeline shows the reply with its files
        HttpResponse<String> detail = http.send(request("/api/conversations/" + c.id(), true).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(detail.body()).contains("screen.png").contains("log.pdf");
    }

    int status(String url) throws Exception {
        return http.send(request(url, false).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void filesAloneAreAReply_butNeitherTextNorFilesOrAnUnknownRefIsRefused() throws Exception {
        Conversation c = conversation("6002");
        String png = uploaded("only.png", "image/png", PNG).path("ref").asString();
        HttpResponse<String> accepted = reply(c.id(), "{\"attachments\":[\"" + png + "\"]}");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        OutboundCommand command = command(Topics.outbound(Channel.TELEGRAM), ContractJson.mapper().readTree(accepted.body()).path("id").asString());
        assertThat(command.text()).isNull();
        assertThat(command.attachments()).singleElement().satisfies(a -> assertThat(a.name()).isEqualTo("only.png"));

        assertThat(reply(c.id(), "{\"text\":\" \",\"attachments\":[]}").statusCode()).isEqualTo(400);
        HttpResponse<String> unknown = reply(c.id(), "{\"text\":\"x\",\"attachments\":[\"up-nope\"]}");
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("no uploaded file up-nope");
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            many.add("\"" + png + i + "\"");
        }
        assertThat(reply(c.id(), "{\"text\":\"x\",\"attachments\":[" + String.join(",", many) + "]}").statusCode()).isEqualTo(400);
    }

    @Test
    void aReplyViaTheContactsEmailGoesOutByEmailFromTheConfiguredAccount_inTheSameConversation() throws Exception {
        Conversation c = conversation("6003");
        HttpResponse<String> accepted = reply(c.id(), "{\"text\":\"we wrote to your mail too\","
                + "\"via\":{\"channel\":\"email\",\"identity\":\"Anna-6003@Example.org\"}}");
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        JsonNode message = ContractJson.mapper().readTree(accepted.body());
        assertThat(message.path("channel").asString()).isEqualTo("email");
        assertThat(message.path("meta").path("viaIdentity").asString()).isEqualTo("email:anna-6003@example.org");
        assertThat(message.path("meta").path("viaAccount").asString()).isEqualTo("support");

        OutboundCommand command = command(Topics.outbound(Channel.EMAIL), message.path("id").asString());
        assertThat(command.channel()).isEqualTo(Channel.EMAIL);
        assertThat(command.account()).isEqualTo("support");
        assertThat(command.conversationId()).isEqualTo(c.id());
        assertThat(command.recipient()).containsExactlyEntriesOf(Map.of("email", "anna-6003@example.org"));
        assertThat(command.references()).as("a Telegram message id is no email reference").isEmpty();

        // an identity id alone works too; the conversation keeps its channel
        HttpResponse<String> byId = reply(c.id(), "{\"text\":\"again\",\"via\":\"email:anna-6003@example.org\"}");
        assertThat(byId.statusCode()).isEqualTo(202);
        HttpResponse<String> detail = http.send(request("/api/conversations/" + c.id(), true).GET().build(), HttpResponse.BodyHandlers.ofString());
        JsonNode d = ContractJson.mapper().readTree(detail.body());
        assertThat(d.path("channel").asString()).isEqualTo("telegram");
        assertThat(d.path("messages")).hasSize(3);
        assertThat(d.path("messages").get(1).path("channel").asString()).isEqualTo("email");

        // the conversation's own identity named as via: its channel, account and thread, as a plain reply
        HttpResponse<String> own = reply(c.id(), "{\"text\":\"here\",\"via\":{\"channel\":\"telegram\",\"identity\":\"6003\"}}");
        assertThat(own.statusCode()).isEqualTo(202);
        OutboundCommand same = command(Topics.outbound(Channel.TELEGRAM), ContractJson.mapper().readTree(own.body()).path("id").asString());
        assertThat(same.account()).isEqualTo("default");
        assertThat(same.recipient()).containsExactlyEntriesOf(Map.of("chat_id", "6003"));
        assertThat(same.references()).containsExactly("5");
    }

    @Test
    void aViaIdentityMustBeTheContactsAndItsChannelMustHaveASendingAccount() throws Exception {
        Conversation c = conversation("6004");
        HttpResponse<String> stranger = reply(c.id(), "{\"text\":\"x\",\"via\":{\"channel\":\"email\",\"identity\":\"someone@example.org\"}}");
        assertThat(stranger.statusCode()).isEqualTo(400);
        assertThat(stranger.body()).contains("not one of this conversation's contact");
        HttpResponse<String> noAccount = reply(c.id(), "{\"text\":\"x\",\"via\":{\"channel\":\"facebook\",\"identity\":\"psid-6004\"}}");
        assertThat(noAccount.statusCode()).isEqualTo(400);
        assertThat(noAccount.body()).contains("no facebook account is configured").contains("FACEBOOK_PAGE_ACCESS_TOKEN");
        HttpResponse<String> phone = reply(c.id(), "{\"text\":\"x\",\"via\":\"phone:+79123456789\"}");
        assertThat(phone.statusCode()).isEqualTo(400);
        assertThat(phone.body()).contains("cannot go out through phone");
        assertThat(reply(c.id(), "{\"text\":\"x\",\"via\":{\"channel\":\"email\"}}").statusCode()).isEqualTo(400);
        assertThat(reply(c.id(), "{\"text\":\"x\",\"via\":42}").statusCode()).isEqualTo(400);
    }
}
