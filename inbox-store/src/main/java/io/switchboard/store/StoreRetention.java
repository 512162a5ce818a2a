package io.switchboard.store;

import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.index.Index;
import org.springframework.data.mongodb.core.index.IndexInfo;
import org.springframework.data.mongodb.core.query.Query;

import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Data that may expire, each opt-in by a retention period (unset = kept forever): the admin audit
 * trail ({@code audit}, by {@code at}) and finished replay requests ({@code replays}, by
 * {@code finishedAt}). On real MongoDB a TTL index lets the server delete them; on the embedded
 * store (TTL indexes are accepted but nothing expires) {@link #cleanUp()} deletes them, run hourly.
 *
 * <p>Never expired: idempotency keys ({@code messageKeys}, {@code threadKeys}), identities, SLA
 * firing claims. They guard against duplicates when Kafka replays old records, so they must live
 * as long as the topics' retention or longer.
 */
public final class StoreRetention {

    private static final Logger log = LoggerFactory.getLogger(StoreRetention.class);
    /** Name of our TTL indexes, {@code ttl_<field>}, so a changed period replaces its own index only. */
    static final String INDEX_PREFIX = "ttl_";

    /**
     * Retention periods ({@code switchboard.store.retention.*}, ISO-8601 or 30d; unset = forever).
     *
     * @param audit   admin audit entries (env SWITCHBOARD_STORE_RETENTION_AUDIT)
     * @param replays finished replay requests (env SWITCHBOARD_STORE_RETENTION_REPLAYS)
     */
    @ConfigurationProperties("switchboard.store.retention")
    public record Periods(Duration audit, Duration replays) {
    }

    /** Collection, date field and period of each expiring kind that has a period. */
    record Rule(String collection, String field, Duration after) {
    }

    private final MongoTemplate mongo;
    private final StoreFeatures features;
    private final Clock clock;
    private final Map<String, Rule> rules = new LinkedHashMap<>();

    public StoreRetention(MongoTemplate mongo, StoreFeatures features, Periods periods, Clock clock) {
        this.mongo = mongo;
        this.features = features;
        this.clock = clock;
        add("audit", "at", periods == null ? null : periods.audit());
        add("replays", "finishedAt", periods == null ? null : periods.replays());
    }

    private void add(String collection, String field, Duration after) {
        if (after != null && !after.isZero() && !after.isNegative()) {
            rules.put(collection, new Rule(collection, field, after));
        }
    }

    Map<String, Rule> rules() {
        return rules;
    }

    /** Whether the hourly cleanup has work: something expires and the server does not do it. */
    public boolean needsCleanup() {
        return !rules.isEmpty() && !features.ttlIndexes();
    }

    /** On real MongoDB: one TTL index per rule, replaced when its period changed. */
    void ensureIndexes() {
        if (!features.ttlIndexes()) {
            return;
        }
        for (Rule rule : rules.values()) {
            String name = INDEX_PREFIX + rule.field();
            var ops = mongo.indexOps(rule.collection());
            for (IndexInfo existing : ops.getIndexInfo()) {
                if (existing.getName().equals(name) && !existing.getExpireAfter().map(rule.after()::equals).orElse(false)) {
                    ops.dropIndex(name);
                }
            }
            ops.createIndex(new Index().on(rule.field(), Sort.Direction.ASC).named(name).expire(rule.after()));
            log.info("store: {} expire {} after {} (TTL index)", rule.collection(), rule.field(), rule.after());
        }
    }

    /** Deletes what has expired; the embedded store's stand-in for TTL indexes. Returns the number deleted. */
    public long cleanUp() {
        long deleted = 0;
        for (Rule rule : rules.values()) {
            Date before = Date.from(clock.instant().minus(rule.after()));
            deleted += mongo.remove(Query.query(where(rule.field()).lt(before)), Document.class, rule.collection()).getDeletedCount();
        }
        if (deleted > 0) {
            log.info("store: deleted {} expired document(s)", deleted);
        }
        return deleted;
    }
}
