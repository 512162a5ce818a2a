package io.switchboard.router.sla;

import java.time.Instant;
import java.util.Set;

/**
 * What the SLA engine needs to know about a conversation: its attributes for policy conditions
 * and the timestamps the inbox model maintains (InboxStore.recordCustomerMessage / recordAgentResponse).
 *
 * @param awaitingSince the customer's first unanswered message since our last response
 */
public record SlaSubject(String conversationId, String channel, String account, String priority, Set<String> tags,
                         String topic, String status, Instant firstCustomerMessageAt, Instant awaitingSince,
                         Instant firstResponseAt, Instant lastAgentMessageAt, Instant resolvedAt) {

    public SlaSubject {
        tags = tags == null ? Set.of() : Set.copyOf(tags);
    }
}
