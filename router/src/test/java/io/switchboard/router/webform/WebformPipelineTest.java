package io.switchboard.router.webform;

import io.switchboard.router.phone.ChannelPipelineSupport;
import io.switchboard.router.support.Await;
import io.switchboard.store.Conversation;
import io.switchboard.store.InboxStore.StoredFile;
import io.switchboard.store.Message;
import io.switchboard.store.Transcript;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Form submissions through the router: a conversation with login, project, topic and the files stored. */
class WebformPipelineTest extends ChannelPipelineSupport {

    private Conversation conversationOf(String id) {
        return Await.until(() -> store.conversationByThreadKey("webform:default:" + id).flatMap(store::find).orElse(null),
                c -> c != null && c.awaitingSince() != null, WAIT); // the last write for a customer message
    }

    @Test
    void aSubmissionBecomesAConversationWithLoginProjectAndAttachments_andASecondOneIsAnotherConversation() throws Exception {
        String id = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
        publish(WebformNormalizerTest.envelope(id, WebformNormalizerTest.document(id, "Form.User@Example.org", "form-login", "form-project")));
        publish(WebformNormalizerTest.envelope(id, WebformNormalizerTest.document(id, "Form.User@Example.org", "form-login", "form-project")));
        Conversation c = conversationOf(id);
        assertThat(c.channel()).isEqualTo("webform");
        assertThat(c.status()).isEqualTo("open");
        assertThat(c.subject()).isEqualTo("Квоты и лимиты / Quotas and limits");
        assertThat(c.login()).isEqualTo("form-login");
        assertThat(c.project()).isEqualTo("form-project");
        assertThat(c.replyAddress()).containsEntry("email", "form.user@example.org");
        assertThat(c.awaitingSince()).isEqualTo(Instant.parse("2025-03-12T15:46:45Z")); // the first-response clock runs
        assertThat(store.contact(c.contactId())).get().satisfies(contact -> {
            assertThat(contact.identities()).extracting(i -> i.key()).containsExactly("email:form.user@example.org");
            assertThat(contact.displayName()).isEqualTo("Иван Петров");
        });

        List<Message> messages = store.transcript(c.id()).map(Transcript::messages).orElseThrow();
        assertThat(messages).hasSize(1); // the redelivered submission added nothing
        Message m = messages.get(0);
        assertThat(m.text()).isEqualTo("Нужно больше дисков");
        assertThat(m.channel()).isEqualTo("webform");
        assertThat(m.attachments()).extracting(a -> a.name()).containsExactly("screen.png", "app.log");
        StoredFile log = store.file(m.attachments().get(1).ref()).orElseThrow();
        assertThat(log.data()).isEqualTo("boom\n".getBytes(StandardCharsets.UTF_8));
        assertThat(log.contentType()).isEqualTo("text/plain");
        assertThat(log.name()).isEqualTo("app.log");

        String second = "7c9e6679-7425-40de-944b-e07fc1f90ae8";
        publish(WebformNormalizerTest.envelope(second, WebformNormalizerTest.document(second, "form.user@example.org", "form-login", "other-project")));
        Conversation other = conversationOf(second);
        assertThat(other.id()).isNotEqualTo(c.id());
        assertThat(other.contactId()).isEqualTo(c.contactId());
        assertThat(other.project()).isEqualTo("other-project");
    }
}
