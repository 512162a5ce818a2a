package io.switchboard.router.telegram;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.MessageEdited;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.router.support.Fixtures;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The normalizer's rules, on fixtures and on payloads written for a rule. The complete expected
 * result of every fixture file is in {@link TelegramFixturesTest}.
 */
class TelegramNormalizerTest {

    private final TelegramNormalizer normalizer = new TelegramNormalizer();

    private List<DomainChange> run(String fixture) throws MalformedEventException {
        return normalizer.normalize(Fixtures.telegram(fixture + ".json"));
    }

    private CustomerMessage only(String fixture) throws MalformedEventException {
        List<DomainChange> changes = run(fixture);
        assertThat(changes).hasSize(1).first().isInstanceOf(CustomerMessage.class);
        return (CustomerMessage) changes.get(0);
    }

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.TELEGRAM)).get().isInstanceOf(TelegramNormalizer.class);
    }

    @Test
    void privateText() throws Exception {
        CustomerMessage m = only("zammad_private_text");
        assertThat(m.text()).isEqualTo("Hello, I need your Help");
        assertThat(m.sender()).isEqualTo(new Identity("telegram", "111111"));
        assertThat(m.senderName()).isEqualTo("Test Firstname Test Lastname");
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochSecond(1441645532));
        assertThat(m.messageKey()).isEqualTo("telegram:default:111111:5");
        assertThat(m.externalId()).isEqualTo("5");
        assertThat(m.thread().threadKey()).isEqualTo("telegram:default:chat:111111");
        assertThat(m.replyAddress()).isEqualTo(Map.of("chat_id", "111111"));
        assertThat(m.attachments()).isEmpty();
        assertThat(m.automatic()).isFalse();
    }

    @Test
    void photoTakesTheLargestSizeAndKeepsTheCaptionAsLiteralText() throws Exception {
        CustomerMessage m = only("zammad_private_photo_caption");
        assertThat(m.text()).isEqualTo("caption 123<b>abc</b>");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.ref()).isEqualTo("photofileid3");
            assertThat(a.kind()).isEqualTo("photo");
            assertThat(a.contentType()).isEqualTo("image/jpeg");
        });
    }

    /** An Update of the private chat 111111 with this message body (after message_id, date, chat and from). */
    private List<DomainChange> update(String messageFields) throws MalformedEventException {
        String payload = "{\"update_id\":900,\"message\":{\"message_id\":77,\"date\":1741794405,"
                + "\"chat\":{\"id\":111111,\"type\":\"private\"},\"from\":{\"id\":111111,\"first_name\":\"Ann\"}," + messageFields + "}}";
        return normalizer.normalize(InboundEnvelope.ofText("telegram:default:update:900", Channel.TELEGRAM, "default", Map.of(),
                Instant.parse("2025-01-01T00:00:00Z"), "telegram:default:chat:111111", "application/json", payload));
    }

    @Test
    void theLargestPhotoIsChosenByPixelArea_evenWhenItIsNotLastAndAnotherSizeIsHeavier() throws Exception {
        List<DomainChange> changes = update("""
                "photo":[{"file_id":"small","file_unique_id":"s","width":90,"height":90,"file_size":1000},
                         {"file_id":"big","file_unique_id":"b","width":1280,"height":960,"file_size":90000},
                         {"file_id":"mid","file_unique_id":"m","width":320,"height":240,"file_size":150000}]""");
        assertThat(changes).singleElement().isInstanceOfSatisfying(CustomerMessage.class, m -> {
            assertThat(m.text()).isNull();
            assertThat(m.attachments()).singleElement().isEqualTo(new io.switchboard.store.Attachment("photo.jpg", "image/jpeg", 90000L, "photo", "big"));
        });
        // the same choice as channel-telegram's fetcher: both ask io.switchboard.contract.TelegramFiles
    }

    // Payloads below follow the Bot API's Video, Sticker and Location objects (https://core.telegram.org/bots/api#video,
    // #sticker, #location); the shared fixtures have none of these kinds.

    @Test
    void aVideoIsAnAttachmentWithItsNameTypeAndSize_andItsCaptionIsTheText() throws Exception {
        CustomerMessage m = (CustomerMessage) update("""
                "caption":"screen recording of the error",
                "video":{"file_id":"videofileid","file_unique_id":"v1","width":1280,"height":720,"duration":12,
                         "thumbnail":{"file_id":"thumbid","file_unique_id":"t1","width":320,"height":180},
                         "file_name":"error.mp4","mime_type":"video/mp4","file_size":2048000}""").get(0);
        assertThat(m.text()).isEqualTo("screen recording of the error");
        assertThat(m.attachments()).containsExactly(new io.switchboard.store.Attachment("error.mp4", "video/mp4", 2048000L, "video", "videofileid"));
        CustomerMessage bare = (CustomerMessage) update("""
                "video":{"file_id":"v2","file_unique_id":"v2","width":1,"height":1,"duration":1}""").get(0);
        assertThat(bare.text()).isNull();
        assertThat(bare.attachments()).containsExactly(new io.switchboard.store.Attachment("video.mp4", "video/mp4", null, "video", "v2"));
    }

    @Test
    void aStickerIsAnImageAttachmentWithItsEmojiAsTheText() throws Exception {
        CustomerMessage m = (CustomerMessage) update("""
                "sticker":{"file_id":"stickerfileid","file_unique_id":"s1","type":"regular","width":512,"height":512,
                           "is_animated":false,"is_video":false,"emoji":"\uD83D\uDC4D","set_name":"HotCherry","file_size":24000}""").get(0);
        assertThat(m.text()).isEqualTo("\uD83D\uDC4D");
        assertThat(m.attachments()).containsExactly(new io.switchboard.store.Attachment("sticker.webp", "image/webp", 24000L, "sticker", "stickerfileid"));
        CustomerMessage animated = (CustomerMessage) update("""
                "sticker":{"file_id":"tgs","file_unique_id":"s2","type":"regular","width":512,"height":512,"is_animated":true,"is_video":false}""").get(0);
        assertThat(animated.text()).isNull();
        assertThat(animated.attachments()).extracting(io.switchboard.store.Attachment::name, io.switchboard.store.Attachment::contentType)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("sticker.tgs", "application/x-tgsticker"));
    }

    @Test
    void aLocationIsTextWithItsCoordinates_withoutAttachments() throws Exception {
        CustomerMessage m = (CustomerMessage) update("""
                "location":{"latitude":55.755826,"longitude":37.6173,"horizontal_accuracy":65}""").get(0);
        assertThat(m.text()).isEqualTo("Location: 55.755826, 37.6173");
        assertThat(m.attachments()).isEmpty();
        assertThat(m.sender()).isEqualTo(new Identity("telegram", "111111"));
        assertThat(m.messageKey()).isEqualTo("telegram:default:111111:77");
    }

    @Test
    void documentWithNameAndType() throws Exception {
        CustomerMessage m = only("zammad_private_document_pdf");
        assertThat(m.text()).isNull();
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("document.pdf");
            assertThat(a.contentType()).isEqualTo("application/pdf");
            assertThat(a.size()).isEqualTo(123456L);
            assertThat(a.ref()).isEqualTo("documentfileid");
        });
    }

    @Test
    void documentWithoutNameOrTypeGetsDefaults() throws Exception {
        CustomerMessage m = only("zammad_private_document_without_mime_type_and_name");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.name()).isEqualTo("document");
            assertThat(a.contentType()).isEqualTo("application/octet-stream");
        });
    }

    @Test
    void voice() throws Exception {
        CustomerMessage m = only("zammad_private_voice");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.kind()).isEqualTo("voice");
            assertThat(a.contentType()).isEqualTo("audio/ogg");
            assertThat(a.ref()).isEqualTo("voicefileid");
        });
    }

    @Test
    void supergroupMessageThreadsByTheGroup() throws Exception {
        CustomerMessage m = only("authored_supergroup_bot_mention");
        assertThat(m.thread().threadKey()).isEqualTo("telegram:default:chat:-1001234500001");
        assertThat(m.sender().value()).isEqualTo("200300400");
        assertThat(m.senderName()).isEqualTo("Anna");
        assertThat(m.text()).contains("INV-77");
    }

    private List<DomainChange> inGroup(String policy, String botUsername) throws MalformedEventException {
        InboundEnvelope e = Fixtures.telegram("authored_supergroup_bot_mention.json");
        Map<String, String> ids = new java.util.HashMap<>();
        ids.put("group_policy", policy);
        if (botUsername != null) {
            ids.put("bot_username", botUsername);
        }
        return normalizer.normalize(new InboundEnvelope(1, e.eventId(), e.channel(), e.account(), ids, e.receivedAt(),
                e.affinityKey(), e.contentType(), e.payloadEncoding(), e.payload()));
    }

    @Test
    void groupMessagesFollowTheAccountsPolicy() throws Exception {
        assertThat(inGroup("mentions", "ExampleHelpdeskBot")).singleElement().isInstanceOf(CustomerMessage.class);
        assertThat(inGroup("mentions", "exampleHELPDESKbot")).singleElement().isInstanceOf(CustomerMessage.class);
        assertThat(inGroup("mentions", "SomeOtherBot")).singleElement().isInstanceOfSatisfying(Ignored.class,
                i -> assertThat(i.reason()).contains("not addressed"));
        assertThat(inGroup("none", "ExampleHelpdeskBot")).singleElement().isInstanceOf(Ignored.class);
        assertThat(inGroup("all", "SomeOtherBot")).singleElement().isInstanceOf(CustomerMessage.class);
        // a private chat is never filtered
        assertThat(only("zammad_private_text").text()).isNotNull();
    }

    @Test
    void aFetchedFileBecomesStoredContentUnderItsFileId() throws Exception {
        byte[] pdf = "%PDF-1.4 test".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        InboundEnvelope file = InboundEnvelope.ofBytes("telegram:default:file:documentfileid", Channel.TELEGRAM, "default",
                Map.of("file_id", "documentfileid", "name", "document.pdf", "mime_type", "application/pdf"), Instant.EPOCH,
                "telegram:default:chat:111111", "application/vnd.switchboard.file", pdf);
        assertThat(normalizer.normalize(file)).singleElement().isInstanceOfSatisfying(DomainChange.FileContent.class, f -> {
            assertThat(f.ref()).isEqualTo("documentfileid");
            assertThat(f.name()).isEqualTo("document.pdf");
            assertThat(f.bytes()).isEqualTo(pdf);
        });
    }

    @Test
    void aStartDeepLinkParameterIsKeptOnTheContact() throws Exception {
        InboundEnvelope e = Fixtures.telegram("zammad_private_text.json");
        String payload = e.payload().replace("Hello, I need your Help", "/start promo-2025");
        List<DomainChange> changes = normalizer.normalize(new InboundEnvelope(1, e.eventId(), e.channel(), e.account(), Map.of(),
                e.receivedAt(), e.affinityKey(), e.contentType(), e.payloadEncoding(), payload));
        assertThat(((CustomerMessage) changes.get(0)).contactFields()).containsEntry("telegramStart", "promo-2025");
    }

    @Test
    void sharedOwnContactAddsAPhoneIdentityEvenWithNullNames() throws Exception {
        List<DomainChange> changes = run("issue_contact_share_null_first_name");
        assertThat(changes).hasSize(2);
        CustomerMessage m = (CustomerMessage) changes.get(0);
        assertThat(m.senderName()).isNull();
        assertThat(m.text()).contains("1111");
        ContactUpdate u = (ContactUpdate) changes.get(1);
        assertThat(u.identity()).isEqualTo(new Identity("telegram", "11111"));
        assertThat(u.moreIdentities()).containsExactly(new Identity("phone", "1111"));
    }

    @Test
    void editedMessageReplacesTheTextOfTheSameKey() throws Exception {
        assertThat(run("tgdocs_edited_message")).containsExactly(
                new MessageEdited("telegram:default:1111111:1365", "Edited text", Instant.ofEpochSecond(1441646600)));
    }

    @Test
    void blockedBotMarksTheContactUnreachable() throws Exception {
        assertThat(run("zammad_private_my_chat_member_kicked")).singleElement().isInstanceOfSatisfying(ContactUpdate.class, u -> {
            assertThat(u.identity()).isEqualTo(new Identity("telegram", "111111"));
            assertThat(u.reachable()).isFalse();
        });
    }

    @Test
    void channelPostsCallbackQueriesAndServiceMessagesAreIgnoredWithAReason() throws Exception {
        for (String f : List.of("zammad_channel_post_bot_command_entity", "zammad_channel_post_extra_fields", "tgdocs_callback_query_inline_message")) {
            assertThat(run(f)).as(f).singleElement().isInstanceOfSatisfying(Ignored.class, i -> assertThat(i.reason()).isNotBlank());
        }
    }

    @Test
    void aGetUpdatesEnvelopeOrAnErrorBodyIsNotAnUpdate() {
        for (String f : List.of("telegrambots_getupdates_envelope_write_access_allowed", "error_409_conflict_getupdates",
                "error_429_retry_after_parameters")) {
            assertThatThrownBy(() -> run(f)).as(f).isInstanceOf(MalformedEventException.class);
        }
        assertThatThrownBy(() -> normalizer.normalize(InboundEnvelope.ofText("x", Channel.TELEGRAM, "default", Map.of(),
                Instant.EPOCH, "k", "application/json", "not json"))).isInstanceOf(MalformedEventException.class);
    }
}
