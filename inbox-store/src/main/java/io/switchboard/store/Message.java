package io.switchboard.store;

import java.time.Instant;
import org.springframework.data.annotation.PersistenceCreator;

import java.util.List;
import java.util.Map;

/**
 * One entry of a conversation's timeline, whatever the channel.
 *
 * @param messageId        our id (for outbound messages the id the delivery report carries back); not "id",
 *                         which Spring Data would map to "_id" in an embedded document
 * @param key              idempotency key: channel + account + the channel's message id
 * @param direction        inbound | outbound
 * @param kind             message | note | call
 * @param channel          channel wire name
 * @param externalId       the channel's id of the message (null for a pending outbound message)
 * @param sentAt           when it was written (the channel's time for inbound messages)
 * @param author           display name of the customer, or the agent's user name
 * @param text             the visible text
 * @param attachments      files
 * @param deliveryStatus   outbound only: pending | sent | failed | delivered | read
 * @param failureReason    outbound only, when failed
 * @param replyToExternalId the channel's id of the message this one answers
 * @param editedAt         last edit time, if edited
 * @param history          earlier texts, oldest first, when edited
 * @param automatic        true for auto-replies, which start and satisfy no SLA clock
 * @param meta             kind-specific fields, e.g. for a call: disposition, startedAt, answeredAt, endedAt,
 *                         durationSeconds, agent, recordingUrl; empty for plain messages
 */
public record Message(
        String messageId,
        String key,
        String direction,
        String kind,
        String channel,
        String externalId,
        Instant sentAt,
        String author,
        String text,
        List<Attachment> attachments,
        String deliveryStatus,
        String failureReason,
        String replyToExternalId,
        Instant editedAt,
        List<String> history,
        boolean automatic,
        Map<String, String> meta) {

    public static final String INBOUND = "inbound";
    public static final String OUTBOUND = "outbound";

    @PersistenceCreator
    public Message {
        attachments = attachments == null ? List.of() : List.copyOf(attachments);
        history = history == null ? List.of() : List.copyOf(history);
        meta = meta == null ? Map.of() : Map.copyOf(meta);
    }

    /** A message without kind-specific fields. */
    public Message(String messageId, String key, String direction, String kind, String channel, String externalId,
                   Instant sentAt, String author, String text, List<Attachment> attachments, String deliveryStatus,
                   String failureReason, String replyToExternalId, Instant editedAt, List<String> history, boolean automatic) {
        this(messageId, key, direction, kind, channel, externalId, sentAt, author, text, attachments, deliveryStatus,
                failureReason, replyToExternalId, editedAt, history, automatic, Map.of());
    }
}
