package io.switchboard.channel.social.vk;

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

/** The VK half of channel-social: Callback API endpoint, messages.send replies, Bots Long Poll. */
class VkAdapterTest extends SocialAdapterTestBase {

    @Autowired
    VkSender sender;
    @Autowired
    VkPoller poller;

    @BeforeEach
    void reset() {
        VK_API.reset();
    }

    /** A fixture as VK would post it to a community configured with a secret: the secret goes in first. */
    static byte[] withSecret(String fixture, String secret) {
        String text = new String(fixture("vk/" + fixture), StandardCharsets.UTF_8);
        int brace = text.indexOf('{');
        return (text.substring(0, brace + 1) + "\"secret\":\"" + secret + "\"," + text.substring(brace + 1)).getBytes(StandardCharsets.UTF_8);
    }

    HttpResponse<String> callback(String account, byte[] body) throws Exception {
        return post("/webhooks/vk/" + account, body, Map.of());
    }

    @Test
    void confirmationAnswersTheConfiguredCodeAsPlainText() throws Exception {
        HttpResponse<String> r = callback("default", fixture("vk/authored_callback_confirmation.json"));
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("conf-code-42");
        assertThat(r.headers().firstValue("Content-Type")).get().asString().startsWith("text/plain");
        // another community's confirmation is refused
        assertThat(callback("default", "{\"type\":\"confirmation\",\"group_id\":999}".getBytes(StandardCharsets.UTF_8)).statusCode())
                .isEqualTo(403);
    }

    /** Each Callback API fixture, by the account whose group id it carries; expected key and event id. */
    record Case(String fixture, String account, String key) {
    }

    static final List<Case> CALLBACK_FIXTURES = List.of(
            new Case("authored_callback_message_new_doc_with_secret.json", "default", "vk:default:peer:111222333"),
            new Case("issue40_message_new_pre5103_group_chat_id0.json", "g168230748", "vk:g168230748:peer:2000000001"),
            new Case("issue40_message_new_pre5103_private.json", "g168230748", "vk:g168230748:peer:463526827"),
            new Case("issue40_message_reply_pre5103.json", "g168230748", "vk:g168230748:peer:463526827"),
            new Case("vkdocs_group_join_approved.json", "g1", "vk:g1:peer:1"),
            new Case("vknet_group_join_request.json", "g1234", "vk:g1234:peer:321"),
            new Case("vknet_message_allow.json", "g1234", "vk:g1234:peer:123"),
            new Case("vknet_message_deny.json", "g1234", "vk:g1234:peer:123"),
            new Case("vknet_message_edit.json", "g1234", "vk:g1234:peer:123"),
            new Case("vknet_message_event_callback_button.json", "g1234", "vk:g1234:peer:123456789"),
            new Case("vknet_message_new_carousel_template_bom.json", "g123456789", "vk:g123456789:peer:123456789"),
            new Case("vknet_message_new_v5103_client_info.json", "g123456789", "vk:g123456789:peer:123456789"),
            new Case("vknet_message_reply_admin_author.json", "g1234", "vk:g1234:peer:123"),
            new Case("vknet_wall_reply_new.json", "g1234", "vk:g1234:wall:-1234_6"));

    @Test
    void everyCallbackFixtureIsAcknowledgedOkOnlyOnceItIsInKafka_withoutTheSecret() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.VK))) {
            List<String> eventIds = new ArrayList<>();
            for (Case k : CALLBACK_FIXTURES) {
                // a secret-free fixture gets the configured one; the authored one carries it already
                byte[] body = k.fixture().contains("with_secret") ? fixture("vk/" + k.fixture()) : withSecret(k.fixture(), "shared-vk-secret");
                HttpResponse<String> r = callback(k.account(), body);
                assertThat(r.statusCode()).as(k.fixture()).isEqualTo(200);
                assertThat(r.body()).as(k.fixture()).isEqualTo("ok");
                // acknowledged means already on the broker: the next poll finds it
                List<ConsumerRecord<String, byte[]>> got = drain(c, e -> e.account().equals(k.account()), 1);
                assertThat(got).as(k.fixture()).hasSize(1);
                ConsumerRecord<String, byte[]> record = got.get(0);
                InboundEnvelope e = envelope(record);
                assertThat(record.key()).as(k.fixture()).isEqualTo(k.key()).isEqualTo(e.affinityKey());
                assertThat(e.channel()).isEqualTo(Channel.VK);
                assertThat(e.contentType()).isEqualTo("application/json");
                JsonNode payload = ContractJson.mapper().readTree(e.payloadText());
                assertThat(payload.has("secret")).as(k.fixture()).isFalse();
                assertThat(payload.path("type").asString()).isEqualTo(e.externalIds().get("type"));
                JsonNode original = ContractJson.mapper().readTree(VkWebhookController.withoutBom(
                        new String(fixture("vk/" + k.fixture()), StandardCharsets.UTF_8)));
                assertThat(payload.path("object")).as(k.fixture()).isEqualTo(original.path("object"));
                eventIds.add(e.eventId());
            }
            assertThat(eventIds).doesNotHaveDuplicates();
            assertThat(eventIds).contains("vk:default:event:f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d");
        }
    }

    @Test
    void aRetriedEventHasTheSameEventId_evenWithoutEventIdInOldVersions() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.VK))) {
            byte[] body = withSecret("issue40_message_new_pre5103_private.json", "shared-vk-secret");
            assertThat(callback("g168230748", body).body()).isEqualTo("ok");
            assertThat(callback("g168230748", body).body()).isEqualTo("ok");
            List<ConsumerRecord<String, byte[]>> got = drain(c, e -> e.account().equals("g168230748"), 2);
            assertThat(got).hasSize(2);
            assertThat(envelope(got.get(0)).eventId()).startsWith("vk:g168230748:sha256:").isEqualTo(envelope(got.get(1)).eventId());
        }
    }

    @Test
    void aWrongOrMissingSecretOrGroupIs403AndNothingIsPublished() throws Exception {
        String forgedText = new String(fixture("vk/authored_callback_message_new_doc_with_secret.json"), StandardCharsets.UTF_8)
                .replace("f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d", "forged-event");
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.VK))) {
            assertThat(callback("default", forgedText.replace("shared-vk-secret", "wrong").getBytes(StandardCharsets.UTF_8)).statusCode())
                    .isEqualTo(403);
            assertThat(callback("default", forgedText.replace("\"secret\": \"shared-vk-secret\"", "\"x\": 1")
                    .getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(403);
            assertThat(callback("default", forgedText.replace("100200300", "100200301").getBytes(StandardCharsets.UTF_8)).statusCode())
                    .isEqualTo(403);
            List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
            org.springframework.kafka.test.utils.KafkaTestUtils.getRecords(c, Duration.ofSeconds(1)).forEach(seen::add);
            assertThat(seen).extracting(r -> envelope(r).eventId()).doesNotContain("vk:default:event:forged-event");
        }
    }

    @Test
    void garbageIs400AndUnknownOrPollingAccountsAre404() throws Exception {
        HttpResponse<String> notJson = callback("default", "garbage".getBytes(StandardCharsets.UTF_8));
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(notJson.body()).contains("not JSON");
        assertThat(callback("default", "{\"group_id\":100200300}".getBytes(StandardCharsets.UTF_8)).statusCode()).isEqualTo(400);
        assertThat(callback("default", new byte[]{(byte) 0xff, (byte) 0xfe, '{', '}'}).statusCode()).isEqualTo(400);
        assertThat(callback("nobody", fixture("vk/authored_callback_confirmation.json")).statusCode()).isEqualTo(404);
        assertThat(callback("lp", fixture("vk/authored_callback_confirmation.json")).statusCode()).isEqualTo(404);
    }

    static OutboundCommand command(String text, Map<String, String> recipient) {
        return new OutboundCommand(1, UUID.randomUUID().toString(), Channel.VK, "default", "conv-vk-1",
                recipient, text, null, null, List.of(), List.of(), Instant.now(), "agent");
    }

    static Map<String, String> form(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            form.put(java.net.URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                    java.net.URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return form;
    }

    @Test
    void aReplyCommandReachesMessagesSendWithThePeerAndADeterministicRandomId_andEndsSent() throws Exception {
        VK_API.responder = c -> new FakeApi.Reply(200, "{\"response\":4321}");
        OutboundCommand command = command("Ваша ВМ снова работает", Map.of("peer_id", "111222333"));
        try (Consumer<String, byte[]> reports = consumer(Topics.DELIVERY_REPORTS)) {
            kafka.send(Topics.outbound(Channel.VK), command.conversationId(), ContractJson.toBytes(command)).get();
            DeliveryReport report = Awaiting.report(reports, command.messageId());
            assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
            assertThat(report.externalId()).isEqualTo("4321");
        }
        assertThat(VK_API.calls).singleElement().satisfies(call -> {
            assertThat(call.path()).isEqualTo("/method/messages.send");
            assertThat(call.query()).isNull(); // the token travels in the body, never in a URL
            Map<String, String> form = form(call.body());
            assertThat(form).containsEntry("peer_id", "111222333").containsEntry("message", "Ваша ВМ снова работает")
                    .containsEntry("access_token", "vk-token").containsEntry("v", "5.199")
                    .containsEntry("random_id", String.valueOf(VkSender.randomId(command.messageId(), 0)));
        });
        // the same command again (a redelivery after a crash) carries the same random_id, so VK drops the copy
        sender.send(command);
        assertThat(form(VK_API.calls.get(1).body()).get("random_id")).isEqualTo(form(VK_API.calls.get(0).body()).get("random_id"));
        assertThat(VkSender.randomId("a", 0)).isNotEqualTo(VkSender.randomId("b", 0)).isPositive();
    }

    @Test
    void error901FailsAtOnceWithTheReason() throws Exception {
        VK_API.responder = c -> new FakeApi.Reply(200,
                "{\"error\":{\"error_code\":901,\"error_msg\":\"Can't send messages for users without permission\"}}");
        DeliveryReport report = sender.send(command("hello", Map.of("peer_id", "111222333")));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(report.failureReason()).startsWith("can't send messages for users without permission");
        assertThat(VK_API.calls).hasSize(1);
    }

    @Test
    void tooManyRequestsIsRetried_otherErrorsFailWithVksMessage() throws Exception {
        AtomicInteger n = new AtomicInteger();
        VK_API.responder = c -> n.incrementAndGet() == 1
                ? new FakeApi.Reply(200, "{\"error\":{\"error_code\":6,\"error_msg\":\"Too many requests per second\"}}")
                : new FakeApi.Reply(200, "{\"response\":77}");
        DeliveryReport report = sender.send(command("hello", Map.of("peer_id", "111222333")));
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.attempts()).isEqualTo(2);

        VK_API.responder = c -> new FakeApi.Reply(200, "{\"error\":{\"error_code\":100,\"error_msg\":\"One of the parameters specified was missing or invalid\"}}");
        DeliveryReport bad = sender.send(command("hello", Map.of("peer_id", "111222333")));
        assertThat(bad.status()).isEqualTo(DeliveryReport.Status.FAILED);
        assertThat(bad.failureReason()).isEqualTo("One of the parameters specified was missing or invalid (VK error 100)");
    }

    @Test
    void groupChatsAreAnsweredByPeerIdsAndKnownByConversationMessageId_wallThreadsByComment() throws Exception {
        VK_API.responder = c -> c.path().endsWith("messages.send")
                ? new FakeApi.Reply(200, "{\"response\":[{\"peer_id\":2000000001,\"message_id\":0,\"conversation_message_id\":70}]}")
                : new FakeApi.Reply(200, "{\"response\":{\"comment_id\":10}}");
        DeliveryReport chat = sender.send(command("hi all", Map.of("peer_id", "2000000001")));
        assertThat(chat.externalId()).isEqualTo("c70");
        assertThat(form(VK_API.calls.get(0).body())).containsEntry("peer_ids", "2000000001");

        DeliveryReport wall = sender.send(command("thanks", Map.of("wall_owner_id", "-1234", "post_id", "6", "comment_id", "9")));
        assertThat(wall.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(wall.externalId()).isEqualTo("10");
        assertThat(VK_API.calls.get(1).path()).isEqualTo("/method/wall.createComment");
        assertThat(form(VK_API.calls.get(1).body())).containsEntry("owner_id", "-1234").containsEntry("post_id", "6")
                .containsEntry("reply_to_comment", "9").containsEntry("from_group", "100200300");

        assertThat(sender.send(command("x", Map.of())).failureReason()).isEqualTo("no VK peer to reply to");
    }

    @Test
    void attachmentsAreUploadedAsDialogDocumentsAndSentWithTheText() throws Exception {
        VK_API.responder = c -> switch (c.path()) {
            case "/files/report.pdf" -> new FakeApi.Reply(200, "%PDF-1.4 fake");
            case "/method/docs.getMessagesUploadServer" -> new FakeApi.Reply(200,
                    "{\"response\":{\"upload_url\":\"" + VK_API.url() + "/upload\"}}");
            case "/upload" -> new FakeApi.Reply(200, "{\"file\":\"FILE123\"}");
            case "/method/docs.save" -> new FakeApi.Reply(200, "{\"response\":{\"type\":\"doc\",\"doc\":{\"id\":600,\"owner_id\":-100200300}}}");
            default -> new FakeApi.Reply(200, "{\"response\":55}");
        };
        OutboundCommand command = new OutboundCommand(1, UUID.randomUUID().toString(), Channel.VK, "default", "conv-vk-2",
                Map.of("peer_id", "111222333"), "the report", null, null, List.of(),
                List.of(new OutboundCommand.Attachment("report.pdf", "application/pdf", 13, VK_API.url() + "/files/report.pdf")),
                Instant.now(), "agent");
        DeliveryReport report = sender.send(command);
        assertThat(report.status()).isEqualTo(DeliveryReport.Status.SENT);
        assertThat(report.externalId()).isEqualTo("55");
        assertThat(VK_API.calls).extracting(FakeApi.Call::path).containsExactly("/files/report.pdf",
                "/method/docs.getMessagesUploadServer", "/upload", "/method/docs.save", "/method/messages.send");
        assertThat(form(VK_API.calls.get(1).body())).containsEntry("type", "doc").containsEntry("peer_id", "111222333");
        assertThat(VK_API.calls.get(2).body()).contains("filename=\"report.pdf\"").contains("%PDF-1.4 fake");
        assertThat(form(VK_API.calls.get(3).body())).containsEntry("file", "FILE123").containsEntry("title", "report.pdf");
        assertThat(form(VK_API.calls.get(4).body())).containsEntry("attachment", "doc-100200300_600").containsEntry("message", "the report");

        VK_API.reset();
        assertThat(sender.send(command("  ", Map.of("peer_id", "1"))).failureReason()).isEqualTo("empty reply: no text and no attachments");
        assertThat(VK_API.calls).isEmpty();
    }

    @Test
    void bothLongPollUpdatesArePublishedAndTheTsIsRecordedAfterwards() throws Exception {
        try (Consumer<String, byte[]> c = consumer(Topics.inbound(Channel.VK), false)) {
            List<ConsumerRecord<String, byte[]>> got = drain(c, e -> e.account().equals("lp"), 1);
            assertThat(got).isNotEmpty();
            InboundEnvelope e = envelope(got.get(0));
            assertThat(e.eventId()).isEqualTo("vk:lp:event:0a0b0c0d0e0f101112131415161718191a1b1c1d");
            assertThat(e.externalIds()).containsEntry("type", "group_leave");
        }
        // the cursor after the batch is on the state topic, and the next poll asked from it
        assertThat(poller.restoreTs("lp")).isEqualTo("512");
        Awaiting.until(() -> VK_API.routeCalls.stream().anyMatch(call -> call.path().equals("/lp") && call.query().contains("ts=512")));
        assertThat(VK_API.routeCalls).filteredOn(call -> call.path().equals("/lp")).first()
                .satisfies(call -> assertThat(call.query()).contains("act=a_check").contains("key=lp-key").contains("ts=500"));
    }

    @Test
    void longPollFailuresAreHandledAsDocumented() throws Exception {
        VkProperties.Account account = new VkProperties.Account("100200300", null, null, "t", java.net.URI.create(VK_API.url()),
                null, "longpoll", Duration.ofSeconds(1));
        VkPoller.Session session = new VkPoller.Session(VK_API.url() + "/failed", "k", "5");
        for (String name : List.of("vknet_longpoll_failed_1.json", "vknet_longpoll_failed_2.json", "vknet_longpoll_failed_3.json")) {
            String body = new String(fixture("vk/" + name), StandardCharsets.UTF_8);
            VK_API.responder = c -> new FakeApi.Reply(200, body);
            VkPoller.Step step = poller.poll("test", account, session, "5");
            switch (name) {
                case "vknet_longpoll_failed_1.json" -> assertThat(step).isEqualTo(new VkPoller.Step("10", true, false));
                case "vknet_longpoll_failed_2.json" -> assertThat(step).isEqualTo(new VkPoller.Step("5", false, false));
                default -> assertThat(step).isEqualTo(new VkPoller.Step(null, false, false));
            }
        }
    }
}
