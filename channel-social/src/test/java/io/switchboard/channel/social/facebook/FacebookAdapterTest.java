package io.switchboard.channel.social.facebook;

import io.switchboard.channel.social.FakeApi;
import io.switchboard.channel.social.SocialAdapterTestBase;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import tools.jackson.databind.JsonNode;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The Facebook half of channel-social: verification, signed batches split per item, Send API replies. */
class FacebookAdapterTest extends SocialAdapterTestBase {

    static final String SECRET = "shared-fixtures-app-secret";

    @Autowired
    FacebookSender sender;

    @BeforeEach
    void reset() {
        GRAPH_API.reset();
    }

    /** The signatures fixtures/messenger/authored_SIGNATURES.txt lists, by file. */
    static Map<String, String> signatures() {
        Map<String, String> map = new LinkedHashMap<>();
        for (String line : new String(fixture("messenger/authored_SIGNATURES.txt"), StandardCharsets.UTF_8).split("\n")) {
            if (!line.startsWith("#") && line.contains("sha256=")) {
                String[] parts = line.trim().split("\\s+");
                map.put(parts[0], parts[1]);
            }
        }
        return map;
    }

    HttpResponse<String> webhook(byte[] body, String signature) throws Exception {
        return post("/webhooks/facebook/default", body, signature == null ? Map.of() : Map.of("X-Hub-Signature-256", signature));
    }

    @Test
    void verificationEchoesTheChallengeOnlyForTheRightToken() throws Exception {
        HttpResponse<String> ok = get("/webhooks/facebook/default?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=shared-verify-token");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("1158201444");
        assertThat(ok.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain");
        assertThat(get("/webhooks/facebook/default?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong").statusCode()).isEqualTo(403);
        assertThat(get("/webhooks/facebook/default?hub.mode=unsubscribe&hub.challenge=1&hub.verify_token=shared-verify-token").statusCode())
                .isEqualTo(403);
        assertThat(get("/webhooks/facebook/default?hub.mode=subscribe&hub.challenge=1").statusCode()).isEqualTo(403);
        assertThat(get("/webhooks/facebook/nobody?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x").statusCode()).isEqualTo(404);
    }

    @Test
    void ourHmacAgreesWithEveryListedFixtureSignature() {
        signatures().forEach((file, signature) ->
                assertThat(FacebookWebhookController.signatureMatches(SECRET, fixture("messenger/" + file), signature)).as(file).isTrue());
    }

    /** Each page-webhook fixture, signed as listed: expected item count, affinity keys and event ids. */
    record Case(String fixture, List<String> keys, List<String> eventIds) {
    }

    static final List<Case> PAGE_FIXTURES = List.of(
            new Case("authored_batch_two_entries_with_echo.json",
                    List.of("facebook:default:1000000001:2000000002", "facebook:default:1000000001:2000000002"),
                    List.of("facebook:default:message:m_shared_0001", "facebook:default:message:m_shared_0002")),
            new Case("fbhs_page_delivery.json", List.of("facebook:default:111111:USER_ID"),
                    List.of("facebook:default:delivery:USER_ID:1458668856253")),
            new Case("fbhs_page_message_image_attachment.json", List.of("facebook:default:111111:USER_ID"),
                    List.of("facebook:default:message:mid.1458696618141:b4ef9d19ec21086067")),
            new Case("fbhs_page_message_text.json", List.of("facebook:default:111111:USER_ID"),
                    List.of("facebook:default:message:mid.1457764197618:41d102a3e1ae206a38")),
            new Case("fbhs_page_optin.json", List.of("facebook:default:111111:USER_ID"), null),
            new Case("fbhs_page_postback.json", List.of("facebook:default:111111:USER_ID"), null));

    @Test
    void everySignedPageFixtureIsSplitIntoOneEnvelopePerItem_allInKafkaBeforeThe200() throws Exception {
        Map<String, String> signatures = signatures();
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.FACEBOOK))) {
            for (Case k : PAGE_FIXTURES) {
                byte[] body = fixture("messenger/" + k.fixture());
                HttpResponse<String> r = webhook(body, signatures.get(k.fixture()));
                assertThat(r.statusCode()).as(k.fixture()).isEqualTo(200);
                List<ConsumerRecord<String, byte[]>> got = drainAll(c, k.keys().size());
                assertThat(got).as(k.fixture()).hasSize(k.keys().size());
                assertThat(got).extracting(ConsumerRecord::key).as(k.fixture()).containsExactlyElementsOf(k.keys());
                if (k.eventIds() != null) {
                    assertThat(got).extracting(rec -> envelope(rec).eventId()).as(k.fixture()).containsExactlyElementsOf(k.eventIds());
                }
                JsonNode original = ContractJson.mapper().readTree(body);
                List<JsonNode> items = new ArrayList<>();
                original.path("entry").forEach(e -> e.path("messaging").forEach(items::add));
                for (int i = 0; i < got.size(); i++) {
                    InboundEnvelope e = envelope(got.get(i));
                    JsonNode payload = ContractJson.mapper().readTree(e.payloadText());
                    assertThat(payload.path("object").asString()).isEqualTo("page");
                    assertThat(payload.path("entry")).hasSize(1);
                    assertThat(payload.path("entry").get(0).path("messaging")).hasSize(1);
                    // the item travels unchanged, with the page it came to
                    assertThat(payload.path("entry").get(0).path("messaging").get(0)).as(k.fixture()).isEqualTo(items.get(i));
                    assertThat(payload.path("entry").get(0).path("id")).isEqualTo(original.path("entry").get(i).path("id"));
                    assertThat(e.externalIds()).containsKeys("page_id", "psid", "kind");
                }
            }
        }
    }

    /** The documentation's bare items and entry, wrapped as Facebook posts them and signed with our HMAC. */
    @Test
    void theDocumentationsBareItemsPassTheEndpointOnceWrappedInAPageBatch() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.FACEBOOK))) {
            List<String> items = List.of("fbdocs_messaging_event_delivery.json", "fbdocs_messaging_event_read.json",
                    "fbdocs_messaging_event_reply_to.json", "fbdocs_messaging_event_text_quick_reply.json");
            StringBuilder batch = new StringBuilder("{\"object\":\"page\",\"entry\":[");
            for (String item : items) {
                batch.append("{\"id\":\"<PAGE_ID>\",\"time\":1458692752478,\"messaging\":[")
                        .append(new String(fixture("messenger/" + item), StandardCharsets.UTF_8)).append("]},");
            }
            batch.append(new String(fixture("messenger/fbdocs_entry_message_attachment_placeholder_type.json"), StandardCharsets.UTF_8));
            batch.append("]}");
            byte[] body = batch.toString().getBytes(StandardCharsets.UTF_8);
            assertThat(webhook(body, sign(SECRET, body)).statusCode()).isEqualTo(200);
            List<ConsumerRecord<String, byte[]>> got = drainAll(c, 5);
            assertThat(got).hasSize(5);
            assertThat(got).extracting(ConsumerRecord::key).containsOnly("facebook:default:<PAGE_ID>:<PSID>", "facebook:default:682498302938465:<PSID>");
            assertThat(got).extracting(r -> envelope(r).externalIds().get("kind")).containsExactlyInAnyOrder("delivery", "read", "message", "message", "message");
        }
    }

    @Test
    void aForgedOrMissingSignatureIs401AndNothingIsPublished() throws Exception {
        byte[] body = new String(fixture("messenger/fbhs_page_message_text.json"), StandardCharsets.UTF_8)
                .replace("mid.1457764197618:41d102a3e1ae206a38", "mid.forged").getBytes(StandardCharsets.UTF_8);
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.FACEBOOK))) {
            assertThat(webhook(body, sign("wrong-secret", body)).statusCode()).isEqualTo(401);
            assertThat(webhook(body, null).statusCode()).isEqualTo(401);
            // the original's signature does not cover the changed body
            assertThat(webhook(body, signatures().get("fbhs_page_message_text.json")).statusCode()).isEqualTo(401);
            assertThat(webhook(body, "sha1=abc").statusCode()).isEqualTo(401);
            List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
            KafkaTestUtils.getRecords(c, Duration.ofSeconds(1)).forEach(seen::add);
            assertThat(seen).isEmpty();
        }
    }

    @Test
    void signedGarbageIs400_otherObjectsAreAcknowledgedAndDropped() throws Exception {
        byte[] garbage = "garbage".getBytes(StandardCharsets.UTF_8);
        assertThat(webhook(garbage, sign(SECRET, garbage)).statusCode()).isEqualTo(400);
        byte[] noEntry = "{\"object\":\"page\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(webhook(noEntry, sign(SECRET, noEntry)).statusCode()).isEqualTo(400);
        byte[] instagram = "{\"object\":\"instagram\",\"entry\":[]}".getBytes(StandardCharsets.UTF_8);
        assertThat(webhook(instagram, sign(SECRET, instagram)).statusCode()).isEqualTo(200);
    }

    static String sign(String secret, byte[] body) throws Exception {
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "sha256=" + java.util.HexFormat.of().formatHex(mac.doFinal(body));
    }

    static OutboundCommand command(String account, String text) {
        return new OutboundCommand(1, UUID.randomUUID().toString(), Channel.FACEBOOK, account, "conv-fb-1",
                Map.of("psid", "USER_ID", "page_id", "111111"), text, null, null, List.of(), List.of(), Instant.now(), "agent");
    }

    @Test
    void aReplyReachesTheSendApiForThePsidAsAResponse_andEndsSentWithTheMid() throws Exception {
        OutboundCommand command = command("default", "We are on it");
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS)) {
            kafka.send(Topics.outbound(Channel.FACEBOOK), command.conversationId(), ContractJson.toBytes(command)).get();
            DeliveryReport report = null;
            long deadline = System.currentTimeMillis() + 20_000;
            while (report == null && System.currentTimeMillis() < deadline) {
                for (var r : KafkaTestUtils.getRecords(reports, Duration.ofMillis(300))) {
                    DeliveryReport d = ContractJson.fromBytes(r.value(), DeliveryReport.class);
                    if (d.messageId().equals(command.messageId())) {
                        report = d;
                    }
                }
            }
            assertThat(report).isNotNull();
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(report.externalId()).isEqualTo("m_sent_1");
        }
        assertThat(GRAPH_API.calls).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/v21.0/me/messages");
            assertThat(call.query()).isEqualTo("access_token=page-token");
            JsonNode body = ContractJson.mapper().readTree(call.body());
            assertThat(body.path("recipient").path("id").asString()).isEqualTo("USER_ID");
            assertThat(body.path("messaging_type").asString()).isEqualTo("RESPONSE");
            assertThat(body.path("message").path("text").asString()).isEqualTo("We are on it");
            assertThat(body.path("message").path("metadata").asString()).isEqualTo("switchboard:" + command.messageId());
        });
    }

    @Test
    void unavailablePersonAndClosedWindowFailWithClearReasons() throws Exception {
        GRAPH_API.responder = c -> new FakeApi.Reply(400,
                "{\"error\":{\"message\":\"(#551) This person isn't available right now.\",\"type\":\"OAuthException\",\"code\":551,\"error_subcode\":1545041}}");
        DeliveryReport unavailable = sender.send(command("default", "hello"));
        assertThat(unavailable.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(unavailable.failureReason()).startsWith("This person isn't available right now");
        assertThat(GRAPH_API.calls).hasSize(1);

        GRAPH_API.responder = c -> new FakeApi.Reply(400,
                "{\"error\":{\"message\":\"(#10) This message is sent outside of allowed window.\",\"type\":\"OAuthException\",\"code\":10,\"error_subcode\":2018278}}");
        DeliveryReport late = sender.send(command("default", "hello"));
        assertThat(late.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(late.failureReason()).startsWith("outside the 24-hour messaging window").contains("10/2018278");
    }

    @Test
    void aConfiguredTagIsUsedWhenTheWindowIsClosed() throws Exception {
        GRAPH_API.responder = c -> c.body().contains("MESSAGE_TAG")
                ? new FakeApi.Reply(200, "{\"recipient_id\":\"USER_ID\",\"message_id\":\"m_tagged\"}")
                : new FakeApi.Reply(400, "{\"error\":{\"message\":\"outside window\",\"code\":10,\"error_subcode\":2018278}}");
        DeliveryReport report = sender.send(command("tagged", "hello after two days"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.externalId()).isEqualTo("m_tagged");
        assertThat(GRAPH_API.calls).hasSize(2);
        JsonNode tagged = ContractJson.mapper().readTree(GRAPH_API.calls.get(1).body());
        assertThat(tagged.path("tag").asString()).isEqualTo("HUMAN_AGENT");
        assertThat(GRAPH_API.calls.get(1).query()).isEqualTo("access_token=page-token-2");
    }

    @Test
    void attachmentsGoByUrlAfterTheText() throws Exception {
        OutboundCommand command = new OutboundCommand(1, UUID.randomUUID().toString(), Channel.FACEBOOK, "default", "conv-fb-2",
                Map.of("psid", "USER_ID"), "see the screenshot", null, null, List.of(),
                List.of(new OutboundCommand.Attachment("shot.png", "image/png", 10, "https://files.example/shot.png")),
                Instant.now(), "agent");
        assertThat(sender.send(command).status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(GRAPH_API.calls).hasSize(2);
        JsonNode second = ContractJson.mapper().readTree(GRAPH_API.calls.get(1).body());
        assertThat(second.path("message").path("attachment").path("type").asString()).isEqualTo("image");
        assertThat(second.path("message").path("attachment").path("payload").path("url").asString()).isEqualTo("https://files.example/shot.png");
        assertThat(second.path("recipient").path("id").asString()).isEqualTo("USER_ID");
        assertThat(sender.send(command("default", "")).failureReason()).isEqualTo("empty reply: no text and no attachments");
    }

    @Test
    void rateLimitsAreRetried() throws Exception {
        AtomicInteger n = new AtomicInteger();
        GRAPH_API.responder = c -> n.incrementAndGet() == 1
                ? new FakeApi.Reply(400, "{\"error\":{\"message\":\"(#613) Calls to this api have exceeded the rate limit.\",\"code\":613}}")
                : new FakeApi.Reply(200, "{\"recipient_id\":\"USER_ID\",\"message_id\":\"m_2\"}");
        DeliveryReport report = sender.send(command("default", "hello"));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.attempts()).isEqualTo(2);
        assertThat(FacebookSender.split("a".repeat(2500))).hasSize(2);
    }
}
