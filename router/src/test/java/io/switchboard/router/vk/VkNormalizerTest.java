package io.switchboard.router.vk;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.router.support.Fixtures;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One assertion set per fixture in fixtures/vk (see SOURCES.md there). */
class VkNormalizerTest {

    private final VkNormalizer normalizer = new VkNormalizer();

    static InboundEnvelope envelope(String json) {
        return InboundEnvelope.ofText("vk:default:test", Channel.VK, "default", Map.of(), Instant.parse("2025-01-01T00:00:00Z"),
                "vk:default:peer:x", "application/json", json);
    }

    /** The fixture's exact text (a BOM included where the file has one). */
    static String raw(String fixture) {
        return new String(Fixtures.bytes("vk/" + fixture), StandardCharsets.UTF_8);
    }

    private List<DomainChange> run(String fixture) throws MalformedEventException {
        return normalizer.normalize(envelope(raw(fixture)));
    }

    @SuppressWarnings("unchecked")
    private <T extends DomainChange> T only(String fixture, Class<T> type) throws MalformedEventException {
        List<DomainChange> changes = run(fixture);
        assertThat(changes).hasSize(1).first().isInstanceOf(type);
        return (T) changes.get(0);
    }

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.VK)).get().isInstanceOf(VkNormalizer.class);
    }

    @Test
    void callbackConfirmationIsIgnored() throws Exception {
        assertThat(only("authored_callback_confirmation.json", Ignored.class).reason()).contains("confirmation");
    }

    @Test
    void messageNew5199WithDocAttachment() throws Exception {
        CustomerMessage m = only("authored_callback_message_new_doc_with_secret.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("лог ошибки во вложении");
        assertThat(m.sender()).isEqualTo(new Identity("vk", "111222333"));
        assertThat(m.messageKey()).isEqualTo("vk:default:111222333:77");
        assertThat(m.externalId()).isEqualTo("77");
        assertThat(m.thread().threadKey()).isEqualTo("vk:default:peer:111222333");
        assertThat(m.replyAddress()).isEqualTo(Map.of("peer_id", "111222333"));
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochSecond(1730811000));
        assertThat(m.automatic()).isFalse();
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("error.log");
            assertThat(a.contentType()).isEqualTo("text/plain");
            assertThat(a.size()).isEqualTo(2048L);
            assertThat(a.kind()).isEqualTo("doc");
            assertThat(a.ref()).startsWith("https://vk.com/doc111222333_600100200");
        });
    }

    @Test
    void longPollEnvelopeIsNotAnEventButItsUpdateIs() throws Exception {
        assertThatThrownBy(() -> run("authored_longpoll_response_envelope.json")).isInstanceOf(MalformedEventException.class);
        String update = io.switchboard.contract.ContractJson.mapper().readTree(raw("authored_longpoll_response_envelope.json"))
                .path("updates").get(0).toString();
        assertThat(normalizer.normalize(envelope(update))).singleElement().isInstanceOf(Ignored.class);
    }

    @Test
    void groupChatMessageWithIdZeroIsKnownByConversationMessageId() throws Exception {
        CustomerMessage m = only("issue40_message_new_pre5103_group_chat_id0.json", CustomerMessage.class);
        assertThat(m.messageKey()).isEqualTo("vk:default:2000000001:c69");
        assertThat(m.externalId()).isEqualTo("c69");
        assertThat(m.sender()).isEqualTo(new Identity("vk", "463526827"));
        assertThat(m.thread().threadKey()).isEqualTo("vk:default:peer:2000000001");
        assertThat(m.replyAddress()).containsEntry("peer_id", "2000000001");
        assertThat(m.text()).isEqualTo("тест");
    }

    @Test
    void oldFlatMessageNewIsTheCustomersEvenWithOut1() throws Exception {
        CustomerMessage m = only("issue40_message_new_pre5103_private.json", CustomerMessage.class);
        assertThat(m.messageKey()).isEqualTo("vk:default:463526827:42");
        assertThat(m.sender()).isEqualTo(new Identity("vk", "463526827"));
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochSecond(1531466618));
        assertThat(m.text()).isEqualTo("тест");
    }

    @Test
    void communityReplyTypedInVkIsAnEchoOfOurSide() throws Exception {
        OwnMessageEchoed e = only("issue40_message_reply_pre5103.json", OwnMessageEchoed.class);
        assertThat(e.messageKey()).isEqualTo("vk:default:463526827:43");
        assertThat(e.externalId()).isEqualTo("43");
        assertThat(e.recipient()).isEqualTo(new Identity("vk", "463526827"));
        assertThat(e.thread().threadKey()).isEqualTo("vk:default:peer:463526827");
        assertThat(e.text()).isEqualTo("тест");
        // it is the key our own send of message 43 to this peer is recorded under
        assertThat(normalizer.outboundMessageKey("default", Map.of("peer_id", "463526827"), "43")).isEqualTo(e.messageKey());
    }

    @Test
    void adminAuthoredReplyIsAnEchoToo() throws Exception {
        OwnMessageEchoed e = only("vknet_message_reply_admin_author.json", OwnMessageEchoed.class);
        assertThat(e.messageKey()).isEqualTo("vk:default:123:830");
        assertThat(e.sentAt()).isEqualTo(Instant.ofEpochSecond(1533397818));
    }

    @Test
    void anEchoOfAnApiSendIsLeftToTheDeliveryReport() throws Exception {
        String json = raw("vknet_message_reply_admin_author.json").replace("\"random_id\": 0", "\"random_id\": 123456");
        assertThat(normalizer.normalize(envelope(json))).singleElement().isInstanceOf(Ignored.class);
    }

    @Test
    void groupJoinsAreIgnoredWithAReason() throws Exception {
        assertThat(only("vkdocs_group_join_approved.json", Ignored.class).reason()).isEqualTo("VK community membership change");
        assertThat(only("vknet_group_join_request.json", Ignored.class).reason()).isEqualTo("VK community membership change");
    }

    @Test
    void longPollFailuresAreNotEvents() {
        for (String f : List.of("vknet_longpoll_failed_1.json", "vknet_longpoll_failed_2.json", "vknet_longpoll_failed_3.json")) {
            assertThatThrownBy(() -> run(f)).as(f).isInstanceOf(MalformedEventException.class).hasMessageContaining("no type");
        }
    }

    @Test
    void messageAllowAndDenyMakeTheContactReachableOrNot() throws Exception {
        ContactUpdate allow = only("vknet_message_allow.json", ContactUpdate.class);
        assertThat(allow.identity()).isEqualTo(new Identity("vk", "123"));
        assertThat(allow.reachable()).isTrue();
        ContactUpdate deny = only("vknet_message_deny.json", ContactUpdate.class);
        assertThat(deny.identity()).isEqualTo(new Identity("vk", "123"));
        assertThat(deny.reachable()).isFalse();
    }

    @Test
    void messageEditReplacesTheText() throws Exception {
        MessageEdited e = only("vknet_message_edit.json", MessageEdited.class);
        assertThat(e.messageKey()).isEqualTo("vk:default:123:791");
        assertThat(e.text()).isEqualTo("test1");
        assertThat(e.editedAt()).isEqualTo(Instant.ofEpochSecond(1533397838));
    }

    @Test
    void callbackButtonIsIgnored() throws Exception {
        assertThat(only("vknet_message_event_callback_button.json", Ignored.class).reason()).contains("button");
    }

    @Test
    void messageNewWithBomAndCarouselTemplate() throws Exception {
        assertThat(raw("vknet_message_new_carousel_template_bom.json")).startsWith("\uFEFF");
        CustomerMessage m = only("vknet_message_new_carousel_template_bom.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("f");
        assertThat(m.messageKey()).isEqualTo("vk:default:123456789:985");
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void messageNew5103WithClientInfo() throws Exception {
        CustomerMessage m = only("vknet_message_new_v5103_client_info.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("f");
        assertThat(m.messageKey()).isEqualTo("vk:default:123456789:985");
        assertThat(m.sender()).isEqualTo(new Identity("vk", "123456789"));
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochSecond(1572809816));
    }

    @Test
    void wallCommentIsItsOwnThreadPerPostAndCommenter() throws Exception {
        CustomerMessage m = only("vknet_wall_reply_new.json", CustomerMessage.class);
        assertThat(m.messageKey()).isEqualTo("vk:default:wall:-1234_6:9");
        assertThat(m.thread().threadKey()).isEqualTo("vk:default:wall:-1234_6:123");
        assertThat(m.replyAddress()).isEqualTo(Map.of("wall_owner_id", "-1234", "post_id", "6", "comment_id", "9"));
        assertThat(m.sender()).isEqualTo(new Identity("vk", "123"));
        assertThat(m.text()).isEqualTo("test");
        assertThat(m.subject()).isEqualTo("Comment on wall post -1234_6");
        assertThat(normalizer.outboundMessageKey("default", Map.of("wall_owner_id", "-1234", "post_id", "6", "comment_id", "9"), "10"))
                .isEqualTo("vk:default:wall:-1234_6:10");
    }

    @Test
    void attachmentsOfEveryKind_photoTakesTheLargestSize() throws Exception {
        String json = """
                {"type":"message_new","group_id":1,"object":{"message":{"date":1,"from_id":5,"id":9,"peer_id":5,"text":"",
                 "reply_message":{"id":8,"conversation_message_id":3},
                 "attachments":[
                  {"type":"photo","photo":{"sizes":[{"type":"s","width":75,"height":50,"url":"https://x/s.jpg"},
                    {"type":"w","width":1280,"height":960,"url":"https://x/w.jpg"},{"type":"m","width":130,"height":97,"url":"https://x/m.jpg"}]}},
                  {"type":"audio_message","audio_message":{"duration":3,"link_ogg":"https://x/v.ogg","link_mp3":"https://x/v.mp3"}},
                  {"type":"sticker","sticker":{"sticker_id":1,"images":[{"url":"https://x/64.png","width":64,"height":64},
                    {"url":"https://x/512.png","width":512,"height":512}]}},
                  {"type":"link","link":{"url":"https://example.com/status","title":"Status page"}},
                  {"type":"wall","wall":{"id":3,"owner_id":-1}}]}}}""";
        List<DomainChange> changes = normalizer.normalize(envelope(json));
        CustomerMessage m = (CustomerMessage) changes.get(0);
        assertThat(m.text()).isNull();
        assertThat(m.replyToExternalId()).isEqualTo("8");
        assertThat(m.attachments()).extracting(a -> a.kind() + " " + a.ref()).containsExactly(
                "photo https://x/w.jpg", "audio_message https://x/v.ogg", "sticker https://x/512.png",
                "link https://example.com/status", "wall wall-1_3");
        assertThat(m.attachments().get(3).name()).isEqualTo("Status page");
    }

    @Test
    void garbageIsMalformed() {
        assertThatThrownBy(() -> normalizer.normalize(envelope("not json"))).isInstanceOf(MalformedEventException.class);
        assertThatThrownBy(() -> normalizer.normalize(envelope("{\"type\":\"message_new\",\"object\":{\"text\":\"x\"}}")))
                .isInstanceOf(MalformedEventException.class).hasMessageContaining("peer_id");
    }
}
