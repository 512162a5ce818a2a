package io.switchboard.channel.email;

import com.mongodb.ConnectionString;
import com.mongodb.MongoClientSettings;
import com.mongodb.MongoException;
import com.mongodb.WriteConcern;
import com.mongodb.client.MongoClient;
import com.mongodb.client.MongoClients;
import com.mongodb.client.MongoCollection;
import com.mongodb.client.model.Filters;
import com.mongodb.client.model.ReplaceOptions;
import io.switchboard.contract.PayloadReference;
import org.bson.Document;
import org.bson.types.Binary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Raw messages too large for a Kafka record, in the document store (ADR 0102): the bytes in chunks
 * ({@code rawPayloads.chunks}, {@code _id} = {@code <id>:<n>}), then one {@code rawPayloads.files}
 * document that says they are complete, both with write concern majority (and the embedded store
 * committed), and only then the caller publishes the {@link PayloadReference}. The id is the sha256 of
 * the bytes: the same message stored twice (a retry, a resync) is the same document, and a payload
 * already complete is not written again.
 *
 * <p>Without a configured store ({@link #configured()} false) the poller keeps the reduced form.
 */
class EmailPayloadStore implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(EmailPayloadStore.class);
    static final String FILES = PayloadReference.STORE_RAW_PAYLOADS + ".files";
    static final String CHUNKS = PayloadReference.STORE_RAW_PAYLOADS + ".chunks";

    private final MongoClient client;
    private final MongoCollection<Document> files;
    private final MongoCollection<Document> chunks;
    private final int chunkBytes;
    private final EmailPayloadDurability durability;
    private final Clock clock;
    private final AtomicLong stored = new AtomicLong();
    private volatile String lastError;
    private volatile Instant lastStoredAt;

    /** A store that is not configured. */
    EmailPayloadStore() {
        this.client = null;
        this.files = null;
        this.chunks = null;
        this.chunkBytes = 0;
        this.durability = () -> { };
        this.clock = Clock.systemUTC();
    }

    EmailPayloadStore(String uri, int chunkBytes, Duration timeout, EmailPayloadDurability durability, Clock clock) {
        ConnectionString connection = new ConnectionString(uri);
        MongoClientSettings settings = MongoClientSettings.builder().applyConnectionString(connection)
                .applyToClusterSettings(b -> b.serverSelectionTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS))
                .applyToSocketSettings(b -> b.connectTimeout((int) timeout.toMillis(), TimeUnit.MILLISECONDS)
                        .readTimeout((int) Math.max(timeout.toMillis(), 30_000), TimeUnit.MILLISECONDS))
                .build();
        this.client = MongoClients.create(settings);
        // the same database as the router's (Spring Boot also takes "test" when the URI names none)
        String database = connection.getDatabase() == null ? "test" : connection.getDatabase();
        WriteConcern majority = WriteConcern.MAJORITY.withWTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        this.files = client.getDatabase(database).getCollection(FILES).withWriteConcern(majority);
        this.chunks = client.getDatabase(database).getCollection(CHUNKS).withWriteConcern(majority);
        this.chunkBytes = chunkBytes;
        this.durability = durability;
        this.clock = clock;
    }

    boolean configured() {
        return client != null;
    }

    /**
     * Stores the bytes (unless already complete) and returns the reference to publish.
     *
     * @throws UnavailableException the store could not confirm the write: publish nothing, flag nothing, retry later
     */
    PayloadReference put(byte[] bytes, String contentType) {
        if (!configured()) {
            throw new IllegalStateException("no payload store configured");
        }
        String sha256 = sha256(bytes);
        PayloadReference ref = new PayloadReference(PayloadReference.STORE_RAW_PAYLOADS, sha256, bytes.length, sha256, contentType);
        try {
            Document existing = files.find(Filters.eq("_id", sha256)).first();
            if (existing == null || !(existing.get("size") instanceof Number n) || n.longValue() != bytes.length) {
                int count = Math.max(1, (bytes.length + chunkBytes - 1) / chunkBytes);
                ReplaceOptions upsert = new ReplaceOptions().upsert(true);
                for (int i = 0; i < count; i++) {
                    byte[] data = Arrays.copyOfRange(bytes, i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes));
                    String id = sha256 + ":" + i;
                    chunks.replaceOne(Filters.eq("_id", id), new Document("_id", id).append("filesId", sha256).append("n", i)
                            .append("data", new Binary(data)), upsert);
                }
                durability.commit();
                // written last: its presence means every chunk is in place
                files.replaceOne(Filters.eq("_id", sha256), new Document("_id", sha256).append("size", (long) bytes.length)
                        .append("sha256", sha256).append("contentType", contentType).append("chunkSize", chunkBytes)
                        .append("chunkCount", count).append("createdAt", Date.from(clock.instant())), upsert);
                durability.commit();
            }
            stored.incrementAndGet();
            lastStoredAt = clock.instant();
            lastError = null;
            return ref;
        } catch (MongoException | IllegalStateException e) {
            // no URI in the reason: it may carry credentials
            lastError = e.getClass().getSimpleName() + " at " + clock.instant();
            log.warn("payload store: storing a {}-byte message failed ({}); it stays unflagged and is retried",
                    bytes.length, e.getClass().getSimpleName());
            throw new UnavailableException("payload store unavailable: " + e.getClass().getSimpleName(), e);
        }
    }

    /** Health details of the store (never its URI). */
    java.util.Map<String, Object> status() {
        java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
        d.put("configured", configured());
        if (!configured()) {
            d.put("largeMessages", "published in reduced form (no payload store configured)");
            return d;
        }
        d.put("store", PayloadReference.STORE_RAW_PAYLOADS);
        d.put("stored", stored.get());
        d.put("lastStoredAt", lastStoredAt == null ? null : lastStoredAt.toString());
        if (lastError != null) {
            d.put("lastError", lastError);
        }
        return d;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void destroy() {
        if (client != null) {
            client.close();
        }
    }

    /** The store did not confirm a write; nothing may be published or flagged for that message. */
    static final class UnavailableException extends RuntimeException {
        UnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
