package io.switchboard.contract;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Objects;

/**
 * A raw channel event as an adapter received it, on {@link Topics#inbound(Channel)}.
 *
 * <p>The payload is carried unchanged: text payloads (JSON, CSV) as the exact text received,
 * binary ones (RFC 822 bytes) in base64. Normalization happens only in the router, so a
 * normalizer fix can be replayed over the raw events (ADR 0001). A raw event too large for a Kafka
 * record is stored in the document store and the payload is a {@link PayloadReference} to it
 * ({@code contentType} = {@link #CONTENT_TYPE_PAYLOAD_REF}, ADR 0102).
 *
 * @param schemaVersion   always {@link #SCHEMA_VERSION} on this topic version
 * @param eventId         unique and stable id of this raw event, used for dedup ("telegram:default:update:42")
 * @param channel         the channel
 * @param account         the channel account (bot, mailbox, community, page, PBX)
 * @param externalIds     the channel's own ids found by the adapter (update_id, chat_id, uid, ...)
 * @param receivedAt      when the adapter received the event
 * @param affinityKey     the Kafka key: events with the same key belong to one conversation and stay ordered
 * @param contentType     media type of the payload (application/json, message/rfc822, text/csv, ...)
 * @param payloadEncoding {@code utf-8} (payload is the text) or {@code base64} (payload is the bytes)
 * @param payload         the raw event
 */
public record InboundEnvelope(
        int schemaVersion,
        String eventId,
        Channel channel,
        String account,
        Map<String, String> externalIds,
        Instant receivedAt,
        String affinityKey,
        String contentType,
        String payloadEncoding,
        String payload) {

    public static final int SCHEMA_VERSION = 1;
    public static final String ENCODING_UTF8 = "utf-8";
    public static final String ENCODING_BASE64 = "base64";
    /** The payload is a {@link PayloadReference} (JSON) to the raw event in the document store. */
    public static final String CONTENT_TYPE_PAYLOAD_REF = PayloadReference.CONTENT_TYPE;

    public InboundEnvelope {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(account, "account");
        Objects.requireNonNull(receivedAt, "receivedAt");
        Objects.requireNonNull(affinityKey, "affinityKey");
        Objects.requireNonNull(contentType, "contentType");
        Objects.requireNonNull(payload, "payload");
        if (!ENCODING_UTF8.equals(payloadEncoding) && !ENCODING_BASE64.equals(payloadEncoding)) {
            throw new IllegalArgumentException("payloadEncoding must be utf-8 or base64");
        }
        externalIds = externalIds == null ? Map.of() : Map.copyOf(externalIds);
    }

    public static InboundEnvelope ofText(String eventId, Channel channel, String account, Map<String, String> externalIds,
                                         Instant receivedAt, String affinityKey, String contentType, String text) {
        return new InboundEnvelope(SCHEMA_VERSION, eventId, channel, account, externalIds, receivedAt, affinityKey,
                contentType, ENCODING_UTF8, text);
    }

    public static InboundEnvelope ofBytes(String eventId, Channel channel, String account, Map<String, String> externalIds,
                                          Instant receivedAt, String affinityKey, String contentType, byte[] bytes) {
        return new InboundEnvelope(SCHEMA_VERSION, eventId, channel, account, externalIds, receivedAt, affinityKey,
                contentType, ENCODING_BASE64, Base64.getEncoder().encodeToString(bytes));
    }

    /** The raw payload bytes, whatever the encoding on the wire. */
    public byte[] payloadBytes() {
        return ENCODING_BASE64.equals(payloadEncoding)
                ? Base64.getDecoder().decode(payload)
                : payload.getBytes(StandardCharsets.UTF_8);
    }

    /** The raw payload as text (UTF-8 for base64 payloads). */
    public String payloadText() {
        return ENCODING_BASE64.equals(payloadEncoding) ? new String(payloadBytes(), StandardCharsets.UTF_8) : payload;
    }
}
