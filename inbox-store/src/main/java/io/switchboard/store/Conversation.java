package io.switchboard.store;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

import java.time.Instant;
import java.util.Map;

/**
 * The queue entry: one conversation with one contact on one channel account. Its messages live
 * in a {@link Transcript} of the same id, so listing the queue never loads message bodies.
 *
 * @param replyAddress where replies go on this channel (chat_id, email address, peer_id, psid)
 * @param sla          the SLA clocks as the router's SLA tracker last stored them (policy, and per metric
 *                     dueAt/stoppedAt/breached...), null until it first saw the conversation
 * @param tags         agents' labels, lower-case, at most 20 (null when never tagged)
 * @param mergedInto   for status {@code merged}: the conversation this one was merged into (ADR 0141)
 * @param mergedBy     who merged it
 * @param mergedAt     when it was merged
 * @param reopenedAt   when a customer's message last moved it back to open (from resolved, pending or snoozed)
 */
@Document(Conversation.COLLECTION)
public record Conversation(
        @Id String id,
        String channel,
        String account,
        String threadKey,
        String status,
        String priority,
        String subject,
        String preview,
        String contactId,
        String contactName,
        String assignee,
        Map<String, String> replyAddress,
        String login,
        String project,
        boolean unreachable,
        Instant createdAt,
        Instant firstMessageAt,
        Instant lastMessageAt,
        Instant firstCustomerMessageAt,
        Instant lastCustomerMessageAt,
        Instant awaitingSince,
        Instant firstResponseAt,
        Instant lastAgentMessageAt,
        Instant resolvedAt,
        Instant updatedAt,
        Map<String, Object> sla,
        java.util.List<String> tags,
        String mergedInto,
        String mergedBy,
        Instant mergedAt,
        Instant reopenedAt) {

    public static final String COLLECTION = "conversations";

    public static final String OPEN = "open";
    public static final String PENDING = "pending";
    public static final String SNOOZED = "snoozed";
    public static final String RESOLVED = "resolved";
    /** Merged into another conversation ({@link #mergedInto()}); its messages live on there. */
    public static final String MERGED = "merged";
}
