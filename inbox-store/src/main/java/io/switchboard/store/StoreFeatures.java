package io.switchboard.store;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.mongodb.core.MongoTemplate;

/**
 * What the server behind {@code spring.mongodb.uri} can do beyond the common subset the embedded
 * store (mongo-java-server) implements, detected once at startup from {@code buildInfo}: a real
 * {@code mongod} names its git commit ({@code gitVersion}), the embedded server does not. Real
 * MongoDB gets a text index for the queue search and TTL indexes for expiring data; the embedded
 * store keeps the substring scan and the scheduled cleanup ({@link StoreRetention}).
 *
 * <p>{@code switchboard.store.mongodb-features=off} forces the embedded behaviour on any server
 * (e.g. a MongoDB-compatible service without {@code $text}).
 */
public final class StoreFeatures {

    private static final Logger log = LoggerFactory.getLogger(StoreFeatures.class);

    /** No feature beyond the embedded subset: what tests and the standalone mode run with. */
    public static final StoreFeatures EMBEDDED = new StoreFeatures(false, null);

    private final boolean realMongo;
    private final String version;
    private volatile boolean textSearch;

    StoreFeatures(boolean realMongo, String version) {
        this.realMongo = realMongo;
        this.version = version;
        this.textSearch = realMongo;
    }

    /** Asks the server; anything unexpected means "embedded subset only". */
    public static StoreFeatures detect(MongoTemplate mongo, boolean enabled) {
        if (!enabled) {
            log.info("store: MongoDB-only features turned off (switchboard.store.mongodb-features=off)");
            return EMBEDDED;
        }
        try {
            Document info = mongo.getMongoDatabaseFactory().getMongoDatabase("admin").runCommand(new Document("buildInfo", 1));
            Object git = info.get("gitVersion");
            boolean real = git instanceof String s && !s.isBlank();
            String version = String.valueOf(info.get("version"));
            log.info("store: {} {} ({})", real ? "MongoDB" : "MongoDB-compatible server", version,
                    real ? "text search and TTL indexes in use" : "substring search and scheduled cleanup");
            return new StoreFeatures(real, version);
        } catch (RuntimeException e) {
            log.warn("store: could not ask the server for its build ({}); using the embedded subset only", e.toString());
            return EMBEDDED;
        }
    }

    /** A real {@code mongod} (not the embedded mongo-java-server). */
    public boolean realMongo() {
        return realMongo;
    }

    /** The queue's {@code q=} uses {@code $text} on the conversations' text index. */
    public boolean textSearch() {
        return textSearch;
    }

    /** Expiry by TTL index (the server deletes); otherwise by {@link StoreRetention}'s cleanup. */
    public boolean ttlIndexes() {
        return realMongo;
    }

    /** The server's version, as reported ({@code null} if not asked). */
    public String version() {
        return version;
    }

    /** The text index could not be built or queried: fall back to the substring scan. */
    void disableTextSearch(String why) {
        if (textSearch) {
            log.warn("store: text search unavailable, falling back to substring search: {}", why);
        }
        textSearch = false;
    }
}
