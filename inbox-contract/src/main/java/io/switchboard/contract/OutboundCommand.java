package io.switchboard.contract;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * An agent's reply to be sent by the channel's adapter, on {@link Topics#outbound(Channel)}.
 * The adapter answers with a {@link DeliveryReport} carrying the same {@code messageId}.
 *
 * @param schemaVersion  always {@link #SCHEMA_VERSION}
 * @param messageId      our id of the outbound message; adapters derive channel idempotency keys from it
 *                       (VK random_id, our email Message-ID), so a resent command is never doubled
 * @param channel        the channel to send through
 * @param account        the channel account to send from
 * @param conversationId the conversation the reply belongs to
 * @param recipient      channel address of the recipient (chat_id, email, peer_id, psid, ...)
 * @param text           the reply text
 * @param subject        subject line, where the channel has one
 * @param inReplyTo      the channel's id of the message replied to, where the channel threads replies
 * @param references     the channel's thread references (email References), oldest first
 * @param attachments    files to send, referenced by URL or store id
 * @param requestedAt    when the agent sent it
 * @param author         the agent's user name
 */
public record OutboundCommand(
        int schemaVersion,
        String messageId,
        Channel channel,
        String account,
        String conversationId,
        Map<String, String> recipient,
        String text,
        String subject,
        String inReplyTo,
        List<String> references,
        List<Attachment> attachments,
        Instant requestedAt,
        String author) {

    public static final int SCHEMA_VERSION = 1;

    public OutboundCommand {
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(requestedAt, "requestedAt");
        recipient = recipient == null ? Map.of() : Map.copyOf(recipient);
        references = references == null ? List.of() : List.copyOf(references);
        attachments = attachments == null ? List.of() : List.copyOf(attachments);
    }

    /** A file attached to a reply. */
    public record Attachment(String name, String contentType, long size, String url) {
    }
}
