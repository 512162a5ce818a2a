package io.switchboard.contract;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The payload of an {@link InboundEnvelope} whose raw event was too large for a Kafka record: the
 * raw bytes are in the product's document store and the envelope carries only this reference, as
 * JSON, with {@code contentType} = {@link #CONTENT_TYPE} and {@code payloadEncoding} = {@code utf-8}
 * (ADR 0102). The router resolves it before normalizing, so normalizers always see the raw bytes.
 *
 * <p>Store {@link #STORE_RAW_PAYLOADS}: the collections {@code rawPayloads.files} (one document per
 * payload: {@code _id}, {@code size}, {@code sha256}, {@code contentType}, {@code chunkSize},
 * {@code chunkCount}, {@code createdAt}) and {@code rawPayloads.chunks} ({@code _id} =
 * {@code <id>:<n>} from 0, {@code filesId}, {@code n}, {@code data} = binary) of the database named by
 * {@code SPRING_MONGODB_URI}. The id is the sha256 of the bytes, so storing a payload twice is harmless.
 *
 * @param store       where the bytes are: {@link #STORE_RAW_PAYLOADS}
 * @param id          the payload's id in that store (lower-case hex sha256 of the bytes)
 * @param size        number of bytes
 * @param sha256      lower-case hex sha256 of the bytes (checked by the reader)
 * @param contentType media type of the raw event itself (message/rfc822, ...)
 */
public record PayloadReference(String store, String id, long size, String sha256, String contentType) {

    /** The envelope content type of a payload that is a reference. */
    public static final String CONTENT_TYPE = "application/vnd.switchboard.payload-ref+json";
    /** The collections {@code rawPayloads.files} and {@code rawPayloads.chunks} of the document store. */
    public static final String STORE_RAW_PAYLOADS = "rawPayloads";

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    public PayloadReference {
        Objects.requireNonNull(store, "store");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sha256, "sha256");
        Objects.requireNonNull(contentType, "contentType");
        if (size < 0) {
            throw new IllegalArgumentException("size must not be negative");
        }
        if (!SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("sha256 must be 64 lower-case hex digits");
        }
    }

    /** True when the envelope's payload is a reference rather than the raw event. */
    public static boolean isReference(InboundEnvelope envelope) {
        return envelope != null && CONTENT_TYPE.equals(envelope.contentType());
    }
}
