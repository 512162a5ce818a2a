package io.switchboard.router.sla;

import java.time.Instant;
import java.util.Set;

/**
 * What the SLA engine needs to know about a conversation: its attributes for policy conditions
 * and the timestamps the inbox model maintains (InboxStore.recordCustomerMessage / recordAgentResponse).
 *
 * @param tags          the conversation's tags
 * @param awaitingSince the customer's first unanswered message since our last response
 * @param contactTags   the tags of the conversation's contact (stored on the contact, not the conversation)
 */
public record SlaSubject(String conversationId, String channel, String account, String priority, Set<String> tags,
                         String topic, String status, Instant firstCustomerMessageAt, Instant awaitingSince,
                         Instant firstResponseAt, Instant lastAgentMessageAt, Instant resolvedAt, Set<String> contactTags) {

    public SlaSubject {
        tags = tags == null ? Set.of() : Set.copyOf(tags);
        contactTags = contactTags == null ? Set.of() : Set.copyOf(contactTags);
    }

    /** A subject whose contact has no tags. */
    public SlaSubject(String conversationId, String channel, String account, String priority, Set<String> tags, String topic,
                      String status, Instant firstCustomerMessageAt, Instant awaitingSince, Instant firstResponseAt,
                      Instant lastAgentMessageAt, Instant resolvedAt) {
        this(conversationId, channel, account, priority, tags, topic, status, firstCustomerMessageAt, awaitingSince,
                firstResponseAt, lastAgentMessageAt, resolvedAt, Set.of());
    }
}
