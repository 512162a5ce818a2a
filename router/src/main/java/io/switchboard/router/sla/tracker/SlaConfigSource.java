package io.switchboard.router.sla.tracker;

import io.switchboard.contract.ContractJson;
import io.switchboard.router.sla.SlaConfig;
import io.switchboard.router.sla.SlaEngine;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Sort;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.stereotype.Component;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SLA configurations by version: 0 is the built-in 24/7 policy from the environment, higher ones are
 * what admins stored with {@code PUT /api/admin/sla} (collection {@code slaConfigs}, never changed once
 * written, so a version parses once and is cached for good).
 */
@Component
class SlaConfigSource {

    private static final Logger log = LoggerFactory.getLogger(SlaConfigSource.class);

    private final MongoTemplate mongo;
    private final SlaConfig builtIn;
    private final Map<Long, SlaConfig> parsed = new ConcurrentHashMap<>();
    /** The newest configuration as last read, and when (System.nanoTime()): see {@link #CURRENT_FOR_NANOS}. */
    private volatile SlaConfig current;
    private volatile long currentReadAt;
    /**
     * How long the newest configuration is taken as still the newest without asking the store: every
     * tracked change needs it, and reading it each time was a sorted query per conversation event.
     * An admin's change applies to conversations changing after this delay.
     */
    static final long CURRENT_FOR_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

    SlaConfigSource(MongoTemplate mongo, SlaTrackerProperties props) {
        this.mongo = mongo;
        this.builtIn = SlaConfig.defaults(props.firstResponse(), props.nextResponse(), props.resolution());
    }

    /** {@link SlaEngine#CURRENT} gives the newest; an unknown or unreadable version gives the built-in one. */
    SlaConfig config(long version) {
        if (version == SlaEngine.CURRENT) {
            SlaConfig cached = current;
            long now = System.nanoTime();
            if (cached != null && now - currentReadAt < CURRENT_FOR_NANOS) {
                return cached;
            }
            Document newest = mongo.findOne(new Query().with(Sort.by(Sort.Direction.DESC, "_id")).limit(1), Document.class,
                    SlaDocuments.CONFIGS);
            SlaConfig fresh = newest == null ? builtIn : parse(newest);
            current = fresh;
            currentReadAt = now;
            return fresh;
        }
        if (version <= 0) {
            return builtIn;
        }
        SlaConfig known = parsed.get(version);
        if (known != null) {
            return known;
        }
        Document d = mongo.findById(version, Document.class, SlaDocuments.CONFIGS);
        return d == null ? builtIn : parse(d);
    }

    @SuppressWarnings("unchecked")
    private SlaConfig parse(Document d) {
        long version = ((Number) d.get("_id")).longValue();
        return parsed.computeIfAbsent(version, v -> {
            try {
                return SlaConfig.parse(v, ContractJson.mapper().readValue(d.getString("json"), Map.class));
            } catch (RuntimeException e) {
                // inbox-api validated it before storing; a newer API may know more than this router
                log.warn("SLA configuration version {} is unusable here, using the built-in policy: {}", v, e.getMessage());
                return new SlaConfig(v, builtIn.policies());
            }
        });
    }
}
