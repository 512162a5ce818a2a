package io.switchboard.api.conversations;

import io.switchboard.api.sla.SlaView;
import io.switchboard.store.Attachment;
import io.switchboard.store.Conversation;
import io.switchboard.store.Message;

import java.time.Instant;
import java.util.List;

/** The API's JSON shapes (INTERFACE.md): stable names, independent of the store's documents. */
final class ConversationViews {

    record ContactRef(String id, String displayName) {
    }

    record Item(String id, String channel, String account, String status, String priority, String subject, String preview,
                ContactRef contact, String assignee, String login, String project, boolean unreachable,
                Instant createdAt, Instant lastMessageAt, Instant awaitingSince, SlaView sla, List<String> tags,
                String mergedInto) {

        static Item of(Conversation c, SlaView sla) {
            return new Item(c.id(), c.channel(), c.account(), c.status(), c.priority(),
                    c.subject() != null ? c.subject() : c.preview(), c.preview(),
                    new ContactRef(c.contactId(), c.contactName()), c.assignee(), c.login(), c.project(), c.unreachable(),
                    c.createdAt(), c.lastMessageAt(), c.awaitingSince(), sla, tagsOf(c), c.mergedInto());
        }
    }

    record Page(List<Item> items, String nextCursor) {
    }

    /** @param ref the channel's handle; for inline files, GET /api/files/{ref} serves the bytes */
    record AttachmentView(String name, String contentType, Long size, String kind, String ref) {
        static AttachmentView of(Attachment a) {
            return new AttachmentView(a.name(), a.contentType(), a.size(), a.kind(), a.ref());
        }
    }

    record MessageView(String id, String direction, String kind, String channel, String externalId, Instant sentAt,
                       String author, String text, List<AttachmentView> attachments, String deliveryStatus,
                       String failureReason, String replyToExternalId, Instant editedAt, List<String> history,
                       boolean automatic, java.util.Map<String, String> meta) {

        /** @return the view; {@code meta} holds a call's details (direction, disposition, times, duration, agent, recording) */
        static MessageView of(Message m) {
            return new MessageView(m.messageId(), m.direction(), m.kind(), m.channel(), m.externalId(), m.sentAt(), m.author(),
                    m.text(), m.attachments().stream().map(AttachmentView::of).toList(),
                    Message.OUTBOUND.equals(m.direction()) ? m.deliveryStatus() : null, m.failureReason(),
                    m.replyToExternalId(), m.editedAt(), m.history(), m.automatic(), m.meta());
        }
    }

    record Detail(String id, String channel, String account, String status, String priority, String subject, String preview,
                  ContactRef contact, String assignee, String login, String project, boolean unreachable,
                  Instant createdAt, Instant lastMessageAt, SlaView sla, List<MessageView> messages, List<String> tags,
                  String mergedInto, String mergedBy, Instant mergedAt) {

        static Detail of(Conversation c, SlaView sla, List<Message> messages) {
            return new Detail(c.id(), c.channel(), c.account(), c.status(), c.priority(),
                    c.subject() != null ? c.subject() : c.preview(), c.preview(),
                    new ContactRef(c.contactId(), c.contactName()), c.assignee(), c.login(), c.project(), c.unreachable(),
                    c.createdAt(), c.lastMessageAt(), sla, messages.stream().map(MessageView::of).toList(), tagsOf(c),
                    c.mergedInto(), c.mergedBy(), c.mergedAt());
        }
    }

    static List<String> tagsOf(Conversation c) {
        return c.tags() == null ? List.of() : c.tags();
    }

    private ConversationViews() {
    }
}
