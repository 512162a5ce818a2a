package io.switchboard.router.payload;

import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.InboundEnvelope;
import io.switchboard.contract.PayloadReference;
import io.switchboard.router.normalize.MalformedEventException;
import org.bson.Document;
import org.bson.types.Binary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.stereotype.Component;

import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Resolves envelopes whose payload is a {@link PayloadReference} (a raw event too large for a Kafka
 * record, stored by its adapter in {@code rawPayloads.files} / {@code rawPayloads.chunks}, ADR 0102)
 * into the envelope the adapter would have sent: same ids and key, the reference's content type, the
 * raw bytes. Normalizers never see references, and a replay resolves them the same way.
 *
 * <ul>
 *   <li>Size or sha256 not as referenced, an unknown store, an undecodable reference: {@link MalformedEventException}
 *       (the caller dead-letters the record with the reason; nothing is written).</li>
 *   <li>Payload (or one of its chunks) not found: retried {@code attempts} times with a doubling pause, then
 *       {@link MalformedEventException}. The adapter stores before it publishes, so this means a wrong store.</li>
 *   <li>The store unreachable: its exception propagates, so the batch is retried like any store failure.</li>
 * </ul>
 */
@Component
public class PayloadReferences {

    private static final Logger log = LoggerFactory.getLogger(PayloadReferences.class);
    static final String FILES = PayloadReference.STORE_RAW_PAYLOADS + ".files";
    static final String CHUNKS = PayloadReference.STORE_RAW_PAYLOADS + ".chunks";

    private final MongoTemplate mongo;
    private final int attempts;
    private final Duration backoff;

    public PayloadReferences(MongoTemplate mongo,
                             @Value("${switchboard.router.payload-references.attempts:3}") int attempts,
                             @Value("${switchboard.router.payload-references.backoff:PT0.5S}") Duration backoff) {
        this.mongo = mongo;
        this.attempts = Math.max(1, attempts);
        this.backoff = backoff;
    }

    /** The envelope itself when its payload is not a reference, else the envelope with the stored bytes. */
    public InboundEnvelope resolve(InboundEnvelope envelope) throws MalformedEventException {
        if (!PayloadReference.isReference(envelope)) {
            return envelope;
        }
        PayloadReference ref;
        try {
            ref = ContractJson.fromBytes(envelope.payloadBytes(), PayloadReference.class);
        } catch (ContractJson.UndecodableRecordException | IllegalArgumentException e) {
            throw new MalformedEventException("payload reference: " + e.getMessage());
        }
        if (!PayloadReference.STORE_RAW_PAYLOADS.equals(ref.store())) {
            throw new MalformedEventException("payload reference: unknown store " + quote(ref.store()));
        }
        byte[] bytes = load(ref);
        if (bytes.length != ref.size()) {
            throw new MalformedEventException("payload reference " + ref.id() + ": " + bytes.length
                    + " bytes stored, " + ref.size() + " referenced");
        }
        if (!sha256(bytes).equals(ref.sha256())) {
            throw new MalformedEventException("payload reference " + ref.id() + ": sha256 of the stored bytes differs from the reference");
        }
        return InboundEnvelope.ofBytes(envelope.eventId(), envelope.channel(), envelope.account(), envelope.externalIds(),
                envelope.receivedAt(), envelope.affinityKey(), ref.contentType(), bytes);
    }

    private byte[] load(PayloadReference ref) throws MalformedEventException {
        long pause = backoff.toMillis();
        for (int attempt = 1; ; attempt++) {
            byte[] bytes = tryLoad(ref);
            if (bytes != null) {
                return bytes;
            }
            if (attempt >= attempts) {
                throw new MalformedEventException("payload reference " + ref.id() + ": not in store "
                        + PayloadReference.STORE_RAW_PAYLOADS + " after " + attempts + " attempts");
            }
            log.warn("payload reference {}: not in the store yet (attempt {} of {}), retrying in {} ms", ref.id(), attempt,
                    attempts, pause);
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for payload " + ref.id(), e);
            }
            pause *= 2;
        }
    }

    /** The stored bytes, or null when the payload or one of its chunks is missing. */
    private byte[] tryLoad(PayloadReference ref) {
        MongoCollection<Document> files = mongo.getCollection(FILES);
        MongoCollection<Document> chunks = mongo.getCollection(CHUNKS);
        Document file = files.find(Filters.eq("_id", ref.id())).first();
        if (file == null || !(file.get("chunkCount") instanceof Number count)) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 8, Math.max(0, ref.size())));
        for (int n = 0; n < count.intValue(); n++) {
            // by _id, the one index every store (also the embedded one) uses
            Document chunk = chunks.find(Filters.eq("_id", ref.id() + ":" + n)).first();
            if (chunk == null || !(chunk.get("data") instanceof Binary data)) {
                return null;
            }
            out.writeBytes(data.getData());
        }
        return out.toByteArray();
    }

    private static String quote(String s) {
        return s == null ? "null" : "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "'";
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
