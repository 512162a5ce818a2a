package io.switchboard.router.webform;

import io.switchboard.contract.Channel;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.router.normalize.DomainChange;
import io.switchboard.router.normalize.DomainChange.CustomerMessage;
import io.switchboard.router.normalize.MalformedEventException;
import io.switchboard.router.normalize.NormalizerRegistry;
import io.switchboard.store.Identity;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class WebformNormalizerTest {

    private final WebformNormalizer normalizer = new WebformNormalizer();

    /** A submission document as channel-webform writes it (docs/channels/webform.md). */
    static String document(String id, String email, String login, String project) {
        return "{\"submissionId\":\"" + id + "\",\"submittedAt\":\"2025-03-12T15:46:45Z\",\"source\":\"form\",\"email\":\"" + email
                + "\",\"name\":\"Иван Петров\",\"login\":\"" + login + "\",\"project\":\"" + project + "\",\"topic\":\"quota\","
                + "\"topicLabel\":\"Квоты и лимиты / Quotas and limits\",\"message\":\"Нужно больше дисков\",\"attachments\":["
                + "{\"name\":\"screen.png\",\"contentType\":\"image/png\",\"size\":4,\"data\":\""
                + Base64.getEncoder().encodeToString(new byte[]{(byte) 0x89, 'P', 'N', 'G'}) + "\"},"
                + "{\"name\":\"app.log\",\"contentType\":\"text/plain\",\"size\":5,\"data\":\""
                + Base64.getEncoder().encodeToString("boom\n".getBytes(StandardCharsets.UTF_8)) + "\"}]}";
    }

    static InboundEnvelope envelope(String id, String doc) {
        return InboundEnvelope.ofText("webform:default:" + id, Channel.WEBFORM, "default", Map.of("submission_id", id),
                Instant.parse("2025-03-12T15:46:46Z"), "webform:default:" + id, "application/json", doc);
    }

    @Test
    void isFoundByTheRegistryForItsChannel() {
        assertThat(NormalizerRegistry.fromServiceLoader().forChannel(Channel.WEBFORM)).get().isInstanceOf(WebformNormalizer.class);
    }

    @Test
    void aSubmissionIsOneCustomerMessageInItsOwnConversation() throws Exception {
        String id = "5f0c7a52-1111-4a3b-9c1d-000000000001";
        List<DomainChange> changes = normalizer.normalize(envelope(id, document(id, "Ivan.Petrov@Example.org", "ivan", "prod")));
        assertThat(changes).singleElement().isInstanceOf(CustomerMessage.class);
        CustomerMessage m = (CustomerMessage) changes.get(0);
        assertThat(m.messageKey()).isEqualTo("webform:default:" + id);
        assertThat(m.externalId()).isEqualTo(id);
        assertThat(m.sender()).isEqualTo(new Identity("email", "ivan.petrov@example.org"));
        assertThat(m.senderName()).isEqualTo("Иван Петров");
        assertThat(m.thread().threadKey()).isEqualTo("webform:default:" + id);
        assertThat(m.thread().lookupKeys()).isEmpty();
        assertThat(m.replyAddress()).isEqualTo(Map.of("email", "ivan.petrov@example.org"));
        assertThat(m.sentAt()).isEqualTo(Instant.parse("2025-03-12T15:46:45Z"));
        assertThat(m.subject()).isEqualTo("Квоты и лимиты / Quotas and limits");
        assertThat(m.text()).isEqualTo("Нужно больше дисков");
        assertThat(m.contactFields()).isEqualTo(Map.of("login", "ivan", "project", "prod", "topic", "quota"));
        assertThat(m.automatic()).isFalse();
        assertThat(m.attachments()).hasSize(2);
        assertThat(m.attachments().get(0).name()).isEqualTo("screen.png");
        assertThat(m.attachments().get(0).contentType()).isEqualTo("image/png");
        assertThat(m.attachments().get(0).size()).isEqualTo(4L);
        assertThat(m.attachments().get(1).ref()).isEqualTo("webform-default-" + id + "-2");
        assertThat(m.contents().get(m.attachments().get(1).ref())).isEqualTo("boom\n".getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void emptyOptionalFieldsAreLeftOut() throws Exception {
        String id = "s-2";
        CustomerMessage m = (CustomerMessage) normalizer.normalize(envelope(id,
                "{\"submissionId\":\"s-2\",\"email\":\"a@b.example\",\"login\":\"\",\"message\":\"hi\",\"topic\":\"other\"}")).get(0);
        assertThat(m.contactFields()).isEqualTo(Map.of("topic", "other"));
        assertThat(m.subject()).isEqualTo("other");
        assertThat(m.sentAt()).isEqualTo(Instant.parse("2025-03-12T15:46:46Z")); // no submittedAt: when the adapter got it
        assertThat(m.attachments()).isEmpty();
    }

    @Test
    void unusableDocumentsAreMalformed() {
        assertThatThrownBy(() -> normalizer.normalize(envelope("x", "not json"))).isInstanceOf(MalformedEventException.class);
        assertThatThrownBy(() -> normalizer.normalize(envelope("x", "{\"submissionId\":\"x\",\"message\":\"no email\"}")))
                .isInstanceOf(MalformedEventException.class);
        assertThatThrownBy(() -> normalizer.normalize(envelope("x", "{\"submissionId\":\"x\",\"email\":\"a@b.c\",\"attachments\":[{\"data\":\"***\"}]}")))
                .isInstanceOf(MalformedEventException.class).hasMessageContaining("base64");
    }
}
