package io.switchboard.router.facebook;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.ContactUpdate;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.DomainChange.DeliveryReceipt;
import io.switchboard.router.normalize.DomainChange.Ignored;
import io.switchboard.router.normalize.DomainChange.OwnMessageEchoed;
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

/** One assertion set per fixture in fixtures/messenger (see SOURCES.md there). */
class FacebookNormalizerTest {

    private final FacebookNormalizer normalizer = new FacebookNormalizer();

    static InboundEnvelope envelope(String json) {
        return InboundEnvelope.ofText("facebook:default:test", Channel.FACEBOOK, "default", Map.of(),
                Instant.parse("2025-01-01T00:00:00Z"), "facebook:default:x", "application/json", json);
    }

    private List<DomainChange> run(String fixture) throws MalformedEventException {
        return normalizer.normalize(envelope(Fixtures.text("messenger/" + fixture)));
    }

    @SuppressWarnings("unchecked")
    private <T extends DomainChange> T only(String fixture, Class<T> type) throws MalformedEventException {
        List<DomainChange> changes = run(fixture);
        assertThat(changes).hasSize(1).first().isInstanceOf(type);
        return (T) changes.get(0);
    }

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.FACEBOOK)).get().isInstanceOf(FacebookNormalizer.class);
    }

    @Test
    void batchWithACustomerMessageAndAnEchoOfAReplyTypedInFacebook() throws Exception {
        List<DomainChange> changes = run("authored_batch_two_entries_with_echo.json");
        assertThat(changes).hasSize(2);
        CustomerMessage m = (CustomerMessage) changes.get(0);
        assertThat(m.messageKey()).isEqualTo("facebook:default:m_shared_0001");
        assertThat(m.externalId()).isEqualTo("m_shared_0001");
        assertThat(m.sender()).isEqualTo(new Identity("facebook", "2000000002"));
        assertThat(m.thread().threadKey()).isEqualTo("facebook:default:1000000001:2000000002");
        assertThat(m.replyAddress()).isEqualTo(Map.of("psid", "2000000002", "page_id", "1000000001"));
        assertThat(m.text()).isEqualTo("Hello, is anyone there?");
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochMilli(1730812100100L));
        OwnMessageEchoed e = (OwnMessageEchoed) changes.get(1);
        assertThat(e.messageKey()).isEqualTo("facebook:default:m_shared_0002");
        assertThat(e.recipient()).isEqualTo(new Identity("facebook", "2000000002"));
        assertThat(e.thread().threadKey()).isEqualTo(m.thread().threadKey());
        assertThat(e.text()).isEqualTo("Yes, how can we help?");
        assertThat(e.sentAt()).isEqualTo(Instant.ofEpochMilli(1730812160400L));
        // the key our own send of that mid is recorded under
        assertThat(normalizer.outboundMessageKey("default", Map.of("psid", "2000000002"), "m_shared_0002")).isEqualTo(e.messageKey());
    }

    @Test
    void anEchoOfOurOwnSendIsLeftToTheDeliveryReport() throws Exception {
        String json = Fixtures.text("messenger/authored_batch_two_entries_with_echo.json")
                .replace("\"is_echo\": true,", "\"is_echo\": true, \"metadata\": \"switchboard:reply-1\",");
        assertThat(normalizer.normalize(envelope(json))).hasSize(2).last().isInstanceOf(Ignored.class);
    }

    @Test
    void theDocumentationsEchoSampleIsNotJson() {
        assertThatThrownBy(() -> run("fbdocs_messaging_event_echo_NOT_VALID_JSON.txt")).isInstanceOf(MalformedEventException.class);
    }

    @Test
    void bareEntryWithThePlaceholderAttachmentTypeKeepsTheUrl() throws Exception {
        CustomerMessage m = only("fbdocs_entry_message_attachment_placeholder_type.json", CustomerMessage.class);
        assertThat(m.text()).isNull();
        assertThat(m.thread().threadKey()).isEqualTo("facebook:default:682498302938465:<PSID>");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.kind()).isEqualTo("attachment");
            assertThat(a.ref()).isEqualTo("<ATTACHMENT_URL>");
        });
    }

    @Test
    void deliveryByMidsAndByWatermark() throws Exception {
        for (String fixture : List.of("fbdocs_messaging_event_delivery.json", "fbhs_page_delivery.json")) {
            List<DomainChange> changes = run(fixture);
            assertThat(changes).as(fixture).hasSize(2);
            DeliveryReceipt byMid = (DeliveryReceipt) changes.get(0);
            assertThat(byMid.messageKeys()).containsExactly("facebook:default:mid.1458668856218:ed81099e15d3f4f233");
            assertThat(byMid.status()).isEqualTo("delivered");
            assertThat(byMid.watermark()).isEqualTo(Instant.ofEpochMilli(1458668856253L));
            DeliveryReceipt byWatermark = (DeliveryReceipt) changes.get(1);
            assertThat(byWatermark.messageKeys()).isEmpty();
            assertThat(byWatermark.watermark()).isEqualTo(Instant.ofEpochMilli(1458668856253L));
            assertThat(byWatermark.recipient().type()).isEqualTo("facebook");
        }
        assertThat(((DeliveryReceipt) run("fbhs_page_delivery.json").get(0)).recipient()).isEqualTo(new Identity("facebook", "USER_ID"));
    }

    @Test
    void readByWatermark() throws Exception {
        DeliveryReceipt r = only("fbdocs_messaging_event_read.json", DeliveryReceipt.class);
        assertThat(r.status()).isEqualTo("read");
        assertThat(r.messageKeys()).isEmpty();
        assertThat(r.watermark()).isEqualTo(Instant.ofEpochMilli(1458668856253L));
        assertThat(r.recipient()).isEqualTo(new Identity("facebook", "<PSID>"));
    }

    @Test
    void replyToNamesTheMessageAnswered() throws Exception {
        CustomerMessage m = only("fbdocs_messaging_event_reply_to.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("hello, world!");
        assertThat(m.replyToExternalId()).isEqualTo("m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU");
        assertThat(m.messageKey()).isEqualTo("facebook:default:m_1457764197618:41d102a3e1ae206a38");
    }

    @Test
    void quickReplyIsTheButtonsText() throws Exception {
        CustomerMessage m = only("fbdocs_messaging_event_text_quick_reply.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("hello, world!");
        assertThat(m.sender()).isEqualTo(new Identity("facebook", "<PSID>"));
        assertThat(m.thread().threadKey()).isEqualTo("facebook:default:<PAGE_ID>:<PSID>");
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochMilli(1458692752478L));
    }

    @Test
    void imageAttachment() throws Exception {
        CustomerMessage m = only("fbhs_page_message_image_attachment.json", CustomerMessage.class);
        assertThat(m.text()).isNull();
        assertThat(m.messageKey()).isEqualTo("facebook:default:mid.1458696618141:b4ef9d19ec21086067");
        assertThat(m.thread().threadKey()).isEqualTo("facebook:default:111111:USER_ID");
        assertThat(m.attachments()).singleElement().satisfies(a -> {
            assertThat(a.kind()).isEqualTo("image");
            assertThat(a.contentType()).isEqualTo("image/jpeg");
            assertThat(a.ref()).isEqualTo("IMAGE_URL");
        });
    }

    @Test
    void pageTextMessage() throws Exception {
        CustomerMessage m = only("fbhs_page_message_text.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("hello, world!");
        assertThat(m.messageKey()).isEqualTo("facebook:default:mid.1457764197618:41d102a3e1ae206a38");
        assertThat(m.replyAddress()).isEqualTo(Map.of("psid", "USER_ID", "page_id", "111111"));
        assertThat(m.sentAt()).isEqualTo(Instant.ofEpochMilli(1457764197627L));
    }

    @Test
    void optinMakesTheContactReachable() throws Exception {
        ContactUpdate u = only("fbhs_page_optin.json", ContactUpdate.class);
        assertThat(u.identity()).isEqualTo(new Identity("facebook", "USER_ID"));
        assertThat(u.reachable()).isTrue();
    }

    @Test
    void postbackWithoutMidIsKeyedByPersonAndTime() throws Exception {
        CustomerMessage m = only("fbhs_page_postback.json", CustomerMessage.class);
        assertThat(m.text()).isEqualTo("USER_DEFINED_PAYLOAD");
        assertThat(m.messageKey()).isEqualTo("facebook:default:postback:USER_ID:1458692752478");
        assertThat(m.externalId()).isNull();
    }

    @Test
    void otherAttachmentTypes() throws Exception {
        String json = """
                {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":5,"message":{"mid":"m_a","attachments":[
                 {"type":"file","payload":{"url":"https://cdn.example/x/report.pdf?sig=1"}},
                 {"type":"audio","payload":{"url":"https://cdn.example/a"}},
                 {"type":"video","payload":{"url":"https://cdn.example/v.mp4"}},
                 {"type":"image","payload":{"url":"https://cdn.example/s.png","sticker_id":369239263222822}},
                 {"type":"fallback","title":"Our status page","payload":{"url":"https://status.example"}}]}}""";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(envelope(json)).get(0);
        assertThat(m.attachments()).extracting(a -> a.kind() + " " + a.name()).containsExactly(
                "file report.pdf", "audio audio.mp4", "video v.mp4", "sticker sticker.png", "fallback Our status page");
    }
}
