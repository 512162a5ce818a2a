package io.switchboard.contract;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A change in the inbox, on {@link Topics#CONVERSATION_EVENTS}, keyed by conversation id: for the
 * agents' live view and for integrations. Delivered at least once; {@code eventId} is stable for
 * the same change, so consumers dedup on it.
 *
 * @param type conversation.opened, message.added, message.edited, delivery.updated, conversation.updated
 * @param data small descriptive fields (status, deliveryStatus, direction); never message bodies
 */
public record ConversationEvent(
        int schemaVersion,
        String eventId,
        String type,
        String conversationId,
        String messageId,
        Channel channel,
        Instant at,
        Map<String, String> data) {

    public static final int SCHEMA_VERSION = 1;

    public static final String CONVERSATION_OPENED = "conversation.opened";
    public static final String MESSAGE_ADDED = "message.added";
    public static final String MESSAGE_EDITED = "message.edited";
    public static final String DELIVERY_UPDATED = "delivery.updated";
    public static final String CONVERSATION_UPDATED = "conversation.updated";

    public ConversationEvent {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(at, "at");
        data = data == null ? Map.of() : Map.copyOf(data);
    }
}
